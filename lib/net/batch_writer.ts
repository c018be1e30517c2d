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

/** A writer the shared tick flushes: TCP, UDP or HTTP, whatever its socket. */
export interface TickWriter {
  /** Writes what is queued now. */
  flush(): void;
}

/**
 * The one shared tick of every reader of every protocol: flushes the
 * writers that have media waiting, all at once, every `intervalMs`. One
 * timer for all of them, armed only while one waits.
 * Replies and a new reader's first frames do not wait for it.
 */
export class WriteBatcher {
  readonly intervalMs: number;
  #waiting = new Set<TickWriter>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Batches joined during the current flush, by their first part. */
  #joined = new Map<Uint8Array, { parts: Uint8Array[]; bytes: Uint8Array }[]>();
  #flushing = false;
  /** Batches joined once and written to more than one reader. */
  shared = 0;

  /** `intervalMs` 0 writes every batch at the end of the turn that queued it. */
  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Queues `writer` for the next tick. */
  add(writer: TickWriter): void {
    this.#waiting.add(writer);
    this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  #flush(): void {
    this.#timer = undefined;
    const writers = this.#waiting;
    this.#waiting = new Set();
    this.#flushing = true;
    try {
      for (const w of writers) w.flush();
    } finally {
      this.#flushing = false;
      this.#joined.clear();
    }
  }

  /**
   * `parts` joined into one buffer. Readers that keep up hold the same
   * packets at a tick, so within one flush a batch is joined once and the
   * same bytes go to all of them, instead of one copy per reader.
   */
  join(parts: Uint8Array[]): Uint8Array {
    const candidates = this.#joined.get(parts[0]!);
    if (candidates !== undefined) {
      for (const c of candidates) {
        if (sameParts(c.parts, parts)) {
          this.shared++;
          return c.bytes;
        }
      }
    }
    const bytes = concat(parts);
    if (this.#flushing) {
      if (candidates === undefined) {
        this.#joined.set(parts[0]!, [{ parts, bytes }]);
      } else candidates.push({ parts, bytes });
    }
    return bytes;
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
export class BatchWriter implements TickWriter {
  readonly #conn: { write(p: Uint8Array): Promise<number> };
  readonly #take: () => Uint8Array[];
  readonly #onError: ((e: unknown) => void) | undefined;
  readonly #batcher: WriteBatcher | undefined;
  readonly #now: () => number;
  #scheduled = false;
  #writing = false;
  #failed = false;
  /** Urgent data was queued while a write was in flight. */
  #urgent = false;
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
    if (this.#failed) return;
    if (this.#writing) {
      this.#urgent ||= urgent;
      return;
    }
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
        const bytes = parts.length === 1
          ? parts[0]!
          : this.#batcher !== undefined
          ? this.#batcher.join(parts)
          : concat(parts);
        this.#since = this.#now();
        this.#urgent = false;
        await writeAll(this.#conn, bytes);
        this.bytesOut += bytes.length;
        this.writes++;
        // What came in during the write waits for the next tick, unless it is urgent:
        // writing it now would undo the batching for every reader that keeps up.
        if (
          !this.#urgent && this.#batcher !== undefined &&
          this.#batcher.intervalMs > 0
        ) {
          this.#batcher.add(this);
          break;
        }
      }
    } catch (e) {
      this.#failed = true;
      this.#onError?.(e);
    } finally {
      this.#writing = false;
    }
  }
}

function sameParts(
  a: readonly Uint8Array[],
  b: readonly Uint8Array[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
