/**
 * The chunked transfer coding of a request body (RFC 9112 §7.1), decoded
 * as bytes arrive, within a bound on the body and on every line.
 *
 * @module
 */

const CR = 13;
const LF = 10;
/** Longest chunk-size line or trailer line, extensions included. */
const MAX_LINE = 4096;

/** What {@link ChunkedDecoder.push} made of its input. */
export type ChunkedResult =
  /** `used` bytes consumed; the body is complete when `done`. */
  | { used: number; done: boolean }
  /** The coding is broken (400) or the body too large (413). */
  | { status: 400 | 413; reason: string };

/** Decodes one chunked body; the decoded bytes collect in {@link parts}. */
export class ChunkedDecoder {
  /** The body so far, in pieces. */
  readonly parts: Uint8Array[] = [];
  #size = 0;
  /** Bytes left in the current chunk's data. */
  #left = 0;
  #state: "size" | "data" | "dataEnd" | "trailer" = "size";
  #line: number[] = [];
  readonly #maxBody: number;

  constructor(maxBody: number) {
    this.#maxBody = maxBody;
  }

  /** The body's length so far. */
  get size(): number {
    return this.#size;
  }

  /** Consumes what it can of `bytes`: up to the body's end at most. */
  push(bytes: Uint8Array): ChunkedResult {
    let i = 0;
    while (i < bytes.length) {
      if (this.#state === "data") {
        const n = Math.min(this.#left, bytes.length - i);
        this.parts.push(bytes.slice(i, i + n));
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#state = "dataEnd";
        continue;
      }
      const b = bytes[i++]!;
      if (b !== LF) {
        if (this.#line.length >= MAX_LINE) {
          return { status: 400, reason: "chunk line too long" };
        }
        this.#line.push(b);
        continue;
      }
      const line = this.#line;
      this.#line = [];
      if (line.pop() !== CR) return { status: 400, reason: "bare LF" };
      const step = this.#lineEnd(line);
      if (step !== undefined) {
        return step === true ? { used: i, done: true } : step;
      }
    }
    return { used: i, done: false };
  }

  /** A complete line: true at the body's end, an error, or undefined to go on. */
  #lineEnd(line: number[]): true | ChunkedResult | undefined {
    if (this.#state === "dataEnd") {
      if (line.length !== 0) return { status: 400, reason: "chunk overrun" };
      this.#state = "size";
      return undefined;
    }
    if (this.#state === "trailer") return line.length === 0 ? true : undefined;
    let n = 0;
    let k = 0;
    for (; k < line.length; k++) {
      const d = hexDigit(line[k]!);
      if (d < 0) break;
      if (k >= 12) return { status: 413, reason: "chunk too large" };
      n = n * 16 + d;
    }
    if (k === 0 || (k < line.length && line[k] !== 59 && line[k] !== 32)) {
      return { status: 400, reason: "invalid chunk size" };
    }
    if (this.#size + n > this.#maxBody) {
      return { status: 413, reason: "request body too large" };
    }
    this.#size += n;
    this.#left = n;
    this.#state = n === 0 ? "trailer" : "data";
    return undefined;
  }
}

function hexDigit(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 65 && b <= 70) return b - 55;
  if (b >= 97 && b <= 102) return b - 87;
  return -1;
}
