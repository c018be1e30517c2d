/**
 * What the relay loop and the connections of one pull or push share: a
 * relay's state, the handle a connection closes it through, and what a
 * connection returns once it runs.
 *
 * @module
 */

/** What a relay is doing now. */
export type RelayStatus = "idle" | "connecting" | "running" | "retrying";

/** A relay's state, for logs and the API. */
export interface RelayState {
  /** The path the relay fills or republishes. */
  path: string;
  /** A pull fills the path from `url`; a push sends the path to it. */
  kind: "pull" | "push";
  /** The remote URL, without credentials. */
  url: string;
  /** What the relay is doing now. */
  status: RelayStatus;
  /** Why the last connection failed or ended. */
  lastError?: string;
  /** When the status last changed (ms since the epoch). */
  since: number;
  /** Connections made so far. */
  attempts: number;
}

/** The part of a relay one connection works on. */
export interface RelayHandle {
  /** Its state: a connection reads the path and may note an error. */
  readonly state: RelayState;
  /**
   * Closes the current connection (the loop then retries unless stopped);
   * each connection sets it as soon as it has something to close.
   */
  closeCurrent?: () => void;
}

/**
 * A relay's connection once it runs; `ended` settles when it stops (wrapped:
 * `await` would flatten a bare promise).
 */
export interface Connected {
  /** Settles when the connection stops, for whatever reason. */
  ended: Promise<void>;
}

/** The timeout of every step of a connection when none is configured. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A URL without its user name and password, for logs and the API; in a
 * text (an error message quoting a URL) every URL loses them.
 */
export function redact(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^@/\s"']*@/gi, "$1");
}
