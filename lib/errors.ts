/**
 * Errors a peer can cause. A {@link ProtocolError} ends that one connection,
 * never the process.
 *
 * @module
 */

/** What went wrong, independent of the protocol. */
export type ProtocolErrorCode =
  | "truncated"
  | "malformed"
  | "limit"
  | "unsupported"
  | "sequence";

/** Options of {@link ProtocolError}. */
export interface ProtocolErrorOptions extends ErrorOptions {
  protocol:
    | "rtmp"
    | "rtsp"
    | "rtp"
    | "sdp"
    | "amf"
    | "flv"
    | "codec"
    | "http"
    | "mp4";
  code: ProtocolErrorCode;
}

/** A peer broke the protocol: ends that one connection, nothing else. */
export class ProtocolError extends Error {
  readonly protocol: ProtocolErrorOptions["protocol"];
  readonly code: ProtocolErrorCode;
  constructor(message: string, options: ProtocolErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
    this.protocol = options.protocol;
    this.code = options.code;
  }
}
