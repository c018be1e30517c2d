/**
 * One timer for every VOD reader: a wheel of slots `tickMs` wide. A reader
 * asks to be woken at a time; one interval walks the slots that came due
 * and wakes their readers, so 300 readers at 25 fps cost one timer, not
 * 7500 timeouts a second.
 *
 * @module
 */

/** Something the wheel wakes. */
export interface WheelTask {
  /** Called at (or just after) the time it asked for, with the time now. */
  wake(nowMs: number): void;
}

/** What {@link WheelClock.setInterval} returns. */
export type IntervalHandle = ReturnType<typeof setInterval>;

/** Timers and clock of {@link VodWheel}; tests pass their own. */
export interface WheelClock {
  now(): number;
  setInterval(fn: () => void, ms: number): IntervalHandle;
  clearInterval(id: IntervalHandle): void;
}

/** Options of {@link VodWheel}. */
export interface VodWheelOptions {
  /** Slot width and timer period, ms. @default {10} */
  tickMs?: number;
  /** @default the global clock and timers */
  clock?: WheelClock;
}

/** The wheel. The interval runs only while some task waits. */
export class VodWheel {
  readonly #tickMs: number;
  readonly #clock: WheelClock;
  readonly #slots = new Map<number, Set<WheelTask>>();
  readonly #slotOf = new Map<WheelTask, number>();
  #timer: IntervalHandle | undefined;
  #done = 0;

  constructor(options: VodWheelOptions = {}) {
    this.#tickMs = options.tickMs ?? 10;
    this.#clock = options.clock ?? {
      now: () => performance.now(),
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (id) => clearInterval(id),
    };
  }

  /** Milliseconds now on the wheel's clock. */
  now(): number {
    return this.#clock.now();
  }

  /** Tasks waiting. */
  get size(): number {
    return this.#slotOf.size;
  }

  /** Wakes `task` at `atMs` (replacing any earlier request of it). */
  schedule(task: WheelTask, atMs: number): void {
    this.cancel(task);
    if (this.#timer === undefined) {
      this.#done = Math.floor(this.#clock.now() / this.#tickMs) - 1;
      this.#timer = this.#clock.setInterval(() => this.tick(), this.#tickMs);
    }
    const slot = Math.max(Math.ceil(atMs / this.#tickMs), this.#done + 1);
    let set = this.#slots.get(slot);
    if (set === undefined) this.#slots.set(slot, set = new Set());
    set.add(task);
    this.#slotOf.set(task, slot);
  }

  /** Forgets `task`. */
  cancel(task: WheelTask): void {
    const slot = this.#slotOf.get(task);
    if (slot === undefined) return;
    this.#slotOf.delete(task);
    const set = this.#slots.get(slot);
    set?.delete(task);
    if (set?.size === 0) this.#slots.delete(slot);
  }

  /** Wakes every task whose slot has come; the interval calls it. */
  tick(): void {
    const now = this.#clock.now();
    const upTo = Math.floor(now / this.#tickMs);
    if (this.#slotOf.size === 0) {
      this.#done = upTo;
      this.#stop();
      return;
    }
    // Walk slots one by one while they are few; after a long stall, walk
    // the tasks instead of every empty slot in between.
    if (upTo - this.#done > this.#slots.size) {
      const due = [...this.#slots.keys()].filter((s) => s <= upTo).sort((
        a,
        b,
      ) => a - b);
      for (const s of due) this.#run(s, now);
    } else {
      for (let s = this.#done + 1; s <= upTo; s++) this.#run(s, now);
    }
    this.#done = upTo;
    if (this.#slotOf.size === 0) this.#stop();
  }

  #run(slot: number, now: number): void {
    const set = this.#slots.get(slot);
    if (set === undefined) return;
    this.#slots.delete(slot);
    for (const task of set) {
      this.#slotOf.delete(task);
      try {
        task.wake(now);
      } catch {
        // one reader's failure is its own; the others still run
      }
    }
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and forgets every task. */
  close(): void {
    this.#slots.clear();
    this.#slotOf.clear();
    this.#stop();
  }
}
