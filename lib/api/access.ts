/**
 * Who may use the REST API and the metrics. Routes ask one question,
 * {@link Authorize}, and the authenticator answers it; until users with
 * the `api` or `metrics` permission are configured the answer is
 * {@link loopbackOnly}: this machine may, nobody else.
 *
 * @module
 */

/** What a request wants: the REST API or the metrics. */
export type AccessAction = "api" | "metrics";

/** One request to decide on. */
export interface AccessRequest {
  action: AccessAction;
  request: Request;
  /** The peer's address, as the socket says (not a forwarded header). */
  remote: Deno.NetAddr;
}

/** The answer: allowed, or refused with 401 (credentials wanted), 403, or 429 (too many failures). */
export type AccessVerdict =
  | { allowed: true; user?: string }
  | {
    allowed: false;
    status: 401 | 403 | 429;
    detail: string;
    /** `WWW-Authenticate` to send with a 401. */
    challenge?: string;
  };

/** Decides whether a request may go on; the authenticator of Sluice implements it. */
export type Authorize = (
  request: AccessRequest,
) => AccessVerdict | Promise<AccessVerdict>;

/** Whether `hostname` is a loopback address (127.0.0.0/8, ::1, or 127.x mapped in IPv6). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice("::ffff:".length) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Whether a `Host` header names this machine's loopback: `localhost` or a loopback address, any port. */
export function isLoopbackHost(host: string | null): boolean {
  if (host === null) return false;
  const h = host.trim().toLowerCase();
  const name = h.startsWith("[")
    ? h.slice(1, h.indexOf("]"))
    : h.replace(/:\d*$/, "");
  return name === "localhost" || name.endsWith(".localhost") ||
    isLoopback(name);
}

/**
 * The default when no user has the permission: loopback clients are
 * allowed, every other address gets 403. The `Host` must name the loopback
 * too: a web page whose own name was re-pointed at 127.0.0.1 (DNS
 * rebinding) would otherwise reach the API through a local browser.
 */
export function loopbackOnly(): Authorize {
  return function loopbackOnly({ remote, action, request }) {
    const what = action === "api" ? "The API" : "Metrics";
    if (!isLoopback(remote.hostname)) {
      return {
        allowed: false,
        status: 403,
        detail:
          `${what} answer loopback clients only until users with the "${action}" permission are configured`,
      };
    }
    const host = request.headers.get("Host");
    if (!isLoopbackHost(host)) {
      return {
        allowed: false,
        status: 403,
        detail:
          `${what} answer requests for localhost or a loopback address only, not Host "${
            (host ?? "").slice(0, 64)
          }"`,
      };
    }
    return { allowed: true };
  };
}
