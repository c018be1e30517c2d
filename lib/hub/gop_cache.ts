/**
 * A bounded buffer of everything since the last keyframe: what a new reader
 * needs to start decoding at once instead of waiting for the next keyframe.
 *
 * @module
 */

/** Options of {@link GopCache}. */
export interface GopCacheOptions {
  /**
   * Most bytes kept; a GOP that grows past it is dropped and caching resumes
   * at the next keyframe (a camera that never sends one cannot grow memory).
   * @default {33554432}
   */
  maxBytes?: number;
}

/** Items from the last keyframe on, with their sizes. */
export class GopCache<T> {
  readonly #maxBytes: number;
  #items: T[] = [];
  #bytes = 0;
  #open = false;

  constructor(options: GopCacheOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  }

  /** Adds an item; a keyframe starts a new GOP, other items join the open one. */
  push(item: T, keyframe: boolean, size: number): void {
    if (keyframe) {
      this.#items = [];
      this.#bytes = 0;
      this.#open = true;
    }
    if (!this.#open) return;
    if (this.#bytes + size > this.#maxBytes) {
      this.clear();
      return;
    }
    this.#items.push(item);
    this.#bytes += size;
  }

  /** Forgets everything until the next keyframe. */
  clear(): void {
    this.#items = [];
    this.#bytes = 0;
    this.#open = false;
  }

  /** The cached items, oldest first (do not modify). */
  get items(): readonly T[] {
    return this.#items;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
