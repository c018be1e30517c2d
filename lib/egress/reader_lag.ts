/**
 * The one slow-reader policy, for readers of every protocol: once a tick,
 * the packets a reader's queue dropped go to its stream's counters for that
 * protocol, and a reader that has been behind (writes that make no progress,
 * or a queue that keeps skipping to keyframes) for longer than the write
 * timeout is to be dropped.
 *
 * @module
 */

import type { ReaderQueue } from "./reader_queue.ts";

/** Where a reader's drops are counted: its stream, per protocol. */
export interface LagCounters {
  countReaderDrops(protocol: string, packets: number): void;
  countReaderDropped(protocol: string): void;
}

/** What {@link ReaderLag.check} found. */
export type LagVerdict =
  | { drop: false; firstSkip: boolean }
  | { drop: true; behindMs: number };

const KEEP: LagVerdict = Object.freeze({ drop: false, firstSkip: false });
const FIRST_SKIP: LagVerdict = Object.freeze({ drop: false, firstSkip: true });

/** Options of {@link ReaderLag}. */
export interface ReaderLagOptions {
  /** The protocol the reader plays with (`rtmp`, `rtsp`, `flv` …), for the counters. */
  protocol: string;
  /** How long a reader may stay behind before it is dropped (ms). */
  writeTimeoutMs: number;
}

/** The lag of one reader, across one or more queues (RTSP over UDP keeps one per track). */
export class ReaderLag {
  readonly #queues: readonly ReaderQueue[];
  readonly #protocol: string;
  readonly #timeoutMs: number;
  #droppedSeen = 0;
  #skippingSince: number | undefined;

  constructor(
    queues: ReaderQueue | readonly ReaderQueue[],
    options: ReaderLagOptions,
  ) {
    this.#queues = Array.isArray(queues) ? queues : [queues as ReaderQueue];
    this.#protocol = options.protocol;
    this.#timeoutMs = options.writeTimeoutMs;
  }

  /**
   * Counts the packets dropped since the last call into `counters`, and
   * says whether the reader has been behind too long at `now`: the longer of
   * `stalledMs` (its writes made no progress) and the time its queue has
   * been skipping to a keyframe. A drop is counted too.
   */
  check(now: number, stalledMs: number, counters?: LagCounters): LagVerdict {
    const firstSkip = this.countDrops(counters);
    let skipping = false;
    for (let i = 0; i < this.#queues.length; i++) {
      if (this.#queues[i]!.skipping) skipping = true;
    }
    if (!skipping) this.#skippingSince = undefined;
    else this.#skippingSince ??= now;
    const behindMs = Math.max(
      stalledMs,
      this.#skippingSince === undefined ? 0 : now - this.#skippingSince,
    );
    // Every reader is checked every second: the usual verdicts are shared.
    if (behindMs <= this.#timeoutMs) return firstSkip ? FIRST_SKIP : KEEP;
    counters?.countReaderDropped(this.#protocol);
    return { drop: true, behindMs };
  }

  /**
   * Adds the packets dropped since the last call to `counters`; returns
   * whether these are the reader's first (the owner logs that once).
   */
  countDrops(counters?: LagCounters): boolean {
    let d = 0;
    for (let i = 0; i < this.#queues.length; i++) d += this.#queues[i]!.dropped;
    if (d === this.#droppedSeen) return false;
    const first = this.#droppedSeen === 0;
    counters?.countReaderDrops(this.#protocol, d - this.#droppedSeen);
    this.#droppedSeen = d;
    return first;
  }
}
