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
/** Room a kept array may always have: a tick's batch of a few Mbit/s. */
const MIN_KEPT_ITEMS = 64;

/**
 * A reader's queue. `offer()` is O(1) and never blocks; `take()` hands the
 * writer everything queued at once.
 */
export class ReaderQueue {
  readonly #maxBytes: number;
  readonly #onReady: ((urgent: boolean) => void) | undefined;
  /**
   * Kept between batches (only the first {@link #count} are queued): a
   * fresh array per batch, grown part by part, was most of an RTSP reader's
   * garbage.
   */
  #items: (Uint8Array | undefined)[] = [];
  #count = 0;
  #bytes = 0;
  #skipping = false;
  #closed = false;
  /** Media packets dropped because the reader was behind. */
  dropped = 0;
  /** Times the reader fell behind and had to skip to a keyframe. */
  skips = 0;
  /** Media packets queued (control packets not counted). */
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
   * interleaved header) goes right before it and counts against the budget.
   */
  offer(packet: Packet, prefix?: Uint8Array): boolean {
    if (this.#closed) return false;
    const size = packet.bytes.length + (prefix?.length ?? 0);
    if (packet.kind !== PACKET_KIND.CONTROL) {
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
    if (packet.kind !== PACKET_KIND.CONTROL && this.mediaPackets++ === 0) {
      this.firstMediaMs = Date.now();
    }
    if (prefix !== undefined) this.#put(prefix);
    this.#put(packet.bytes);
    this.#bytes += size;
    // Control packets, and a queue past half its budget (a burst, a big keyframe), go
    // out now; media otherwise waits for the writer's next batch.
    if (
      packet.kind === PACKET_KIND.CONTROL || this.#bytes > this.#maxBytes / 2
    ) this.#onReady?.(true);
    else if (this.#count === (prefix === undefined ? 1 : 2)) {
      this.#onReady?.(false);
    }
    return true;
  }

  /** Takes everything queued, oldest first. */
  take(): Uint8Array[] {
    const items = this.#items;
    const n = this.#count;
    const out = items.slice(0, n) as Uint8Array[];
    // A GOP burst: a long array is not worth keeping.
    if (n > MAX_KEPT_ITEMS) this.#items = [];
    else {
      items.fill(undefined, 0, n);
      // a backlog's batch grew it: shrink it back to what a tick needs, so
      // a thousand readers do not each keep their largest batch's array
      const room = Math.max(2 * n, MIN_KEPT_ITEMS);
      if (items.length > 2 * room) items.length = room;
    }
    this.#count = 0;
    this.#bytes = 0;
    return out;
  }

  #put(bytes: Uint8Array): void {
    if (this.#count < this.#items.length) this.#items[this.#count] = bytes;
    else this.#items.push(bytes);
    this.#count++;
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
    this.#count = 0;
    this.#bytes = 0;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }
}
