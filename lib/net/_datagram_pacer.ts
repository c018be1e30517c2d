/**
 * Pacing of a `DatagramWriter`'s destinations: each gets `burstBytes`
 * per `burstIntervalMs` (at least one datagram), the rest is held, in
 * order, for the next interval, so a GOP of several hundred KiB does not
 * overflow a player's receive buffer in one burst. Private to `net/`.
 *
 * @module
 */

import { COMPACT_AT } from "./_callback_queue.ts";
import type { Sockaddr } from "./_sendmmsg.ts";

/** A destination and its `sockaddr` (undefined: a name that only `send()` resolves). */
export interface Target {
  addr: Deno.NetAddr;
  sockaddr: Sockaddr | undefined;
  /** The pacing interval that `used` counts in. */
  interval: number;
  /** Bytes let through in `interval`. */
  used: number;
  /** Datagrams held for a later interval, in order, from `heldHead` on. */
  held: Uint8Array[];
  heldHead: number;
}

/** A destination not yet paced. */
export function newTarget(
  addr: Deno.NetAddr,
  sockaddr: Sockaddr | undefined,
): Target {
  return { addr, sockaddr, interval: 0, used: 0, held: [], heldHead: 0 };
}

/** Options of {@link DatagramPacer}. */
export interface DatagramPacerOptions {
  /** Bytes one destination gets per interval; `Infinity` never holds. */
  burstBytes: number;
  /** The pacing interval, at least 1 ms. */
  burstIntervalMs: number;
  /** A held datagram let go at a new interval, in order: it goes to the kernel queue. */
  pass(bytes: Uint8Array, to: Target): void;
  /** After the datagrams of a new interval were let go. */
  released(): void;
}

/** Holds datagrams over their destination's burst until a later interval. */
export class DatagramPacer {
  readonly #o: DatagramPacerOptions;
  #interval = 0;
  /** Destinations with datagrams over their burst, and the timer that lets them go. */
  #heldTargets: Target[] = [];
  #heldTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes of the datagrams held. */
  heldBytes = 0;

  constructor(options: DatagramPacerOptions) {
    this.#o = options;
  }

  /** Whether some destination has datagrams held. */
  get holding(): boolean {
    return this.#heldTargets.length > 0;
  }

  /** Whether `bytes` may go to `to` now (counted in its burst); else it is held. */
  admit(bytes: Uint8Array, to: Target): boolean {
    if (this.#o.burstBytes === Infinity) return true;
    if (to.interval !== this.#interval) {
      to.interval = this.#interval;
      to.used = 0;
    }
    if (
      to.heldHead < to.held.length ||
      (to.used > 0 && to.used + bytes.length > this.#o.burstBytes)
    ) {
      if (to.heldHead === to.held.length) this.#heldTargets.push(to);
      to.held.push(bytes);
      this.heldBytes += bytes.length;
      this.#heldTimer ??= setTimeout(
        () => this.#release(),
        this.#o.burstIntervalMs,
      );
      return false;
    }
    to.used += bytes.length;
    return true;
  }

  /** Moves to the current interval (once per turn: sends of one turn share one). */
  tickInterval(): void {
    this.#interval = Math.max(
      this.#interval,
      Math.floor(performance.now() / this.#o.burstIntervalMs),
    );
  }

  /** Forgets every held datagram and returns how many there were. */
  close(): number {
    let dropped = 0;
    for (const to of this.#heldTargets) {
      dropped += to.held.length - to.heldHead;
      to.held = [];
      to.heldHead = 0;
    }
    if (this.#heldTimer !== undefined) clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    this.#heldTargets = [];
    this.heldBytes = 0;
    return dropped;
  }

  /**
   * A new interval: each destination's held datagrams go out, in order, as
   * far as its burst allows; only destinations that hold some are visited.
   */
  #release(): void {
    this.#heldTimer = undefined;
    this.#interval++;
    this.tickInterval();
    const targets = this.#heldTargets;
    this.#heldTargets = [];
    for (const to of targets) {
      to.interval = this.#interval;
      to.used = 0;
      const held = to.held;
      let k = to.heldHead;
      for (; k < held.length; k++) {
        const bytes = held[k]!;
        if (to.used > 0 && to.used + bytes.length > this.#o.burstBytes) break;
        to.used += bytes.length;
        this.heldBytes -= bytes.length;
        this.#o.pass(bytes, to);
      }
      if (k === held.length) {
        to.held = [];
        to.heldHead = 0;
        continue;
      }
      if (k >= COMPACT_AT) {
        to.held = held.slice(k);
        k = 0;
      }
      to.heldHead = k;
      this.#heldTargets.push(to);
    }
    if (this.#heldTargets.length > 0) {
      this.#heldTimer = setTimeout(
        () => this.#release(),
        this.#o.burstIntervalMs,
      );
    }
    this.#o.released();
  }
}
