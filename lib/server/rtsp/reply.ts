/**
 * Answers of the RTSP server: a reply, a refusal, and the one function that
 * turns any error a request raised into the RTSP answer it gets.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import { RtspError } from "../../rtsp/error.ts";
import { stringifySession } from "../../rtsp/headers/session.ts";

/** Header fields of a reply: a record, or pairs when a name repeats (WWW-Authenticate). */
export type ReplyHeaders = Record<string, string> | [string, string][];

/** What a method answers. */
export interface Reply {
  status: number;
  headers?: ReplyHeaders;
  body?: string;
  /** Runs once the reply is queued: media must not go out before the PLAY answer (ffmpeg drops it). */
  after?: () => void;
}

/** A failed request: the status to answer with. */
export class Refusal extends Error {
  readonly status: number;
  readonly headers: ReplyHeaders;
  constructor(status: number, message: string, headers: ReplyHeaders = {}) {
    super(message);
    this.name = "Refusal";
    this.status = status;
    this.headers = headers;
  }
}

/** The answer an error gets, and whether the peer broke the protocol. */
export interface ErrorAnswer {
  /**
   * The status the error names; none for a broken protocol that names none
   * (a request answers those with 400; a framing error gets no answer).
   */
  status: number | undefined;
  headers: ReplyHeaders;
  message: string;
  protocolError: boolean;
}

/**
 * The RTSP answer to `e`: a refusal's own status, a malformed message's
 * (RtspError) when it names one, and for any other protocol violation
 * none. Anything else is Sluice's own bug and gives `undefined`.
 */
export function answerOf(e: unknown): ErrorAnswer | undefined {
  if (e instanceof Refusal) {
    return {
      status: e.status,
      headers: e.headers,
      message: e.message,
      protocolError: false,
    };
  }
  if (e instanceof RtspError) {
    return {
      status: e.status,
      headers: {},
      message: e.message,
      protocolError: true,
    };
  }
  if (e instanceof ProtocolError) {
    return {
      status: undefined,
      headers: {},
      message: e.message,
      protocolError: true,
    };
  }
  return undefined;
}

/** `Session: id;timeout=N` for replies of a session. */
export function sessionHeader(
  server: { config: { rtspSessionTimeout: number } },
  s: { id: string } | undefined,
): Record<string, string> {
  if (s === undefined) return {};
  return {
    Session: stringifySession({
      id: s.id,
      timeout: Math.round(server.config.rtspSessionTimeout / 1000),
    }),
  };
}
