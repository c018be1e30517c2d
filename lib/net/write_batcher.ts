/**
 * The one shared tick of every reader's writer: writers with media waiting
 * are flushed together, and a batch the readers that keep up share is
 * joined once, so a thousand players cost a thousand writes per tick, not
 * per frame. The writers themselves are in `batch_writer.ts`.
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

function sameParts(
  a: readonly Uint8Array[],
  b: readonly Uint8Array[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
