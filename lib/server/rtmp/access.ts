/**
 * Whether a `publish` or `play` may go on: the path its app and stream name
 * stand for, the credentials the path asks, and the error status that
 * refuses it.
 *
 * @module
 */

import { authenticatorOf } from "../../auth/authenticator.ts";
import type { SessionInfo } from "../../events/events.ts";
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
 * The path `name` names and the user who may `action` it (`any` when
 * anyone may); otherwise the client gets the error status and the
 * connection closes.
 */
export async function admit(
  session: CommandSession,
  name: string,
  streamId: number,
  action: "read" | "publish",
  codes: RefusalCodes,
): Promise<{ path: string; user: string; session: SessionInfo } | undefined> {
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
  const query = name.includes("?")
    ? name.slice(name.indexOf("?") + 1)
    : session.state.appQuery;
  const user = await authorized(session, path, action, query);
  if (session.closing) return undefined;
  if (user === undefined) {
    refuse(
      session,
      streamId,
      codes.denied,
      "Authentication failed",
      "authentication failed",
    );
    return undefined;
  }
  return {
    path,
    user,
    session: {
      id: session.id ?? "",
      protocol: "rtmp",
      remoteAddress: session.remoteHostname ?? "",
      query,
    },
  };
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
 * Whether the authenticator lets the client `action` the path, with the
 * credentials in the stream name's query (`cam1?user=u&pass=p` or
 * `cam1?jwt=…`) or else the app's (`live?user=u&pass=p`, from the tcUrl).
 */
async function authorized(
  session: CommandSession,
  path: string,
  action: "read" | "publish",
  query: string,
): Promise<string | undefined> {
  const params = new URLSearchParams(query);
  const auth = session.auth ?? authenticatorOf(session.config);
  const d = await auth.authorize({
    action,
    path,
    protocol: "rtmp",
    ip: session.remoteHostname ?? "",
    user: params.get("user") ?? undefined,
    pass: params.get("pass") ?? undefined,
    token: params.get("jwt") ?? undefined,
    query,
    id: session.id,
  });
  if (!d.ok) {
    session.log.info("authentication failed", {
      path,
      action,
      reason: d.reason,
    });
  }
  return d.ok ? d.user : undefined;
}
