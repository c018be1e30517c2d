/**
 * Big-endian readers and writers over `Uint8Array`s, the way every network
 * protocol Sluice speaks lays out its fields.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorOptions } from "./errors.ts";

type Protocol = ProtocolErrorOptions["protocol"];

/** Reads big-endian fields from a buffer; running past its end is a `truncated` {@link ProtocolError}. */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly #protocol: Protocol;
  /** Offset of the next unread byte. */
  pos = 0;

  constructor(bytes: Uint8Array, protocol: Protocol = "codec") {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#protocol = protocol;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  #need(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.length) {
      throw new ProtocolError(
        `Cannot read ${n} bytes at offset ${at}: only ${
          this.bytes.length - at
        } remain`,
        { protocol: this.#protocol, code: "truncated" },
      );
    }
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.bytes[this.#need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.#need(2));
  }
  u24(): number {
    const at = this.#need(3);
    return (this.bytes[at]! << 16) | (this.bytes[at + 1]! << 8) |
      this.bytes[at + 2]!;
  }
  /** Signed 24-bit, two's complement (FLV composition time). */
  i24(): number {
    const v = this.u24();
    return v & 0x800000 ? v - 0x1000000 : v;
  }
  u32(): number {
    return this.view.getUint32(this.#need(4));
  }
  i32(): number {
    return this.view.getInt32(this.#need(4));
  }
  u32le(): number {
    return this.view.getUint32(this.#need(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.#need(8));
  }
  /** A view of the next `n` bytes (no copy). */
  bytesView(n: number): Uint8Array {
    const at = this.#need(n);
    return this.bytes.subarray(at, at + n);
  }
  skip(n: number): void {
    this.#need(n);
  }
}

/** Writes big-endian fields into a buffer of a size known in advance. */
export class ByteWriter {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly view: DataView;
  pos = 0;

  constructor(sizeOrBuffer: number | Uint8Array<ArrayBuffer>) {
    this.bytes = typeof sizeOrBuffer === "number"
      ? new Uint8Array(sizeOrBuffer)
      : sizeOrBuffer;
    this.view = new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset,
      this.bytes.byteLength,
    );
  }

  u8(v: number): this {
    this.bytes[this.pos++] = v;
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  u24(v: number): this {
    this.bytes[this.pos] = (v >>> 16) & 0xff;
    this.bytes[this.pos + 1] = (v >>> 8) & 0xff;
    this.bytes[this.pos + 2] = v & 0xff;
    this.pos += 3;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }
  u32le(v: number): this {
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }
  f64(v: number): this {
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
    return this;
  }
  write(b: Uint8Array): this {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
}

/** Reads bit fields MSB first, with Exp-Golomb codes (ITU-T H.264 §9.1). */
export class BitReader {
  readonly #bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Bits not yet read. */
  get remaining(): number {
    return this.#bytes.length * 8 - this.#bit;
  }

  /** Reads `n` (at most 32) bits as an unsigned number. */
  bits(n: number): number {
    if (n > this.remaining) {
      throw new ProtocolError(
        `Cannot read ${n} bits: only ${this.remaining} remain`,
        {
          protocol: "codec",
          code: "truncated",
        },
      );
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#bytes[this.#bit >>> 3]!;
      v = v * 2 + ((byte >>> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }
  bit(): number {
    return this.bits(1);
  }
  skip(n: number): void {
    if (n > this.remaining) this.bits(this.remaining + 1); // throws the truncated error
    this.#bit += n;
  }
  /** ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) {
        throw new ProtocolError(
          "Cannot read Exp-Golomb code: more than 31 leading zeros",
          {
            protocol: "codec",
            code: "malformed",
          },
        );
      }
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.bits(zeros);
  }
  /** se(v). */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
