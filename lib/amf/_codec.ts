/**
 * What AMF0 and AMF3 decode and encode alike: UTF-8 read and counted, a
 * writer that counts before it writes, and the loops that decode or encode
 * every value of a buffer with one set of reference tables. Private to
 * `amf/`; `amf3.ts` re-exports it.
 *
 * @module
 */

import { ByteReader } from "../binary.ts";
import type { ProtocolError } from "../errors.ts";
import {
  type AmfDecodeOptions,
  type AmfLimits,
  amfLimits,
  type AmfValue,
} from "./value.ts";

const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a leading U+FEFF is data
const encoder = new TextEncoder();

/**
 * Reads `length` bytes of UTF-8 at the reader's position, checked against
 * the bytes left before anything is decoded; invalid sequences become U+FFFD.
 */
export function readUtf8(reader: ByteReader, length: number): string {
  const at = reader.pos;
  reader.skip(length); // throws truncated when the data is shorter
  return utf8Range(reader.bytes, at, at + length);
}

const codes: number[] = [];

/** Short ASCII (most names and values) skips `TextDecoder` and its view. */
function utf8Range(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(bytes.subarray(start, end));
  codes.length = end - start;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
    codes[i - start] = b;
  }
  return String.fromCharCode.apply(null, codes);
}

/** Bytes `s` takes as UTF-8, as `TextEncoder` writes it (a lone surrogate becomes U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (
      (c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 2; // a pair: 2 units, 4 bytes
      i++;
    } else n += 2; // BMP or lone surrogate: 3 bytes
  }
  return n;
}

/**
 * Big-endian writer for the AMF encoders. Without a buffer it only counts
 * (`pos` is the size); given the buffer of that size, the same calls fill it.
 * One code path for both passes keeps size and content in step.
 */
export class AmfWriter {
  readonly #bytes: Uint8Array<ArrayBuffer> | undefined;
  readonly #view: DataView | undefined;
  /** Bytes counted or written so far. */
  pos = 0;

  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    this.#bytes = bytes;
    this.#view = bytes &&
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(v: number): void {
    if (this.#bytes) this.#bytes[this.pos] = v;
    this.pos += 1;
  }
  u16(v: number): void {
    this.#view?.setUint16(this.pos, v);
    this.pos += 2;
  }
  i16(v: number): void {
    this.#view?.setInt16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.#view?.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }
  f64(v: number): void {
    this.#view?.setFloat64(this.pos, v);
    this.pos += 8;
  }
  /** AMF3 §1.3.1 variable-length unsigned 29-bit integer. */
  u29(v: number): void {
    if (v < 0x80) this.u8(v);
    else if (v < 0x4000) {
      this.u8((v >>> 7) | 0x80);
      this.u8(v & 0x7f);
    } else if (v < 0x200000) {
      this.u8((v >>> 14) | 0x80);
      this.u8(((v >>> 7) & 0x7f) | 0x80);
      this.u8(v & 0x7f);
    } else if (v <= 0x1fffffff) {
      this.u8((v >>> 22) | 0x80);
      this.u8(((v >>> 15) & 0x7f) | 0x80);
      this.u8(((v >>> 8) & 0x7f) | 0x80);
      this.u8(v & 0xff);
    } else {
      throw new RangeError(`Cannot encode AMF3 U29 ${v}: above 2^29 - 1`);
    }
  }
  /** Writes `s` as UTF-8; `byteLength` is its {@link utf8Length}. */
  utf8(s: string, byteLength: number): void {
    const bytes = this.#bytes;
    if (bytes) {
      if (byteLength === s.length) {
        for (let i = 0; i < s.length; i++) {
          bytes[this.pos + i] = s.charCodeAt(i);
        }
      } else {
        encoder.encodeInto(s, bytes.subarray(this.pos, this.pos + byteLength));
      }
    }
    this.pos += byteLength;
  }
  bytes(b: Uint8Array): void {
    this.#bytes?.set(b, this.pos);
    this.pos += b.length;
  }
}

/** One AMF version as {@link decodeAll} and {@link encodeAll} drive it. */
export interface AmfFormat {
  /** A reader with fresh reference tables, kept for every value of a buffer. */
  reader(reader: ByteReader, limits: AmfLimits): {
    value(depth: number): AmfValue;
  };
  /** A writer with fresh reference tables, kept for every value of a buffer. */
  writer(writer: AmfWriter): { value(v: unknown): void };
  /** The `limit` error for a buffer of more than `max` values. */
  tooManyValues(max: number): ProtocolError;
}

/**
 * Decodes every value in `bytes` with one reader, so references reach
 * across values; more than `maxItems` values is a `limit` error.
 */
export function decodeAll(
  bytes: Uint8Array,
  format: AmfFormat,
  options?: AmfDecodeOptions,
): AmfValue[] {
  const limits = amfLimits(options);
  const reader = new ByteReader(bytes, "amf");
  const amf = format.reader(reader, limits);
  const values: AmfValue[] = [];
  while (reader.remaining > 0) {
    if (values.length >= limits.maxItems) {
      throw format.tooManyValues(limits.maxItems);
    }
    values.push(amf.value(0));
  }
  return values;
}

/**
 * Encodes `values` with one writer: a counting pass sizes the buffer, a
 * second pass over the same calls fills it.
 */
export function encodeAll(
  values: unknown[],
  format: AmfFormat,
): Uint8Array<ArrayBuffer> {
  const counter = new AmfWriter();
  const sizing = format.writer(counter);
  for (const v of values) sizing.value(v);
  const bytes = new Uint8Array(counter.pos);
  const filling = format.writer(new AmfWriter(bytes));
  for (const v of values) filling.value(v);
  return bytes;
}
