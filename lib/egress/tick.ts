/**
 * The shared tick as an output sees it: the writers' tick (`WriteBatcher`
 * in `net/`) runs an output's deferred work first, so packets that came
 * since the last tick reach each reader's queue in one go, then go out in
 * that same tick.
 *
 * @module
 */

/** What an output needs of the tick. */
export interface OutputTick {
  /** Milliseconds between ticks; 0: no tick, packets are handed over as they come. */
  readonly intervalMs: number;
  /** Runs `task` at the start of the next tick, before the writers flush. */
  defer(task: { run(): void }): void;
}

/**
 * When an output's pending packets go to its readers: at the next tick,
 * or at once when they reach a quarter of the smallest reader's budget, so
 * that a burst (a publisher sending faster than real time, a long
 * keyframe) reaches the queues, which write it out early, before it could
 * fill them. The output keeps the packets; this keeps the count.
 */
export class HandOver {
  readonly #tick: OutputTick | undefined;
  readonly #task: { run(): void };
  #bytes = 0;
  #limit = Infinity;
  #deferred = false;

  /** `handOver` gives the readers what is pending; without a tick (or at 0 ms) nothing waits. */
  constructor(tick: OutputTick | undefined, handOver: () => void) {
    this.#tick = tick !== undefined && tick.intervalMs > 0 ? tick : undefined;
    this.#task = {
      run: () => {
        this.#deferred = false;
        handOver();
      },
    };
  }

  /** Whether packets wait for the tick (otherwise they are offered as they come). */
  get waits(): boolean {
    return this.#tick !== undefined;
  }

  /** A reader with a budget of `maxBytes` joined. */
  joined(maxBytes: number): void {
    this.#limit = Math.min(this.#limit, maxBytes / 4);
  }

  /** Counts a pending packet of `bytes`; true when the pending ones should go now. */
  pending(bytes: number): boolean {
    if (!this.#deferred) {
      this.#deferred = true;
      this.#tick!.defer(this.#task);
    }
    this.#bytes += bytes;
    return this.#bytes >= this.#limit;
  }

  /** The pending packets went to the readers. */
  handedOver(): void {
    this.#bytes = 0;
  }
}
