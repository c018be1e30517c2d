/**
 * Base64 of RTSP over HTTP tunnelling: the client→server half of a tunnel is
 * an HTTP POST body of base64 text (RFC 4648 §4). Clients encode each
 * request on its own (ffmpeg, GStreamer, QuickTime), so `=` padding ends a
 * quantum in the middle of the body and the next request starts a new one:
 * the decoder takes padding wherever a quantum may end, not only at the end.
 *
 * ```
 * quantum   4 characters → 3 bytes; "xx==" → 1 byte, "xxx=" → 2 bytes
 * alphabet  A–Z a–z 0–9 + /       (CR, LF, SP, HT between characters are skipped)
 * ```
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const PAD = 0x3d; // '='
const SKIP = -2;
const INVALID = -1;

/** Character code → sextet, SKIP for white space, INVALID otherwise. */
const DECODE = (() => {
  const t = new Int8Array(256).fill(INVALID);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  for (const c of [0x0d, 0x0a, 0x20, 0x09]) t[c] = SKIP;
  return t;
})();

const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/**
 * Decodes base64 text arriving in pieces of any size into bytes, with
 * padding allowed at the end of every quantum. At most three characters wait
 * between pushes, so its own memory is bounded whatever a peer sends.
 */
export class Base64Decoder implements StageCore<Uint8Array, Uint8Array> {
  /** Sextets of the quantum so far, most significant first. */
  #bits = 0;
  /** Characters of the quantum so far, padding included. */
  #count = 0;
  /** `=` characters of the quantum so far. */
  #pads = 0;
  /** Characters taken in all, for error messages. */
  #offset = 0;

  /** Decodes `chunk`; enqueues the bytes of its complete quanta, if any. */
  push(chunk: Uint8Array, out: Sink<Uint8Array>): void {
    // Three bytes per four characters, plus what waits from the last push.
    const dst = new Uint8Array(Math.floor((chunk.length + 3) / 4) * 3);
    let o = 0;
    let bits = this.#bits;
    let count = this.#count;
    let pads = this.#pads;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      const v = DECODE[c]!;
      if (v >= 0) {
        if (pads > 0) throw this.#fail(i, "a character after padding");
        bits = (bits << 6) | v;
        count++;
      } else if (c === PAD) {
        // "x===" or "====" cannot end a quantum: a byte needs two characters.
        if (count < 2) throw this.#fail(i, "padding too early in a quantum");
        pads++;
        count++;
      } else if (v === SKIP) {
        continue;
      } else {
        throw this.#fail(i, `byte 0x${c.toString(16).padStart(2, "0")}`);
      }
      if (count < 4) continue;
      if (pads === 0) {
        dst[o++] = bits >>> 16;
        dst[o++] = (bits >>> 8) & 0xff;
        dst[o++] = bits & 0xff;
      } else if (pads === 1) { // 18 bits: two bytes and two spare bits
        dst[o++] = bits >>> 10;
        dst[o++] = (bits >>> 2) & 0xff;
      } else { // 12 bits: one byte and four spare bits
        dst[o++] = bits >>> 4;
      }
      bits = 0;
      count = 0;
      pads = 0;
    }
    this.#bits = bits;
    this.#count = count;
    this.#pads = pads;
    this.#offset += chunk.length;
    if (o > 0) out.enqueue(dst.subarray(0, o));
  }

  /** Whether characters of an unfinished quantum wait. */
  get pending(): boolean {
    return this.#count > 0;
  }

  /** Rejects an unfinished quantum. */
  end(): void {
    if (this.#count > 0) {
      throw new ProtocolError(
        "Cannot decode base64: input ended inside a quantum",
        { protocol: "rtsp", code: "truncated" },
      );
    }
  }

  #fail(at: number, what: string): ProtocolError {
    return new ProtocolError(
      `Cannot decode base64: ${what} at offset ${this.#offset + at}`,
      { protocol: "rtsp", code: "malformed" },
    );
  }
}

/** {@link Base64Decoder} as a `TransformStream`. */
export class Base64DecoderStream extends StageStream<Uint8Array, Uint8Array> {
  constructor() {
    super(new Base64Decoder());
  }
}

/** `bytes` as base64 text (ASCII bytes), padded: one request of a tunnel's POST body. */
export function encodeBase64(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ENCODE[n >>> 18]!;
    out[o++] = ENCODE[(n >>> 12) & 63]!;
    out[o++] = ENCODE[(n >>> 6) & 63]!;
    out[o++] = ENCODE[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = ENCODE[n >>> 18]!;
    out[o++] = ENCODE[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? ENCODE[(n >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return out;
}
