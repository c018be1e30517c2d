/**
 * Who may do what: the stream path a request URL names, and the
 * credentials a path asks for reading or publishing.
 *
 * @module
 */

import {
  type AuthAction,
  requiredCredentials,
} from "../../auth/credentials.ts";
import { isValidPath } from "../../path.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { rtspPath } from "../../rtsp/url.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { Refusal } from "./reply.ts";

/**
 * 401 with challenges unless the request carries the credentials the path
 * needs. On a link Sluice opened to REGISTER a path at another server, that
 * server reads the registered path without credentials (Sluice chose to
 * send it there) and may do nothing else: 403.
 */
export function authorize(
  server: Pick<ServerContext, "config" | "auth">,
  conn: Pick<ConnectionContext, "log" | "registeredPath">,
  req: RtspRequest,
  path: string,
  action: AuthAction,
): void {
  if (conn.registeredPath !== undefined) {
    if (action === "read" && path === conn.registeredPath) return;
    throw new Refusal(403, `only ${conn.registeredPath} is read on this link`);
  }
  const required = requiredCredentials(server.config.paths, path, action);
  if (required === undefined) return;
  const result = server.auth.check(req, required);
  if (result.ok) return;
  conn.log.info("authentication failed", {
    path,
    action,
    reason: result.reason,
  });
  throw new Refusal(
    401,
    result.reason,
    result.challenges.map((c): [string, string] => ["WWW-Authenticate", c]),
  );
}

/** The stream path a request URL names; 400 when it names none. */
export function pathOf(url: string): string {
  const path = rtspPath(url);
  if (path === undefined || !isValidPath(path)) {
    throw new Refusal(400, `cannot read a path from the URL`);
  }
  return path;
}
