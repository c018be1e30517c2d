/**
 * Finds the NAL units of an Annex B byte stream (ITU-T H.264 and H.265
 * Annex B) read in pieces: each unit's offset in the stream and its first
 * bytes, without ever holding more than one piece and a bounded head.
 *
 * ```
 * byte stream: [00] 00 00 01 | NAL unit | [00 …] 00 00 01 | NAL unit | …
 * ```
 *
 * @module
 */

/** One NAL unit found by {@link AnnexBScanner}. */
export interface NalHead {
  /** Offset of the unit's first byte (after its start code) in the stream. */
  offset: number;
  /**
   * The unit's first bytes, at most the scanner's `headBytes`, trailing
   * zero bytes removed; a view the scanner writes again: copy to keep.
   */
  head: Uint8Array;
  /** Whether `head` holds the whole unit. */
  whole: boolean;
}

/** Options of {@link AnnexBScanner}. */
export interface AnnexBScannerOptions {
  /** Bytes kept of each unit (a parameter set must fit). @default {4096} */
  headBytes?: number;
}

/** Cuts an Annex B stream pushed in any pieces into {@link NalHead}s. */
export class AnnexBScanner {
  readonly #buf: Uint8Array;
  /** Bytes of the current unit in `#buf`. */
  #len = 0;
  /** Bytes of the current unit seen (with those past `#buf`). */
  #total = 0;
  /** Offset of the current unit, or -1 before the first start code. */
  #start = -1;
  /** Stream offset of the next byte pushed. */
  #pos = 0;
  /** The last two bytes pushed (1 = not a zero). */
  #last1 = 1;
  #last2 = 1;

  constructor(options: AnnexBScannerOptions = {}) {
    this.#buf = new Uint8Array(options.headBytes ?? 4096);
  }

  /** Offset of the next byte pushed: the bytes pushed so far. */
  get position(): number {
    return this.#pos;
  }

  /** Takes the next piece of the stream; calls `out` for each unit it ends. */
  push(chunk: Uint8Array, out: (nal: NalHead) => void): void {
    let from = 0;
    while (from < chunk.length) {
      const j = chunk.indexOf(1, from);
      const stop = j === -1 ? chunk.length : j + 1;
      if (this.#start >= 0) this.#collect(chunk, from, stop);
      if (j === -1) break;
      const p1 = j >= 1 ? chunk[j - 1]! : this.#last1;
      const p2 = j >= 2 ? chunk[j - 2]! : j === 1 ? this.#last1 : this.#last2;
      if (p1 === 0 && p2 === 0) {
        // 00 00 01: the current unit ended before its zeros
        this.#emit(out, 1);
        this.#start = this.#pos + j + 1;
        this.#len = 0;
        this.#total = 0;
      }
      from = j + 1;
    }
    if (chunk.length >= 2) {
      this.#last2 = chunk[chunk.length - 2]!;
      this.#last1 = chunk[chunk.length - 1]!;
    } else if (chunk.length === 1) {
      this.#last2 = this.#last1;
      this.#last1 = chunk[0]!;
    }
    this.#pos += chunk.length;
  }

  /** Ends the stream: the last unit runs to its end. */
  end(out: (nal: NalHead) => void): void {
    this.#emit(out, 0);
    this.#start = -1;
  }

  #collect(chunk: Uint8Array, from: number, stop: number): void {
    this.#total += stop - from;
    const room = this.#buf.length - this.#len;
    if (room <= 0) return;
    const end = Math.min(stop, from + room);
    this.#buf.set(chunk.subarray(from, end), this.#len);
    this.#len += end - from;
  }

  /** Hands out the current unit; `cut` bytes of a start code end it. */
  #emit(out: (nal: NalHead) => void, cut: number): void {
    if (this.#start < 0) return;
    const size = this.#total - cut;
    let n = Math.min(this.#len, size);
    while (n > 0 && this.#buf[n - 1] === 0) n--;
    if (n === 0) return; // only zeros: trailing_zero_8bits, no unit
    out({
      offset: this.#start,
      head: this.#buf.subarray(0, n),
      whole: size <= this.#buf.length,
    });
  }
}
