/**
 * Readers' writers: each drains its queue with one socket write at a time,
 * never one promise per packet; media for all readers is flushed together on
 * a shared tick so a thousand players cost a thousand writes per tick, not
 * per frame.
 *
 * @module
 */

import { concat } from "@std/bytes";

/** A writer the shared tick flushes: TCP, UDP or HTTP, whatever its socket. */
export interface TickWriter {
  /** Writes what is queued now. */
  flush(): void;
}

/** Options of {@link WriteBatcher}. */
export interface WriteBatcherOptions {
  /**
   * Bytes of pieces joined outside the tick kept for other readers to
   * write: a GOP that new readers are sent joined once, not once each.
   * @default {4194304}
   */
  pieceCacheSize?: number;
}

/** A run of packets joined into one buffer. */
interface Joined {
  parts: Uint8Array[];
  bytes: Uint8Array;
}

/**
 * The one shared tick of every reader of every protocol: flushes the
 * writers that have media waiting, all at once, every `intervalMs`. One
 * timer for all of them, armed only while one waits.
 * Replies and a new reader's first frames do not wait for it.
 */
export class WriteBatcher {
  readonly intervalMs: number;
  readonly #pieceCacheSize: number;
  /** Pieces joined outside the tick, by their first part, oldest first. */
  readonly #pieces = new Map<Uint8Array, Joined>();
  #pieceBytes = 0;
  #waiting = new Set<TickWriter>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Batches joined during the current flush, by their first part. */
  #joined = new Map<Uint8Array, Joined[]>();
  #flushing = false;
  /** Batches joined once and written to more than one reader. */
  shared = 0;

  /** `intervalMs` 0 writes every batch at the end of the turn that queued it. */
  constructor(intervalMs: number, options: WriteBatcherOptions = {}) {
    this.intervalMs = intervalMs;
    this.#pieceCacheSize = options.pieceCacheSize ?? 4 * 1024 * 1024;
  }

  /** Whether a tick is flushing now: what {@link join} joins meanwhile is shared. */
  get flushing(): boolean {
    return this.#flushing;
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

  /**
   * The piece another writer joined outside the tick from the packets
   * `parts` holds from `at` on, if one did and it is still kept.
   */
  cachedPiece(parts: readonly Uint8Array[], at: number): Joined | undefined {
    const hit = this.#pieces.get(parts[at]!);
    if (hit === undefined || at + hit.parts.length > parts.length) {
      return undefined;
    }
    for (let i = 1; i < hit.parts.length; i++) {
      if (hit.parts[i] !== parts[at + i]) return undefined;
    }
    this.shared++;
    return hit;
  }

  /** Whether a kept piece starts with `part`: a writer ends its own piece before it, to fall in step. */
  startsPiece(part: Uint8Array): boolean {
    return this.#pieces.has(part);
  }

  /**
   * `parts` joined outside the tick and kept for the next writer that
   * writes the same packets (a reader that joins during the same GOP),
   * within `pieceCacheSize` bytes, the oldest going first.
   */
  joinPiece(parts: Uint8Array[]): Uint8Array {
    const bytes = concat(parts);
    const first = parts[0]!;
    const old = this.#pieces.get(first);
    if (old !== undefined) {
      this.#pieces.delete(first);
      this.#pieceBytes -= old.bytes.length;
    }
    this.#pieces.set(first, { parts, bytes });
    this.#pieceBytes += bytes.length;
    for (const [key, piece] of this.#pieces) {
      if (this.#pieceBytes <= this.#pieceCacheSize) break;
      this.#pieces.delete(key);
      this.#pieceBytes -= piece.bytes.length;
    }
    return bytes;
  }

  /** Cancels the pending tick and forgets the kept pieces (shutdown). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
    this.#pieces.clear();
    this.#pieceBytes = 0;
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
  /**
   * Largest write joined outside the shared tick. A longer batch (a new
   * reader's GOP) goes out in pieces joined one at a time, and a packet of
   * a quarter of this or more goes out as it is, so a reader holds a
   * private copy of at most this much. @default {16384}
   */
  maxWriteSize?: number;
}

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
  readonly #maxWriteSize: number;
  /** The batch being written: its parts, and the index of the first not yet written. */
  #parts: Uint8Array[] | undefined;
  #at = 0;
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
    conn: { write(p: Uint8Array): Promise<number> },
    take: () => Uint8Array[],
    options: BatchWriterOptions = {},
  ) {
    this.#conn = conn;
    this.#take = take;
    this.#onError = options.onError;
    this.#batcher = options.batcher;
    this.#now = options.now ?? Date.now;
    this.#maxWriteSize = options.maxWriteSize ?? MAX_WRITE_SIZE;
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
      const parts = this.#take();
      if (parts.length === 0) return this.#settle();
      this.#parts = parts;
      this.#at = 0;
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
    if (parts === undefined || at >= parts.length) return undefined;
    const batcher = this.#batcher;
    if (this.#whole) {
      this.#at = parts.length;
      if (parts.length === 1) return parts[0]!;
      const run = at === 0 ? parts : parts.slice(at);
      return batcher !== undefined ? batcher.join(run) : concat(run);
    }
    const cached = batcher?.cachedPiece(parts, at);
    if (cached !== undefined) {
      this.#at = at + cached.parts.length;
      return cached.bytes;
    }
    const head = parts[at]!;
    const alone = this.#maxWriteSize >> 2;
    let end = at + 1;
    if (head.length < alone) {
      let size = head.length;
      while (end < parts.length) {
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
    const run = at === 0 && end === parts.length ? parts : parts.slice(at, end);
    if (batcher === undefined) return concat(run);
    return at === 0 ? batcher.join(run) : batcher.joinPiece(run);
  }

  #start(bytes: Uint8Array): void {
    this.#since = this.#now();
    this.#bytes = bytes;
    this.#done = 0;
    this.#write(bytes);
  }

  #write(bytes: Uint8Array): void {
    let written: Promise<number>;
    try {
      written = this.#conn.write(bytes);
    } catch (e) {
      return this.#fail(e);
    }
    written.then(this.#onWritten, this.#onFailed);
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

function sameParts(
  a: readonly Uint8Array[],
  b: readonly Uint8Array[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
