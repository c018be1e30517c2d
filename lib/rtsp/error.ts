/**
 * The error of the RTSP stages and header parsers: a {@link ProtocolError}
 * that also names the status a server answers with, when one is possible.
 *
 * @module
 */
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

/** Options of {@link RtspError}. */
export interface RtspErrorOptions extends ErrorOptions {
  /** What went wrong, independent of the protocol. */
  code: ProtocolErrorCode;
  /** The status to answer a request with (RFC 2326 §7.1.1), if a reply is possible. */
  status?: number;
}

/**
 * A peer broke RTSP. `status` is the answer for a request (400 Bad Request,
 * 413, 414, 461 Unsupported Transport, 505 …); it is `undefined` when no
 * answer fits (a broken interleaved frame, a broken response). Either way the
 * connection is closed after the answer: the byte stream lost its framing.
 */
export class RtspError extends ProtocolError {
  /** The status to answer with, or `undefined` when no answer fits. */
  readonly status: number | undefined;
  constructor(message: string, options: RtspErrorOptions) {
    super(message, {
      protocol: "rtsp",
      code: options.code,
      cause: options.cause,
    });
    this.name = "RtspError";
    this.status = options.status;
  }
}

/** An {@link RtspError} reading "Cannot <action>: <detail>". */
export function rtspError(
  action: string,
  code: ProtocolErrorCode,
  detail: string,
  status?: number,
): RtspError {
  return new RtspError(`Cannot ${action}: ${detail}`, { code, status });
}

/** Quotes a peer's text for an error message, cut short so a huge value cannot flood a log line. */
export function quote(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
