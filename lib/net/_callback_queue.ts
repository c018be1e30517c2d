/**
 * Callbacks waiting their turn, oldest first: the readers a backlogged
 * `DatagramWriter` lets go one at a time. Private to `net/`.
 *
 * @module
 */

/** Sent entries a queue that never runs empty keeps before it is compacted. */
export const COMPACT_AT = 16384;

/** Callbacks called in the order they came, while a condition holds. */
export class CallbackQueue {
  /** Waiting callbacks, oldest first from `#head`. */
  #callbacks: (() => void)[] = [];
  #head = 0;
  #running = false;

  /** Whether a callback waits. */
  get waiting(): boolean {
    return this.#head < this.#callbacks.length;
  }

  /** Queues `callback` (which must not throw). */
  push(callback: () => void): void {
    this.#callbacks.push(callback);
  }

  /** Calls waiting callbacks, oldest first, one at a time while `go()` holds. */
  run(go: () => boolean): void {
    if (this.#running) return; // a callback sends from here: no second loop
    this.#running = true;
    try {
      while (this.#head < this.#callbacks.length && go()) {
        this.#callbacks[this.#head++]!();
      }
    } finally {
      this.#running = false;
      if (this.#head === this.#callbacks.length) {
        this.#callbacks = [];
        this.#head = 0;
      } else if (this.#head >= COMPACT_AT) {
        this.#callbacks = this.#callbacks.slice(this.#head);
        this.#head = 0;
      }
    }
  }
}
