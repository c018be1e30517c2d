/**
 * The one shared tick of every reader's writer: writers with media waiting
 * are flushed together, and a batch the readers that keep up share is
 * joined once, so a thousand players cost a thousand writes per tick, not
 * per frame. The writers themselves are in `batch_writer.ts`.
 *
 * @module
 */

import { type TickFiles, tickFiles } from "./_tick_files.ts";

/** A writer the shared tick flushes: TCP, UDP or HTTP, whatever its socket. */
export interface TickWriter {
  /** Writes what is queued now. */
  flush(): void;
}

/**
 * Work done at the start of the next tick, before the writers flush: an
 * output hands the packets that came since the last tick to its readers
 * then, reader by reader, instead of one reader after another per packet.
 */
export interface TickTask {
  run(): void;
}

/** Marks a writer waiting for the next tick: a flag on the writer costs no set entry. */
const WAITING = Symbol("waiting for the tick");
type Marked = TickWriter & { [WAITING]?: boolean };

/** Options of {@link WriteBatcher}. */
export interface WriteBatcherOptions {
  /**
   * Bytes of pieces joined outside the tick kept for other readers to
   * write: a GOP that new readers are sent joined once, not once each.
   * @default {4194304}
   */
  pieceCacheSize?: number;
}

/** A run of packets joined into one buffer (`parts` is its own copy of the run). */
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
  /** Writers waiting for the tick (the first `#waitingCount`), and the list the tick flushed last. */
  #waiting: (Marked | undefined)[] = [];
  #waitingCount = 0;
  #flushed: (Marked | undefined)[] = [];
  /** Tasks for the start of the next tick. */
  #tasks: TickTask[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Batches joined during the current flush, by their first part. */
  #joined = new Map<Uint8Array, Joined[]>();
  #flushing = false;
  /** The tick's batches as files, made on the first flush that asks (null: none can be). */
  #files: TickFiles | null | undefined;
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
    const w = writer as Marked;
    if (w[WAITING] === true) return;
    w[WAITING] = true;
    this.#waiting[this.#waitingCount++] = w;
    this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  /**
   * Runs `task` at the start of the next tick, before the writers flush:
   * what it queues for readers goes out in that tick. A task deferred twice
   * before the tick runs twice.
   */
  defer(task: TickTask): void {
    this.#tasks.push(task);
    this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  #flush(): void {
    this.#timer = undefined;
    const tasks = this.#tasks;
    this.#tasks = [];
    try {
      for (let i = 0; i < tasks.length; i++) tasks[i]!.run();
    } finally {
      // a task that threw still lets the writers flush
      this.#flushWriters();
    }
  }

  #flushWriters(): void {
    // The lists take turns: writers flushed now that wait again join the other.
    const writers = this.#waiting;
    const n = this.#waitingCount;
    this.#waiting = this.#flushed;
    this.#waitingCount = 0;
    this.#flushed = writers;
    this.#flushing = true;
    let i = 0;
    try {
      while (i < n) {
        const w = writers[i]!;
        release(writers, i++);
        w.flush();
      }
    } finally {
      this.#flushing = false;
      this.#joined.clear();
      this.#files?.clear();
      // a throw left the rest unflushed: they wait no longer
      while (i < n) release(writers, i++);
    }
  }

  /**
   * During a flush, a file holding `bytes` (a batch other readers write in
   * this tick too) for a socket that can send from a file; -1 where the
   * bytes go as they are (the first reader of a batch, a short one, or
   * outside a flush).
   */
  fileOf(bytes: Uint8Array): number {
    if (!this.#flushing) return -1;
    if (this.#files === undefined) this.#files = tickFiles();
    return this.#files === null ? -1 : this.#files.fileOf(bytes);
  }

  /**
   * `parts` from `start` to `end` joined into one buffer. Readers that keep
   * up hold the same packets at a tick, so within one flush a batch is
   * joined once and the same bytes go to all of them, instead of one copy
   * per reader.
   */
  join(parts: readonly Uint8Array[], start: number, end: number): Uint8Array {
    const candidates = this.#joined.get(parts[start]!);
    if (candidates !== undefined) {
      for (const c of candidates) {
        if (sameRun(c.parts, parts, start, end)) {
          this.shared++;
          return c.bytes;
        }
      }
    }
    const bytes = concatRange(parts, start, end);
    if (this.#flushing) {
      const joined = { parts: parts.slice(start, end), bytes };
      if (candidates === undefined) {
        this.#joined.set(parts[start]!, [joined]);
      } else candidates.push(joined);
    }
    return bytes;
  }

  /**
   * The piece another writer joined outside the tick from the packets
   * `parts` holds from `at` to `end`, if one did and it is still kept.
   */
  cachedPiece(
    parts: readonly Uint8Array[],
    at: number,
    end: number,
  ): Joined | undefined {
    const hit = this.#pieces.get(parts[at]!);
    if (hit === undefined) return undefined;
    const until = at + hit.parts.length;
    if (until > end || !sameRun(hit.parts, parts, at, until)) return undefined;
    this.shared++;
    return hit;
  }

  /** Whether a kept piece starts with `part`: a writer ends its own piece before it, to fall in step. */
  startsPiece(part: Uint8Array): boolean {
    return this.#pieces.has(part);
  }

  /**
   * `parts` from `start` to `end` joined outside the tick and kept for the
   * next writer that writes the same packets (a reader that joins during the
   * same GOP), within `pieceCacheSize` bytes, the oldest going first.
   */
  joinPiece(
    parts: readonly Uint8Array[],
    start: number,
    end: number,
  ): Uint8Array {
    const bytes = concatRange(parts, start, end);
    const first = parts[start]!;
    const old = this.#pieces.get(first);
    if (old !== undefined) {
      this.#pieces.delete(first);
      this.#pieceBytes -= old.bytes.length;
    }
    this.#pieces.set(first, { parts: parts.slice(start, end), bytes });
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
    for (let i = 0; i < this.#waitingCount; i++) release(this.#waiting, i);
    this.#waitingCount = 0;
    this.#tasks = [];
    this.#pieces.clear();
    this.#pieceBytes = 0;
  }
}

/** Takes the writer at `i` off `list`: it waits for the tick no longer. */
function release(list: (Marked | undefined)[], i: number): void {
  list[i]![WAITING] = false;
  list[i] = undefined;
}

/** Whether `run` holds the very parts `parts` holds from `start` to `end`. */
function sameRun(
  run: readonly Uint8Array[],
  parts: readonly Uint8Array[],
  start: number,
  end: number,
): boolean {
  if (run.length !== end - start) return false;
  for (let i = 0; i < run.length; i++) {
    if (run[i] !== parts[start + i]) return false;
  }
  return true;
}

/** `parts` from `start` to `end` joined into one new buffer. */
export function concatRange(
  parts: readonly Uint8Array[],
  start: number,
  end: number,
): Uint8Array {
  let length = 0;
  for (let i = start; i < end; i++) length += parts[i]!.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (let i = start; i < end; i++) {
    out.set(parts[i]!, offset);
    offset += parts[i]!.length;
  }
  return out;
}
