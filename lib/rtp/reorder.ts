/**
 * A reorder buffer for RTP over UDP: puts packets back in sequence-number
 * order, waits a bounded number of packets and milliseconds for a missing
 * one, then gives up on it.
 *
 * @module
 */

import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { RtpPacket } from "./packet.ts";

/**
 * A jump this far ahead (in sequence numbers) is a new sequence, not loss:
 * RFC 3550 Appendix A.1 MAX_DROPOUT. It is taken once two packets agree.
 */
export const MAX_DROPOUT = 3000;
/** A packet at most this far behind is late or a duplicate; further behind it may start a new sequence (MAX_MISORDER). */
export const MAX_MISORDER = 100;

/** Options of {@link ReorderBuffer}. */
export interface ReorderBufferOptions {
  /**
   * Packets held while waiting for a missing one; one more gives up on the gap.
   * @default {64}
   */
  maxPackets?: number;
  /**
   * Milliseconds the oldest held packet waits for a missing one before
   * {@link ReorderBuffer.tick} gives up on the gap.
   * @default {50}
   */
  maxDelayMs?: number;
  /** Called when a gap is given up on, with the number of packets lost. */
  onLoss?: (lost: number, nextSequenceNumber: number) => void;
}

/**
 * Emits RTP packets in sequence-number order (16-bit, with wrap). A missing
 * packet is waited for until `maxPackets` are held or the oldest held packet
 * is `maxDelayMs` old; then the gap is given up: it is counted in
 * {@link lost}, reported to `onLoss`, and shows as a jump in the sequence
 * numbers emitted, so a depacketizer drops the frame it was assembling.
 * Duplicates and packets behind the emitted ones are dropped; a jump of more
 * than {@link MAX_DROPOUT} ahead (or {@link MAX_MISORDER} behind) confirmed
 * by the next packet is a new sequence (a restarted sender).
 *
 * Time comes in through {@link tick}: the edge calls it with the arrival
 * time before each push and on a timer, so the buffer needs no timers.
 *
 * @example Put two swapped packets back in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReorderBuffer, type RtpPacket } from "./mod.ts";
 *
 * const packet = (sequenceNumber: number): RtpPacket => ({
 *   padding: 0, marker: false, payloadType: 96, sequenceNumber, timestamp: 0, ssrc: 1,
 *   csrcs: [], payload: new Uint8Array(0),
 * });
 * const seen: number[] = [];
 * const out = { enqueue: (p: RtpPacket) => seen.push(p.sequenceNumber) };
 * const buffer = new ReorderBuffer();
 * for (const seq of [65534, 0, 65535, 1]) buffer.push(packet(seq), out);
 * assert.deepEqual(seen, [65534, 65535, 0, 1]);
 * ```
 */
export class ReorderBuffer implements StageCore<RtpPacket, RtpPacket> {
  readonly #max: number;
  /** Slot index mask: the slots are the next power of two ≥ `#max`, which divides 2^16. */
  readonly #mask: number;
  readonly #maxDelayMs: number;
  readonly #onLoss: ((lost: number, next: number) => void) | undefined;
  /** Held packets by `sequenceNumber & #mask`, with their arrival times. */
  readonly #slots: (RtpPacket | undefined)[];
  readonly #arrivals: number[];
  #held = 0;
  /** The sequence number to emit next; undefined before the first packet. */
  #next: number | undefined;
  #now = 0;
  /** A packet that jumped far away, held until the next one confirms it. */
  #probation: RtpPacket | undefined;
  /** Packets given up on. */
  lost = 0;
  /** Packets dropped because one with the same sequence number was held. */
  duplicates = 0;
  /** Packets dropped because they came after their turn (or were duplicates of emitted ones). */
  late = 0;
  /** New sequences started after a confirmed big jump. */
  resyncs = 0;

