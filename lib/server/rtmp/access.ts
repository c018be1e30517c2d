/**
 * Whether a `publish` or `play` may go on: the path its app and stream name
 * stand for, the credentials the path asks, and the error status that
 * refuses it.
 *
 * @module
 */

import {
  checkQueryCredentials,
  requiredCredentials,
} from "../../auth/credentials.ts";
import { ProtocolError } from "../../errors.ts";
import { isValidPath } from "../../path.ts";
import { statusMessage } from "../../rtmp/status.ts";
import { rtmpPath } from "../../rtmp/url.ts";
import type { CommandSession } from "./context.ts";

/** The error codes a refused `publish` or `play` gets. */
export interface RefusalCodes {
  /** The stream name names no valid path. */
  invalid: string;
  /** The credentials the path asks are missing or wrong. */
  denied: string;
}

/**
 * The path `name` names when it is valid and the client may `action` it;
 * otherwise the client gets the error status and the connection closes.
 */
export function admit(
  session: CommandSession,
  name: string,
  streamId: number,
  action: "read" | "publish",
  codes: RefusalCodes,
): string | undefined {
  const path = rtmpPath(session.state.app, name);
  if (path === undefined || !isValidPath(path)) {
    refuse(
      session,
      streamId,
      codes.invalid,
      `Invalid stream name "${name.slice(0, 64)}"`,
      "invalid stream name",
    );
    return undefined;
  }
  if (!authorized(session, path, action, name)) {
    refuse(
      session,
      streamId,
      codes.denied,
      "Authentication failed",
      "authentication failed",
    );
    return undefined;
  }
  return path;
}

/** An error status for the stream; with `closeReason`, the connection ends after it. */
export function refuse(
  session: CommandSession,
  streamId: number,
  code: string,
  description: string,
  closeReason?: string,
): void {
  session.send(statusMessage(streamId, "error", code, description));
  if (closeReason !== undefined) void session.close(closeReason);
}

/**
 * Refuses a stream command before `connect`.
 *
 * @throws {ProtocolError} `sequence` when `connect` has not been answered
 */
export function requireConnected(session: CommandSession): void {
  if (session.state.phase === "connecting") {
    throw new ProtocolError("Cannot publish or play before connect", {
      protocol: "rtmp",
      code: "sequence",
    });
  }
}

/**
 * Whether the stream name's query (`cam1?user=u&pass=p`), or the app's
 * (`live?user=u&pass=p`, from the tcUrl), carries the credentials the path
 * needs for `action`.
 */
function authorized(
  session: CommandSession,
  path: string,
  action: "read" | "publish",
  name: string,
): boolean {
  const required = requiredCredentials(session.config.paths, path, action);
  if (required === undefined) return true;
  const query = name.includes("?")
    ? name.slice(name.indexOf("?") + 1)
    : session.state.appQuery;
  const ok = checkQueryCredentials(query, required);
  if (!ok) session.log.info("authentication failed", { path, action });
  return ok;
}
