/**
 * The error a refused publish or a read of a missing path throws.
 *
 * @module
 */

/** Why a publish or read failed. */
export type HubErrorCode = "busy" | "not-found";

/** A publish refused because the path is busy, or a read of a path nobody publishes. */
export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly path: string;
  constructor(message: string, code: HubErrorCode, path: string) {
    super(message);
    this.name = "HubError";
    this.code = code;
    this.path = path;
  }
}
