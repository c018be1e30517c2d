/**
 * Codec configuration records for AV1 and VP9 tracks whose container has
 * none to hand over: WebM's VP9 has no CodecPrivate, and the demuxer gives
 * no av1C for MP4 or Matroska AV1. Both records are rebuilt from the
 * RFC 6381 codec string the demuxer derives from the stream (and, for AV1,
 * the sequence header OBU of the first keyframe).
 *
 * @module
 */

import { AV1_OBU_TYPE } from "../codec/av1/av1c.ts";

/** A field of a codec string, a whole number within `max`; `fallback` when absent. */
function field(
  parts: readonly string[],
  i: number,
  fallback: number,
  max: number,
): number | undefined {
  const text = parts[i];
  if (text === undefined) return fallback;
  const m = /^(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return n <= max ? n : undefined;
}

/**
 * The av1C record (AV1 ISOBMFF binding §2.3.3) of codec string
 * `av01.P.LLT.DD[.M.CCC…]` (AV1 codec string, Annex A), with the sequence
 * header OBU found at the start of `firstKey` as its configOBUs.
 */
export function av1cFromCodecString(
  codec: string,
  firstKey: Uint8Array | undefined,
): Uint8Array | undefined {
  const parts = codec.split(".");
  if (parts[0] !== "av01" || parts.length < 4) return undefined;
  const profile = field(parts, 1, 0, 2);
  const lt = /^(\d{2})([MH])$/.exec(parts[2] ?? "");
  const depth = field(parts, 3, 8, 12);
  const mono = field(parts, 4, 0, 1);
  const chroma = /^([01])([01])([0-3])$/.exec(parts[5] ?? "110");
  if (
    profile === undefined || lt === null || depth === undefined ||
    mono === undefined || chroma === null || ![8, 10, 12].includes(depth)
  ) return undefined;
  const level = Number(lt[1]);
  if (level > 31) return undefined;
  const head = new Uint8Array([
    0x81, // marker 1, version 1
    (profile << 5) | level,
    (lt[2] === "H" ? 0x80 : 0) | (depth > 8 ? 0x40 : 0) |
    (depth === 12 ? 0x20 : 0) | (mono << 4) | (Number(chroma[1]) << 3) |
    (Number(chroma[2]) << 2) | Number(chroma[3]),
    0, // no initial_presentation_delay
  ]);
  const obu = firstKey === undefined ? undefined : sequenceHeaderObu(firstKey);
  if (obu === undefined) return head;
  const out = new Uint8Array(head.length + obu.length);
  out.set(head);
  out.set(obu, head.length);
  return out;
}

/** The sequence header OBU (with its header) among the OBUs of a temporal unit. */
function sequenceHeaderObu(obus: Uint8Array): Uint8Array | undefined {
  let pos = 0;
  for (let n = 0; pos < obus.length && n < 16; n++) {
    const header = obus[pos]!;
    if (header & 0x80 || !(header & 0x02)) return undefined; // sizes are needed to walk
    let at = pos + 1 + (header & 0x04 ? 1 : 0);
    let size = 0;
    for (let i = 0; i < 8; i++, at++) {
      if (at >= obus.length) return undefined;
      size += (obus[at]! & 0x7f) * 2 ** (7 * i);
      if (!(obus[at]! & 0x80)) {
        at++;
        break;
      }
    }
    if (size > obus.length - at) return undefined;
    if (((header >> 3) & 0x0f) === AV1_OBU_TYPE.SEQUENCE_HEADER) {
      return obus.slice(pos, at + size);
    }
    pos = at + size;
  }
  return undefined;
}

/**
 * The vpcC record body (VP codec ISO media binding §2.2, without the
 * FullBox header) of codec string `vp09.PP.LL.DD[.CC.cp.tc.mc.FF]`.
 */
export function vpccFromCodecString(codec: string): Uint8Array | undefined {
  const parts = codec.split(".");
  if (parts[0] !== "vp09" || parts.length < 4) return undefined;
  const values = [
    field(parts, 1, 0, 3), // profile
    field(parts, 2, 10, 255), // level
    field(parts, 3, 8, 12), // bit depth
    field(parts, 4, 1, 3), // chroma subsampling: 4:2:0 colocated
    field(parts, 5, 1, 255), // colour primaries: BT.709
    field(parts, 6, 1, 255), // transfer characteristics
    field(parts, 7, 1, 255), // matrix coefficients
    field(parts, 8, 0, 1), // full range
  ];
  if (values.some((v) => v === undefined)) return undefined;
  const [profile, level, depth, chroma, cp, tc, mc, full] = values as number[];
  return new Uint8Array([
    profile!,
    level!,
    (depth! << 4) | (chroma! << 1) | full!,
    cp!,
    tc!,
    mc!,
    0, // no codec initialization data
    0,
  ]);
}