  constructor(options: ReorderBufferOptions = {}) {
    this.#max = options.maxPackets ?? 64;
    this.#maxDelayMs = options.maxDelayMs ?? 50;
    this.#onLoss = options.onLoss;
    if (
      !Number.isInteger(this.#max) || this.#max < 1 || this.#max > MAX_MISORDER
    ) {
      throw new RangeError(
        `Cannot create reorder buffer: maxPackets "${this.#max}" is not 1 to 100`,
      );
    }
    let slots = 1;
    while (slots < this.#max) slots *= 2;
    this.#mask = slots - 1;
    this.#slots = new Array(slots).fill(undefined);
    this.#arrivals = new Array(slots).fill(0);
  }

  /** Packets held waiting for a missing one. */
  get size(): number {
    return this.#held;
  }

  push(packet: RtpPacket, out: Sink<RtpPacket>): void {
    const seq = packet.sequenceNumber & 0xffff;
    if (this.#next === undefined) this.#next = seq;
    let d = (seq - this.#next) & 0xffff;
    if (d >= 0x8000) d -= 0x10000;
    if (d >= MAX_DROPOUT || d < -MAX_MISORDER) {
      this.#jump(packet, seq, out);
      return;
    }
    this.#probation = undefined;
    if (d < 0) {
      this.late++;
      return;
    }
    // Further ahead than the buffer holds: give up on the oldest gaps until it fits.
    while (d >= this.#max) {
      if (this.#held === 0) {
        this.#lose(d, seq);
        d = 0;
      } else {
        this.#skipGap(out);
        d = (seq - this.#next!) & 0xffff;
      }
    }
    const slot = seq & this.#mask;
    if (this.#slots[slot] !== undefined) {
      this.duplicates++;
      return;
    }
    this.#slots[slot] = packet;
    this.#arrivals[slot] = this.#now;
    this.#held++;
    this.#release(out);
  }

  /**
   * Advances the clock to `nowMs` and gives up on gaps whose oldest held
   * packet has waited `maxDelayMs`.
   */
  tick(nowMs: number, out: Sink<RtpPacket>): void {
    this.#now = nowMs;
    while (this.#held > 0) {
      const oldest = this.#oldestArrival();
      if (nowMs - oldest < this.#maxDelayMs) break;
      this.#skipGap(out);
    }
  }

  /** Emits every held packet in order, counting the gaps between them as lost. */
  end(out: Sink<RtpPacket>): void {
    while (this.#held > 0) this.#skipGap(out);
  }

  #jump(packet: RtpPacket, seq: number, out: Sink<RtpPacket>): void {
    const candidate = this.#probation;
    if (
      candidate === undefined ||
      ((candidate.sequenceNumber + 1) & 0xffff) !== seq
    ) {
      this.#probation = packet; // a stray packet, or the first of a new sequence
      return;
    }
    // Two packets in a row agree: a new sequence. Flush the old one first.
    this.#probation = undefined;
    this.resyncs++;
    this.end(out);
    this.#next = candidate.sequenceNumber & 0xffff;
    this.push(candidate, out);
    this.push(packet, out);
  }

  /** Emits held packets from `#next` on while there is no gap. */
  #release(out: Sink<RtpPacket>): void {
    let next = this.#next!;
    for (;;) {
      const slot = next & this.#mask;
      const p = this.#slots[slot];
      if (p === undefined || (p.sequenceNumber & 0xffff) !== next) break;
      this.#slots[slot] = undefined;
      this.#held--;
      next = (next + 1) & 0xffff;
      out.enqueue(p);
    }
    this.#next = next;
  }

  /** Gives up on the gap before the first held packet, then releases what follows it. */
  #skipGap(out: Sink<RtpPacket>): void {
    let missing = 0;
    let next = this.#next!;
    while (this.#slots[next & this.#mask] === undefined) {
      next = (next + 1) & 0xffff;
      missing++;
    }
    if (missing > 0) this.#lose(missing, next);
    this.#release(out);
  }

  #lose(missing: number, next: number): void {
    this.#next = next;
    this.lost += missing;
    this.#onLoss?.(missing, next);
  }

  #oldestArrival(): number {
    let oldest = Infinity;
    for (let i = 0; i < this.#slots.length; i++) {
      if (this.#slots[i] !== undefined && this.#arrivals[i]! < oldest) {
        oldest = this.#arrivals[i]!;
      }
    }
    return oldest;
  }
}

/** {@link ReorderBuffer} as a `TransformStream`. */
export class ReorderBufferStream extends StageStream<RtpPacket, RtpPacket> {
  constructor(options?: ReorderBufferOptions) {
    super(new ReorderBuffer(options));
  }
}
