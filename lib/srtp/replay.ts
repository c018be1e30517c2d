/**
 * The replay list of RFC 3711 §3.3.2: a sliding window over the highest
 * index authenticated so far. An index is fresh if it is newer than the
 * highest, or inside the window and not seen; anything older than the
 * window counts as a replay, as the RFC allows.
 *
 * @module
 */

/** Indices the window remembers below the highest (RFC 3711 asks for 64 at least). */
export const REPLAY_WINDOW_SIZE = 128;

/** A replay window over 48-bit SRTP or 31-bit SRTCP indices. */
export class ReplayWindow {
  readonly #seen = new Uint8Array(REPLAY_WINDOW_SIZE);
  #highest = -1;

  /** Whether `index` may be accepted (it is not remembered until {@link accept}). */
  fresh(index: number): boolean {
    if (index > this.#highest) return true;
    if (this.#highest - index >= REPLAY_WINDOW_SIZE) return false;
    return this.#seen[index % REPLAY_WINDOW_SIZE] === 0;
  }

  /** Remembers an authenticated `index`. */
  accept(index: number): void {
    if (index > this.#highest) {
      const from = Math.max(this.#highest + 1, index - REPLAY_WINDOW_SIZE + 1);
      for (let i = from; i <= index; i++) {
        this.#seen[i % REPLAY_WINDOW_SIZE] = 0;
      }
      this.#highest = index;
    }
    this.#seen[index % REPLAY_WINDOW_SIZE] = 1;
  }

  /** The highest index accepted, -1 before any. */
  get highest(): number {
    return this.#highest;
  }
}
