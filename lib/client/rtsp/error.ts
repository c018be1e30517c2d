/**
 * The RTSP client's one error: which step failed and the server's status,
 * shared by the connection, SETUP, SRTP keys and REGISTER.
 *
 * @module
 */

/** A request the server refused or that could not finish. */
export class RtspClientError extends Error {
  /** The step that failed: "connect", "OPTIONS", "DESCRIBE", "SETUP", "PLAY", … */
  readonly step: string;
  /** The server's status, when it answered. */
  readonly status: number | undefined;
  constructor(step: string, message: string, status?: number) {
    super(`Cannot ${step}: ${message}`);
    this.name = "RtspClientError";
    this.step = step;
    this.status = status;
  }
}
