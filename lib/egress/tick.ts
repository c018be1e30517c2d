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
