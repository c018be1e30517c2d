/**
 * Tick arithmetic: clock conversion, 32-bit wrap, and timestamp repair.
 *
 * @module
 */

/** Converts `ticks` at `fromRate` to the nearest whole tick at `toRate`. */
export function rescale(
  ticks: number,
  fromRate: number,
  toRate: number,
): number {
  if (fromRate === toRate) return ticks;
  return Math.round((ticks * toRate) / fromRate);
}

/**
 * Turns a sequence of 32-bit timestamps (RTMP milliseconds, RTP ticks) into
 * one continuous number line: each step is the signed 32-bit difference
 * `(ts - prev) | 0`, so a wrap past 2^32 keeps counting up and a small step
 * back stays a small step back.
 */
export class Unwrapper32 {
  #last: number | undefined;
  #value = 0;

  /** The continuous value for 32-bit timestamp `ts`. */
  unwrap(ts: number): number {
    ts = ts >>> 0;
    if (this.#last === undefined) {
      this.#value = ts;
    } else {
      this.#value += (ts - this.#last) | 0;
    }
    this.#last = ts;
    return this.#value;
  }
}

/** Options of {@link TimestampRepair}. */
export interface TimestampRepairOptions {
  /**
   * A forward jump larger than this (in ticks) is a discontinuity, not time
   * passing (a camera stamping one frame hours off).
   * @default {10 * clockRate}
   */
  maxJump?: number;
  /**
   * The step assumed across a discontinuity, in ticks.
   * @default {clockRate / 30}
   */
  defaultStep?: number;
}

/**
 * Keeps one track's decode times monotonic: steps backwards or jumps beyond
 * `maxJump` are absorbed into an offset, so the output continues one typical
 * step after the previous frame. `pts - dts` is kept as it came.
 */
export class TimestampRepair {
  readonly #maxJump: number;
  readonly #defaultStep: number;
  #offset = 0;
  #lastIn: number | undefined;
  #lastOut: number | undefined;
  #step: number;
  /** Discontinuities repaired so far. */
  repairs = 0;

  constructor(clockRate: number, options: TimestampRepairOptions = {}) {
    this.#maxJump = options.maxJump ?? 10 * clockRate;
    this.#defaultStep = options.defaultStep ??
      Math.max(1, Math.round(clockRate / 30));
    this.#step = this.#defaultStep;
  }

  /** Forgets the input timeline; the next input continues one step after the last output. */
  rebase(): void {
    this.#lastIn = undefined;
  }

  /** The repaired dts of a frame whose dts was `dts`. */
  dts(dts: number): number {
    if (this.#lastOut === undefined) {
      this.#lastIn = dts;
      this.#lastOut = dts;
      return dts;
    }
    if (this.#lastIn === undefined) {
      this.#offset = this.#lastOut + this.#step - dts;
    } else {
      const delta = dts - this.#lastIn;
      if (delta < 0 || delta > this.#maxJump) {
        this.repairs++;
        this.#offset = this.#lastOut + this.#step - dts;
      } else if (delta > 0) {
        this.#step = delta;
      }
    }
    this.#lastIn = dts;
    const out = dts + this.#offset;
    this.#lastOut = out;
    return out;
  }
}
