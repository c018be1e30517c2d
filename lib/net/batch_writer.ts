/**
 * Readers' writers: each drains its queue with one socket write at a time,
 * never one promise per packet; media for all readers is flushed together on
 * a shared tick so a thousand players cost a thousand writes per tick, not
 * per frame (that tick is `write_batcher.ts`).
 *
 * @module
 */

import {
  concatRange,
  type TickWriter,
  type WriteBatcher,
} from "./write_batcher.ts";

export {
  type TickTask,
  type TickWriter,
  WriteBatcher,
  type WriteBatcherOptions,
} from "./write_batcher.ts";

/** Options of {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Called once when a write fails; the owner closes the connection. */
  onError?(error: unknown): void;
  /** Shared tick for media; without one, every kick flushes at the end of the turn. */
  batcher?: WriteBatcher;
  /** Clock for {@link BatchWriter.stalledMs}. @default {Date.now} */
  now?: () => number;
  /**
   * Largest write joined outside the shared tick. A longer batch (a new
   * reader's GOP) goes out in pieces joined one at a time, and a packet of
   * a quarter of this or more goes out as it is, so a reader holds a
   * private copy of at most this much. @default {16384}
   */
  maxWriteSize?: number;
  /**
   * Sends a tick's batch that other readers write too from the tick's
   * memory file, where the socket can ({@link WriteBatcher.fileOf}).
   * @default {true}
   */
  fromFiles?: boolean;
}

/**
 * What a {@link BatchWriter} writes to. A socket with `tryWrite` (Sluice's
 * own, `fd_conn.ts`) is written at once where it has room, without a
 * promise per write; the rest waits through `write`.
 */
export interface WritableConn {
  write(p: Uint8Array): Promise<number>;
  /** Bytes of `p` the socket took now, or -1 when it has no room. */
  tryWrite?(p: Uint8Array): number;
  /** Bytes of file `fd` from `offset` the socket took now, or -1 when it has no room. */
  trySendFile?(fd: number, offset: number, length: number): number;
}

/**
 * What a writer's `take` hands it: an array of its own, or the first
 * `count` parts of a queue's array that the writer is done with by the
 * next take (`ReaderQueue.drain`).
 */
export type Taken = Uint8Array[] | {
  readonly parts: readonly Uint8Array[];
  readonly count: number;
};

/** Default {@link BatchWriterOptions.maxWriteSize}. */
export const MAX_WRITE_SIZE = 16 * 1024;

/**
 * Writes batches taken from a queue to a socket, one write in flight at a
 * time.
 *
 * A thousand players make ten thousand writes a second, so a write costs as
 * little as the runtime allows: the socket's own promise and one reaction
 * with handlers bound once per writer. No async function, no `writeAll` and
 * no closure per write: each of those is garbage V8's young generation must
 * make room for, and that room is most of a player's memory.
 */
