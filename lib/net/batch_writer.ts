/**
 * Readers' writers: each drains its queue with one socket write at a time,
 * never one promise per packet; media for all readers is flushed together on
 * a shared tick so a thousand players cost a thousand writes per tick, not
 * per frame.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { writeAll } from "./tcp.ts";

/**
 * Flushes the writers that have media waiting, all at once, every
 * `intervalMs`. One timer for all of them, armed only while one waits.
 * Replies and a new reader's first frames do not wait for it.
 */
export class WriteBatcher {
  readonly intervalMs: number;
  #waiting = new Set<BatchWriter>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `intervalMs` 0 writes every batch at the end of the turn that queued it. */
  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Queues `writer` for the next tick. */
  add(writer: BatchWriter): void {
    this.#waiting.add(writer);
    this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  #flush(): void {
    this.#timer = undefined;
    const writers = this.#waiting;
    this.#waiting = new Set();
    for (const w of writers) w.flush();
  }

  /** Cancels the pending tick (shutdown). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
  }
}

/** Options of {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Called once when a write fails; the owner closes the connection. */
  onError?(error: unknown): void;
  /** Shared tick for media; without one, every kick flushes at the end of the turn. */
  batcher?: WriteBatcher;
  /** Clock for {@link BatchWriter.stalledMs}. @default {Date.now} */
  now?: () => number;
}

/** Writes batches taken from a queue to a socket, one write in flight at a time. */
export class BatchWriter {
  readonly #conn: { write(p: Uint8Array): Promise<number> };
  readonly #take: () => Uint8Array[];
  readonly #onError: ((e: unknown) => void) | undefined;
  readonly #batcher: WriteBatcher | undefined;
  readonly #now: () => number;
  #scheduled = false;
  #writing = false;
  #failed = false;
  #since = 0;
  /** Bytes written so far. */
  bytesOut = 0;
  /** Socket writes so far. */
  writes = 0;

  constructor(
    conn: { write(p: Uint8Array): Promise<number> },
    take: () => Uint8Array[],
    options: BatchWriterOptions = {},
  ) {
    this.#conn = conn;
    this.#take = take;
    this.#onError = options.onError;
    this.#batcher = options.batcher;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Asks for a flush. Urgent data (replies, a new reader's first frames)
   * goes out at the end of this turn, after the code that queued it has
   * finished, so everything queued in the turn is one write; other data
   * waits for the batcher's tick.
   */
  kick(urgent = true): void {
    if (this.#writing || this.#failed) return;
    if (
      !urgent && this.#batcher !== undefined && this.#batcher.intervalMs > 0
    ) {
      this.#batcher.add(this);
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Writes what is queued now, unless a write is already in flight (it takes the rest when done). */
  flush(): void {
    if (this.#writing || this.#failed) return;
    this.#run();
  }

  /** How long the current write has been waiting for the socket (0 when idle). */
  stalledMs(): number {
    return this.#writing ? this.#now() - this.#since : 0;
  }

  /** Resolves when nothing is being written (the queue may refill). */
  async drained(): Promise<void> {
    while (this.#writing || this.#scheduled) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async #run(): Promise<void> {
    this.#writing = true;
    try {
      for (;;) {
        const parts = this.#take();
        if (parts.length === 0) break;
        const bytes = parts.length === 1 ? parts[0]! : concat(parts);
        this.#since = this.#now();
        await writeAll(this.#conn, bytes);
        this.bytesOut += bytes.length;
        this.writes++;
      }
    } catch (e) {
      this.#failed = true;
      this.#onError?.(e);
    } finally {
      this.#writing = false;
    }
  }
}
