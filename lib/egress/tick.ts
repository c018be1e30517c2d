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
 * An output's packets waiting for its readers: they go at the next tick,
 * or at once when they reach a quarter of the smallest reader's budget, so
 * that a burst (a publisher sending faster than real time, a long
 * keyframe) reaches the queues, which write it out early, before it could
 * fill them.
 */
export class HandOver<T> {
  readonly #tick: OutputTick | undefined;
  readonly #handOver: (items: readonly T[]) => void;
  readonly #task = { run: (): void => this.#run() };
  #items: T[] = [];
  #bytes = 0;
  #limit = Infinity;
  #deferred = false;

  /** `handOver` gives the readers what waited; without a tick (or at 0 ms) nothing waits. */
  constructor(
    tick: OutputTick | undefined,
    handOver: (items: readonly T[]) => void,
  ) {
    this.#tick = tick !== undefined && tick.intervalMs > 0 ? tick : undefined;
    this.#handOver = handOver;
  }

  /** Whether packets wait for the tick (otherwise the output offers them as they come). */
  get waits(): boolean {
    return this.#tick !== undefined;
  }

  /** A reader with a budget of `maxBytes` joined. */
  joined(maxBytes: number): void {
    this.#limit = Math.min(this.#limit, maxBytes / 4);
  }

  /** Keeps `item` (`bytes` long) for the next tick, or hands everything over now past the limit. */
  add(item: T, bytes: number): void {
    if (!this.#deferred) {
      this.#deferred = true;
      this.#tick!.defer(this.#task);
    }
    this.#items.push(item);
    this.#bytes += bytes;
    if (this.#bytes >= this.#limit) this.flush();
  }

  /** Hands what waits over now: before a reader joins or leaves, or the stream ends. */
  flush(): void {
    const items = this.#items;
    if (items.length === 0) return;
    this.#items = [];
    this.#bytes = 0;
    this.#handOver(items);
  }

  #run(): void {
    this.#deferred = false;
    this.flush();
  }
}