export class BatchWriter implements TickWriter {
  readonly #conn: WritableConn;
  readonly #take: () => Taken;
  readonly #onError: ((e: unknown) => void) | undefined;
  readonly #batcher: WriteBatcher | undefined;
  readonly #now: () => number;
  #scheduled = false;
  #writing = false;
  #failed = false;
  /** Urgent data was queued while a write was in flight. */
  #urgent = false;
  #since = 0;
  readonly #maxWriteSize: number;
  readonly #fromFiles: boolean;
  /** The batch being written: its parts, the index of the first not yet written, and its end. */
  #parts: readonly Uint8Array[] | undefined;
  #at = 0;
  #end = 0;
  /** The batch is joined whole, as one write. */
  #whole = false;
  /** The write in flight and how much of it the socket took. */
  #bytes: Uint8Array | undefined;
  #done = 0;
  /** Callers of {@link BatchWriter.drained} waiting for the writer to go idle. */
  #idle: (() => void)[] | undefined;
  readonly #onWritten = (n: number): void => this.#written(n);
  readonly #onFailed = (e: unknown): void => this.#fail(e);
  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
    this.#settle();
  };
  /** Bytes written so far. */
  bytesOut = 0;
  /** Socket writes so far. */
  writes = 0;

  constructor(
    conn: WritableConn,
    take: () => Taken,
    options: BatchWriterOptions = {},
  ) {
    this.#conn = conn;
    this.#take = take;
    this.#onError = options.onError;
    this.#batcher = options.batcher;
    this.#now = options.now ?? Date.now;
    this.#maxWriteSize = options.maxWriteSize ?? MAX_WRITE_SIZE;
    this.#fromFiles = options.fromFiles ?? true;
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
    queueMicrotask(this.#onTurnEnd);
  }

  /** Writes what is queued now, unless a write is already in flight (it takes the rest when done). */
  flush(): void {
    if (this.#writing || this.#failed) return;
    this.#next();
  }

  /** How long the current write has been waiting for the socket (0 when idle). */
  stalledMs(): number {
    return this.#writing ? this.#now() - this.#since : 0;
  }

  /** Resolves when nothing is being written (the queue may refill). */
  drained(): Promise<void> {
    if (!this.#writing && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }

  /** Takes the queue and starts writing it, or goes idle when it is empty. */
  #next(): void {
    let first: Uint8Array | undefined;
    try {
      const taken = this.#take();
      const parts = Array.isArray(taken) ? taken : taken.parts;
      const end = Array.isArray(taken) ? taken.length : taken.count;
      if (end === 0) return this.#settle();
      this.#parts = parts;
      this.#at = 0;
      this.#end = end;
      // In the tick, readers in step hold the same batch: it is joined once
      // for all of them, so it goes out whole.
      this.#whole = this.#batcher?.flushing === true;
      first = this.#piece();
    } catch (e) {
      return this.#fail(e);
    }
    this.#writing = true;
    this.#urgent = false;
    this.#start(first!);
  }

  /**
   * The next write of the batch. Outside the tick (a new reader's GOP,
   * replies, what came during a write) the batch is written in pieces: a
   * packet of a quarter of `maxWriteSize` or more (a video frame) as it is,
   * the shorter ones between such packets joined up to `maxWriteSize`. A
   * piece after the first (which holds the reader's own replies) is kept by
   * the batcher, and a reader sent the same packets writes the same bytes:
   * a thousand readers joining during one GOP copy it once, not a thousand
   * times.
   */
  #piece(): Uint8Array | undefined {
    const parts = this.#parts;
    const at = this.#at;
    const last = this.#end;
    if (parts === undefined || at >= last) return undefined;
    const batcher = this.#batcher;
    if (this.#whole) {
      this.#at = last;
      if (last - at === 1) return parts[at]!;
      return batcher !== undefined
        ? batcher.join(parts, at, last)
        : concatRange(parts, at, last);
    }
    const cached = batcher?.cachedPiece(parts, at, last);
    if (cached !== undefined) {
      this.#at = at + cached.parts.length;
      return cached.bytes;
    }
    const head = parts[at]!;
    const alone = this.#maxWriteSize >> 2;
    let end = at + 1;
    if (head.length < alone) {
      let size = head.length;
      while (end < last) {
        const next = parts[end]!;
        if (next.length >= alone || size + next.length > this.#maxWriteSize) {
          break;
        }
        if (batcher?.startsPiece(next)) break; // fall in step with the kept pieces
        size += next.length;
        end++;
      }
    }
    this.#at = end;
    if (end === at + 1) return head;
    if (batcher === undefined) return concatRange(parts, at, end);
    return at === 0
      ? batcher.join(parts, at, end)
      : batcher.joinPiece(parts, at, end);
  }

  #start(bytes: Uint8Array): void {
    this.#since = this.#now();
    this.#bytes = bytes;
    this.#done = 0;
    this.#write(bytes);
  }

  #write(bytes: Uint8Array): void {
    const conn = this.#conn;
    if (conn.tryWrite !== undefined) {
      let n: number;
      try {
        n = this.#fromFile(conn, bytes);
        if (n < 0) n = conn.tryWrite(bytes);
      } catch (e) {
        return this.#fail(e);
      }
      // the next piece follows in the same call: a batch has a few dozen at most
      if (n > 0) return this.#written(n);
    }
    let written: Promise<number>;
    try {
      written = conn.write(bytes);
    } catch (e) {
      return this.#fail(e);
    }
    written.then(this.#onWritten, this.#onFailed);
  }

  /**
   * A whole batch of the tick that other readers write too, sent from the
   * tick's file of it (see {@link WriteBatcher.fileOf}): bytes sent, or -1
   * where it goes as bytes. The rest of a partial send goes as bytes.
   */
  #fromFile(conn: WritableConn, bytes: Uint8Array): number {
    if (
      !this.#fromFiles || !this.#whole || this.#done !== 0 ||
      conn.trySendFile === undefined || this.#batcher === undefined
    ) return -1;
    const fd = this.#batcher.fileOf(bytes);
    return fd < 0 ? -1 : conn.trySendFile(fd, 0, bytes.length);
  }

  #written(n: number): void {
    const bytes = this.#bytes!;
    this.#done += n;
    if (this.#done < bytes.length) {
      return this.#write(bytes.subarray(this.#done));
    }
    this.bytesOut += bytes.length;
    this.writes++;
    let next: Uint8Array | undefined;
    try {
      next = this.#piece();
    } catch (e) {
      return this.#fail(e);
    }
    if (next !== undefined) return this.#start(next);
    this.#parts = undefined;
    this.#bytes = undefined;
    this.#writing = false;
    // What came in during the write waits for the next tick, unless it is urgent:
    // writing it now would undo the batching for every reader that keeps up.
    if (
      !this.#urgent && this.#batcher !== undefined &&
      this.#batcher.intervalMs > 0
    ) {
      this.#batcher.add(this);
      return this.#settle();
    }
    this.#next();
  }

  #fail(e: unknown): void {
    this.#writing = false;
    this.#parts = undefined;
    this.#bytes = undefined;
    if (!this.#failed) {
      this.#failed = true;
      this.#onError?.(e);
    }
    this.#settle();
  }

  /** Resolves the callers of {@link drained} once nothing is being written. */
  #settle(): void {
    if (this.#idle === undefined || this.#writing || this.#scheduled) return;
    const idle = this.#idle;
    this.#idle = undefined;
    for (const resolve of idle) resolve();
  }
}
