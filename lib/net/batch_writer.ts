/**
 * One reader's writer: drains its {@link ReaderQueue} with one socket write
 * per turn of the event loop, never one promise per packet.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { writeAll } from "./tcp.ts";

/** Options of {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Called once when a write fails; the owner closes the connection. */
  onError?(error: unknown): void;
  /** Clock for {@link BatchWriter.stalledMs}. @default {Date.now} */
  now?: () => number;
}

/** Writes batches taken from a queue to a socket. */
export class BatchWriter {
  readonly #conn: { write(p: Uint8Array): Promise<number> };
  readonly #take: () => Uint8Array[];
  readonly #onError: ((e: unknown) => void) | undefined;
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
    this.#now = options.now ?? Date.now;
  }

  /**
   * Asks for a flush. The flush runs in a microtask, after the code that
   * queued packets has finished, so everything queued in this turn goes out
   * in one write.
   */
  kick(): void {
    if (this.#scheduled || this.#writing || this.#failed) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#run();
    });
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
    if (this.#writing || this.#failed) return;
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
