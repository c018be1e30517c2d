/**
 * The one timeout of an HTTP/1.1 connection, re-armed for every exchange
 * without a timer each time (private to `http1/`).
 *
 * @module
 */

/**
 * A timeout of one kind at a time. Arming sets a deadline and keeps the
 * running timer when it fires no later; a timer that fires before its
 * deadline waits for the rest. A keep-alive connection with a request a
 * second then makes one timer a minute instead of a `setTimeout` and a
 * `clearTimeout` per request.
 */
export class Timeout<K extends string> {
  readonly #onExpired: (kind: K) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #kind: K | undefined;
  /** When the running timeout ends, and when the timer fires. */
  #deadline = 0;
  #timerAt = 0;

  constructor(onExpired: (kind: K) => void) {
    this.#onExpired = onExpired;
  }

  /** Starts a timeout of `kind` that ends in `ms`, unless one of `kind` runs. */
  arm(kind: K, ms: number): void {
    if (this.#kind === kind) return;
    const now = Date.now();
    this.#kind = kind;
    this.#deadline = now + ms;
    if (this.#timer !== undefined && this.#timerAt <= this.#deadline) return;
    this.stop();
    this.#start(now, ms);
  }

  /** No timeout runs (the timer, if any, finds nothing to do when it fires). */
  disarm(): void {
    this.#kind = undefined;
  }

  /** No timeout and no timer: the connection is gone. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(now: number, ms: number): void {
    this.#timerAt = now + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const kind = this.#kind;
      if (kind === undefined) return;
      const left = this.#deadline - Date.now();
      if (left > 0) return this.#start(Date.now(), left);
      this.#kind = undefined;
      this.#onExpired(kind);
    }, ms);
  }
}
