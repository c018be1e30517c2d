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
  /**
   * A pull fills the path from `url`; a push sends the path to it; a
   * register offers the path to the server at `url` (REGISTER) over our
   * own connection; a registered one fills the path from a stream another
   * side REGISTERed here.
   */
  kind: "pull" | "push" | "register" | "registered";
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

/** A relay as {@link relayLoop} runs it. */
export interface LoopRelay extends RelayHandle {
  /** Set to end the loop. */
  stopped: boolean;
  /** Ends the backoff wait at once, so a stopped relay's loop returns. */
  wake?: () => void;
}

/** Options of {@link relayLoop}. */
export interface RelayLoopOptions {
  /** First retry delay; it doubles up to `maxBackoffMs`. @default {1000} */
  backoffMs?: number;
  /** The longest retry delay. @default {30000} */
  maxBackoffMs?: number;
  /** Every status change (the caller logs it and keeps it in the state). */
  set(status: RelayStatus, error?: unknown): void;
}

/**
 * Runs `connect` again and again with backoff until `r` is stopped; the
 * delay starts over once a connection ran.
 */
export async function relayLoop(
  r: LoopRelay,
  connect: () => Promise<Connected>,
  o: RelayLoopOptions,
): Promise<void> {
  const first = o.backoffMs ?? 1000;
  let backoff = first;
  while (!r.stopped) {
    r.state.attempts++;
    o.set("connecting");
    let failure: unknown;
    try {
      const { ended } = await connect();
      if (r.stopped) break;
      o.set("running");
      backoff = first;
      await ended;
      failure = new Error("the remote side ended the stream");
    } catch (e) {
      failure = e;
    }
    r.closeCurrent?.();
    if (r.stopped) break;
    o.set("retrying", failure);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, backoff);
      r.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    backoff = Math.min(backoff * 2, o.maxBackoffMs ?? 30_000);
  }
}
