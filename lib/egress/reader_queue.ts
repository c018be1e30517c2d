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

/**
 * A reader's queue. `offer()` is O(1) and never blocks; `take()` hands the
 * writer everything queued at once.
 */
export class ReaderQueue {
  readonly #maxBytes: number;
  readonly #onReady: ((urgent: boolean) => void) | undefined;
  #items: Uint8Array[] = [];
  #bytes = 0;
  #skipping = false;
  #closed = false;
  /** Media packets dropped because the reader was behind. */
  dropped = 0;
  /** Times the reader fell behind and had to skip to a keyframe. */
  skips = 0;

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
    if (prefix !== undefined) this.#items.push(prefix);
    this.#items.push(packet.bytes);
    this.#bytes += size;
    // Control packets, and a queue past half its budget (a burst, a big keyframe), go
    // out now; media otherwise waits for the writer's next batch.
    if (
      packet.kind === PACKET_KIND.CONTROL || this.#bytes > this.#maxBytes / 2
    ) this.#onReady?.(true);
    else if (this.#items.length === (prefix === undefined ? 1 : 2)) {
      this.#onReady?.(false);
    }
    return true;
  }

  /** Takes everything queued, oldest first. */
  take(): Uint8Array[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
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
    this.#bytes = 0;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }
}
