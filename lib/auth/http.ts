/**
 * The authenticator for HTTP routes (HTTP-FLV, HLS, playback, the API,
 * metrics): credentials from `Authorization: Basic`, `Authorization: Bearer`
 * or the query (`user`, `pass`, `jwt`), and the answer a refused request
 * gets: 401 with a Basic challenge, 429 while the address is blocked.
 *
 * @module
 */
import type {
  AuthAction,
  Authenticator,
  AuthRequest,
} from "./authenticator.ts";

/** What an HTTP route knows of a request. */
export interface HttpAuthInput {
  action: AuthAction;
  /** The stream path; `""` for the API and metrics. */
  path: string;
  /** The client's address. */
  ip: string;
  /** @default {"http"} */
  protocol?: string;
  id?: string;
}

/** The realm of HTTP Basic challenges. */
export const HTTP_REALM = "Sluice";

/** The credentials of an HTTP request, as {@link AuthRequest} fields. */
export type HttpCredentials = Pick<
  AuthRequest,
  "user" | "pass" | "token" | "query"
>;

/** The credentials a request carries, as {@link AuthRequest} fields. */
export function httpCredentials(request: Request): HttpCredentials {
  const url = new URL(request.url);
  return credentialsOf(
    url.searchParams,
    url.search.slice(1),
    request.headers.get("Authorization") ?? undefined,
  );
}

/**
 * The credentials of a request read off the wire: its parsed `query`, the
 * query as sent (`raw`, without `?`) and its `Authorization` value.
 */
export function credentialsOf(
  query: URLSearchParams,
  raw: string,
  authorization: string | undefined,
): HttpCredentials {
  let user = query.get("user") ?? undefined;
  let pass = query.get("pass") ?? undefined;
  let token = query.get("jwt") ?? undefined;
  const header = authorization ?? "";
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer" && value !== "") token = value;
  if (scheme === "basic") {
    try {
      const text = new TextDecoder().decode(
        Uint8Array.from(atob(value), (c) => c.charCodeAt(0)),
      );
      const colon = text.indexOf(":");
      if (colon >= 0) {
        user = text.slice(0, colon);
        pass = text.slice(colon + 1);
      }
    } catch {
      // not base64: no credentials
    }
  }
  return { user, pass, token, query: raw };
}

/**
 * `undefined` when `request` (or the credentials it carries) may do
 * `input.action` on `input.path`;
 * otherwise the response that refuses it.
 *
 * @example Guarding a hono route
 * ```ts ignore
 * app.get("/metrics", async (c) =>
 *   await authorizeRequest(auth, c.req.raw, { action: "metrics", path: "", ip }) ??
 *     c.text(await registry.metrics()));
 * ```
 */
export async function authorizeRequest(
  auth: Pick<Authenticator, "authorize">,
  request: Request | HttpCredentials,
  input: HttpAuthInput,
): Promise<Response | undefined> {
  const d = await auth.authorize({
    ...(request instanceof Request ? httpCredentials(request) : request),
    action: input.action,
    path: input.path,
    ip: input.ip,
    protocol: input.protocol ?? "http",
    id: input.id,
  });
  if (d.ok) return undefined;
  if (d.limited) {
    return new Response("Too many failed logins\n", {
      status: 429,
      headers: { "Retry-After": "10", "Content-Type": "text/plain" },
    });
  }
  return new Response("Unauthorized\n", {
    status: 401,
    headers: {
      "WWW-Authenticate": `Basic realm="${HTTP_REALM}"`,
      "Content-Type": "text/plain",
    },
  });
}
