/**
 * How far a player is behind, as every server checks it once a tick: the
 * packets its queue dropped go to the stream's counters, and the time it has
 * been behind (writes that make no progress, or a queue that keeps skipping)
 * decides when it is dropped.
 *
 * @module
 */

import type { ReaderQueue } from "./reader_queue.ts";
import type { Stream } from "../hub/stream.ts";
import type { Logger } from "../log.ts";

/** The lag of one reader's queue. */
export class ReaderLag {
  readonly #queue: ReaderQueue;
  #droppedSeen = 0;
  #skippingSince = 0;

  constructor(queue: ReaderQueue) {
    this.#queue = queue;
  }

  /**
   * Adds the packets dropped since the last call to `stream`'s counters;
   * the first drop is logged once.
   */
  countDrops(stream: Stream | undefined, path: string, log: Logger): void {
    const d = this.#queue.dropped;
    if (d === this.#droppedSeen) return;
    if (this.#droppedSeen === 0) {
      log.info("reader fell behind: skipping to the next keyframe", { path });
    }
    if (stream) stream.stats.readerDrops += d - this.#droppedSeen;
    this.#droppedSeen = d;
  }

  /**
   * Milliseconds the reader has been behind at `now`: the longer of
   * `stalledMs` (its writes made no progress) and the time its queue has
   * been skipping to a keyframe.
   */
  behindMs(now: number, stalledMs: number): number {
    if (this.#queue.skipping) {
      if (this.#skippingSince === 0) this.#skippingSince = now;
    } else {
      this.#skippingSince = 0;
    }
    return Math.max(
      stalledMs,
      this.#skippingSince === 0 ? 0 : now - this.#skippingSince,
    );
  }
}
