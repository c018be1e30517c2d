/**
 * Who may do what: the stream path a request URL names, and whether the
 * authenticator lets the client read or publish it with the credentials it
 * sent (Basic, Digest, `Authorization: Bearer` or `?jwt=` in the URL).
 *
 * @module
 */

import {
  type Authenticator,
  authenticatorOf,
  type AuthRequest,
} from "../../auth/authenticator.ts";
import type { AuthAction } from "../../auth/credentials.ts";
import { isValidPath } from "../../path.ts";
import { parseAuthorization } from "../../rtsp/headers/auth.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { rtspPath } from "../../rtsp/url.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { Refusal } from "./reply.ts";

/**
 * The user the request is allowed as (`any` when anyone may); otherwise a
 * 401 with challenges (Digest only when every password is one Sluice holds
 * in clear: a hashed or external one needs Basic). On a link Sluice opened
 * to REGISTER a path at another server, that server reads the registered
 * path without credentials (Sluice chose to send it there) and may do
 * nothing else: 403.
 *
 * @throws {RtspError} for a malformed `Authorization` (answered with 400)
 */
export async function authorize(
  server: Pick<ServerContext, "config" | "auth" | "authenticator">,
  conn: Pick<ConnectionContext, "log" | "registeredPath"> & {
    remoteHostname?: string;
  },
  req: RtspRequest,
  path: string,
  action: AuthAction,
): Promise<string> {
  if (conn.registeredPath !== undefined) {
    if (action === "read" && path === conn.registeredPath) return "any";
    throw new Refusal(403, `only ${conn.registeredPath} is read on this link`);
  }
  const auth = server.authenticator ?? authenticatorOf(server.config);
  const url = queryLast(req.url);
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  const request: AuthRequest = {
    action,
    path,
    protocol: "rtsp",
    ip: conn.remoteHostname ?? "",
    query,
    token: new URLSearchParams(query).get("jwt") ?? undefined,
  };
  let stale = false;
  const header = req.headers.getOne("Authorization");
  if (header !== undefined && /^bearer\s/i.test(header)) {
    request.token = header.slice(6).trim();
  } else if (header !== undefined) {
    const creds = parseAuthorization(header);
    if (creds.scheme === "Basic") {
      request.user = creds.username;
      request.pass = creds.password;
    } else {
      const answer = server.auth.digest(req, creds);
      if (answer.ok) {
        request.user = creds.username;
        request.digest = answer.verify;
      } else {
        // Not an answer to a challenge of ours: as if none came.
        stale = answer.stale;
      }
    }
  }
  const d = await auth.authorize(request);
  if (d.ok) {
    conn.log.debug("authorized", {
      path,
      action,
      user: d.user,
      scheme: request.digest !== undefined
        ? "Digest"
        : request.pass !== undefined
        ? "Basic"
        : request.token !== undefined
        ? "Bearer"
        : "none",
    });
    return d.user;
  }
  conn.log.info("authentication failed", { path, action, reason: d.reason });
  const challenges = server.auth.challenges({
    digest: auth.digestUsable,
    stale,
  });
  throw new Refusal(
    401,
    d.reason,
    challenges.map((c): [string, string] => ["WWW-Authenticate", c]),
  );
}

/** The authenticator a server is given, as RTSP uses it. */
export type RtspAccess = Pick<Authenticator, "authorize" | "digestUsable">;

/**
 * `rtsp://h/live/a?jwt=T/trackID=0` as `rtsp://h/live/a/trackID=0?jwt=T`:
 * ffmpeg appends a track's relative control to a Content-Base that holds a
 * query (`?jwt=`, `?user=`), so the track lands after the query.
 */
export function queryLast(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const slash = url.indexOf("/", q);
  if (slash < 0) return url;
  const rest = url.slice(slash);
  return `${url.slice(0, q)}${rest === "/" ? "/" : rest}${url.slice(q, slash)}`;
}

/** The stream path a request URL names; 400 when it names none. */
export function pathOf(url: string): string {
  const path = rtspPath(queryLast(url));
  if (path === undefined || !isValidPath(path)) {
    throw new Refusal(400, `cannot read a path from the URL`);
  }
  return path;
}
