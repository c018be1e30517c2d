/**
 * One reader's queue of encoded packets, bounded by bytes: the publisher never
 * waits for a reader, and a reader that falls behind skips to the next
 * keyframe instead of growing memory.
 *
 * @module
 */

import { type Packet, PACKET_KIND } from "./packet.ts";

/** Options of {@link ReaderQueue}. */
export interface ReaderQueueOptions {
  /** Queued bytes above which media is dropped until the next keyframe. @default {8388608} */
  maxBytes?: number;
  /**
   * Called (synchronously) when the queue goes from empty to non-empty, and
   * for every control packet or while the queue is past half its budget:
   * `urgent` then says it should go out now rather than with the next batch.
   */
  onReady?: (urgent: boolean) => void;
}

/** Queued parts above which a batch's array is dropped instead of kept. */
const MAX_KEPT_ITEMS = 256;

/**
 * What {@link ReaderQueue.drain} hands a writer: the first `count` of
 * `parts`. The array is the queue's own and comes back to it at the drain
 * after next, so the writer must be done with it by then and must not keep
 * it (copy what outlives the write).
 */
export interface Batch {
  readonly parts: readonly Uint8Array[];
  readonly count: number;
}

/**
 * A reader's queue. `offer()` is O(1) and never blocks; `drain()` hands the
 * writer everything queued at once.
 */
export class ReaderQueue {
  readonly #maxBytes: number;
  readonly #onReady: ((urgent: boolean) => void) | undefined;
  /**
   * Filled by `offer()` (only the first {@link #count} are queued). Two
   * arrays take turns, the one being written and the one being filled, so a
   * batch costs no allocation: a fresh array per batch was most of an RTSP
   * reader's garbage, and garbage is most of a player's memory.
   */
  #items: (Uint8Array | undefined)[] = [];
  #count = 0;
  /** The array drained last: the writer holds it until the next drain. */
  #out: (Uint8Array | undefined)[] = [];
  #outCount = 0;
  readonly #batch: { parts: readonly Uint8Array[]; count: number } = {
    parts: [],
    count: 0,
  };
  #bytes = 0;
  #skipping = false;
  #closed = false;
  /** Media packets dropped because the reader was behind. */
  dropped = 0;
  /** Times the reader fell behind and had to skip to a keyframe. */
  skips = 0;
  /** Media packets queued (control packets and reports not counted). */
  mediaPackets = 0;
  /** When the first media packet was queued (ms since the epoch). */
  firstMediaMs: number | undefined;

  constructor(options: ReaderQueueOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.#onReady = options.onReady;
  }

  /**
   * Queues a packet unless the reader is behind; returns whether it was
   * queued. `prefix` (a reader's own framing, such as RTSP's 4-byte
   * interleaved header) goes right before it and counts against the budget;
   * `bytes` (the packet already framed for this reader, shared) goes
   * instead of the packet's own bytes.
   */
  offer(
    packet: Packet,
    prefix?: Uint8Array,
    bytes: Uint8Array = packet.bytes,
  ): boolean {
    if (this.#closed) return false;
    const size = bytes.length + (prefix?.length ?? 0);
    const media = packet.kind === PACKET_KIND.KEY ||
      packet.kind === PACKET_KIND.DELTA;
    if (media) {
      if (this.#skipping) {
        if (
          packet.kind !== PACKET_KIND.KEY || this.#bytes + size > this.#maxBytes
        ) {
          this.dropped++;
          return false;
        }
        this.#skipping = false;
      } else if (this.#bytes + size > this.#maxBytes) {
        this.#skipping = true;
        this.skips++;
        this.dropped++;
        return false;
      }
    }
    if (media) this.#countMedia(1);
    if (prefix !== undefined) this.#put(prefix);
    this.#put(bytes);
    this.#bytes += size;
    this.#ready(
      packet.kind === PACKET_KIND.CONTROL,
      prefix === undefined ? 1 : 2,
    );
    return true;
  }

  /**
   * Queues `run`, the bytes of `packets` (media only) joined, as one part:
   * what the reader would get offered them one by one when none is dropped,
   * and what a reader in step with the others writes as it is, with no
   * joining of its own. Returns false, queuing nothing, when the reader is
   * behind or the run does not fit its budget: the caller then offers the
   * packets one by one, and {@link offer} decides which go.
   */
  offerRun(packets: readonly Packet[], run: Uint8Array): boolean {
    if (
      this.#closed || this.#skipping ||
      this.#bytes + run.length > this.#maxBytes
    ) return false;
    this.#countMedia(packets.length);
    this.#put(run);
    this.#bytes += run.length;
    this.#ready(false, 1);
    return true;
  }

  #countMedia(n: number): void {
    if (this.mediaPackets === 0) this.firstMediaMs = Date.now();
    this.mediaPackets += n;
  }

  /**
   * Tells the writer what was just queued (`parts` of it): control packets,
   * and a queue past half its budget (a burst, a big keyframe), go out now;
   * media and reports otherwise wait for the writer's next batch, which the
   * queue asks for once, when it stops being empty.
   */
  #ready(control: boolean, parts: number): void {
    if (control || this.#bytes > this.#maxBytes / 2) this.#onReady?.(true);
    else if (this.#count === parts) this.#onReady?.(false);
  }

  /**
   * Hands over everything queued, oldest first, without copying: the
   * array drained before comes back to be filled (see {@link Batch}).
   */
  drain(): Batch {
    const items = this.#items;
    const n = this.#count;
    this.#items = reclaim(this.#out, this.#outCount);
    this.#out = items;
    this.#outCount = n;
    this.#count = 0;
    this.#bytes = 0;
    const batch = this.#batch;
    batch.parts = items as Uint8Array[];
    batch.count = n;
    return batch;
  }

  /** Takes everything queued, oldest first, as an array of its own. */
  take(): Uint8Array[] {
    const { parts, count } = this.drain();
    return parts.slice(0, count);
  }

  #put(bytes: Uint8Array): void {
    if (this.#count < this.#items.length) this.#items[this.#count] = bytes;
    else this.#items.push(bytes);
    this.#count++;
  }

  /** Queued bytes above which media is dropped until the next keyframe. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether media is being dropped until the next keyframe. */
  get skipping(): boolean {
    return this.#skipping;
  }

  /** Refuses every later packet and frees what is queued. */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#out = [];
    this.#outCount = 0;
    this.#count = 0;
    this.#bytes = 0;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }
}

/**
 * An array a writer is done with, emptied for the queue to fill again. A
 * GOP burst's long array is not worth keeping; a shorter one keeps its
 * room (at most {@link MAX_KEPT_ITEMS} parts), since a keyframe's batch
 * every GOP would otherwise grow it again, and that growth was most of a
 * reader's remaining garbage.
 */
function reclaim(
  items: (Uint8Array | undefined)[],
  used: number,
): (Uint8Array | undefined)[] {
  if (used > MAX_KEPT_ITEMS || items.length > MAX_KEPT_ITEMS) return [];
  // A loop, not `fill`: V8 runs `Array.prototype.fill` in C++, a runtime call
  // per reader and tick for the one or two parts a reader in step holds.
  for (let i = 0; i < used; i++) items[i] = undefined;
  return items;
}
