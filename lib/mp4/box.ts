/**
 * ISO base media file format boxes, ISO/IEC 14496-12 §4.2: the 8-byte header
 * (32-bit size, four-character type), the FullBox version and flags, and the
 * fixed-size field writing every other file of this folder builds on.
 *
 * ```
 * Box:     size (32) | type (32) | payload
 * FullBox: size (32) | type (32) | version (8) | flags (24) | payload
 * ```
 *
 * @module
 */

import { ByteWriter } from "../binary.ts";

/** Bytes of a box header (32-bit size and type). */
export const BOX_HEADER_SIZE = 8;
/** Bytes of a FullBox header (box header, version and flags). */
export const FULL_BOX_HEADER_SIZE = 12;

/** The four-character code `type` as a 32-bit number. */
export function fourCc(type: string): number {
  if (type.length !== 4) {
    throw new RangeError(`Box type "${type}" is not 4 characters`);
  }
  return ((type.charCodeAt(0) << 24) | (type.charCodeAt(1) << 16) |
    (type.charCodeAt(2) << 8) | type.charCodeAt(3)) >>> 0;
}

/** A box of `type` around `payload` (one exact allocation). */
export function box(
  type: string,
  ...payload: readonly Uint8Array[]
): Uint8Array<ArrayBuffer> {
  let size = BOX_HEADER_SIZE;
  for (const p of payload) size += p.length;
  const w = new ByteWriter(size);
  w.u32(size).u32(fourCc(type));
  for (const p of payload) w.write(p);
  return w.bytes;
}

/** A FullBox of `type` with `version` and 24-bit `flags`. */
export function fullBox(
  type: string,
  version: number,
  flags: number,
  ...payload: readonly Uint8Array[]
): Uint8Array<ArrayBuffer> {
  return box(
    type,
    u32(((version << 24) | (flags & 0xffffff)) >>> 0),
    ...payload,
  );
}

/** `size` bytes filled by `fill` (fields of a box payload). */
export function fields(
  size: number,
  fill: (w: ByteWriter) => void,
): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(size);
  fill(w);
  if (w.pos !== size) {
    throw new RangeError(`Box fields wrote ${w.pos} bytes, not ${size}`);
  }
  return w.bytes;
}

/** One big-endian 32-bit field. */
export function u32(v: number): Uint8Array<ArrayBuffer> {
  return fields(4, (w) => w.u32(v));
}

/** Writes a 64-bit unsigned integer (exact up to 2^53). */
export function writeU64(w: ByteWriter, v: number): void {
  if (v < 0 || !Number.isSafeInteger(v)) {
    throw new RangeError(`Cannot write ${v} as a 64-bit unsigned field`);
  }
  w.u32(Math.floor(v / 2 ** 32)).u32(v >>> 0);
}

/** Four-character codes as bytes, e.g. for brand lists. */
export function fourCcBytes(...types: string[]): Uint8Array<ArrayBuffer> {
  return fields(4 * types.length, (w) => {
    for (const t of types) w.u32(fourCc(t));
  });
}

/** The unity transformation matrix of mvhd and tkhd (§8.2.2.3), 16.16 and 2.30 fixed point. */
export const UNITY_MATRIX: readonly number[] = [
  0x00010000,
  0,
  0,
  0,
  0x00010000,
  0,
  0,
  0,
  0x40000000,
];

/** `ftyp` (§4.3) or `styp` (§8.16.2): major brand, minor version, compatible brands. */
export function fileType(
  type: "ftyp" | "styp",
  major: string,
  minor: number,
  compatible: readonly string[],
): Uint8Array<ArrayBuffer> {
  return box(type, fourCcBytes(major), u32(minor), fourCcBytes(...compatible));
}
