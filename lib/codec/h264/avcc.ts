/**
 * AVCDecoderConfigurationRecord (avcC), ISO/IEC 14496-15 §5.3.3.1: the H.264
 * sequence header of FLV and MP4.
 *
 * ```
 * configurationVersion (8) = 1 | AVCProfileIndication (8) | profile_compatibility (8)
 * AVCLevelIndication (8) | '111111'b lengthSizeMinusOne (2)
 * '111'b numOfSequenceParameterSets (5) | { sequenceParameterSetLength (16) | SPS }*
 * numOfPictureParameterSets (8) | { pictureParameterSetLength (16) | PPS }*
 * [profiles 100, 110, 122, 144: '111111'b chroma_format (2) | '11111'b bit_depth_luma_minus8 (3)
 *  | '11111'b bit_depth_chroma_minus8 (3) | numOfSequenceParameterSetExt (8) | …]
 * ```
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../../binary.ts";
import { codecError } from "../_error.ts";

/** What {@link parseAvcc} reads from an avcC record. */
export interface Avcc {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** Bytes of each NAL unit's length prefix in samples: 1, 2 or 4. */
  lengthSize: number;
  /** SPS NAL units, views of the record. */
  sps: Uint8Array[];
  /** PPS NAL units, views of the record. */
  pps: Uint8Array[];
}

/**
 * Parses an avcC record. Parameter sets are views of `record` (slice the
 * record if it must outlive its buffer). The optional high-profile tail is
 * not read.
 */
export function parseAvcc(record: Uint8Array): Avcc {
  const r = new ByteReader(record, "codec"); // running out is a `truncated` ProtocolError
  const version = r.u8();
  if (version !== 1) {
    throw fail("malformed", `configurationVersion ${version} is not 1`);
  }
  const profileIdc = r.u8();
  const profileCompatibility = r.u8();
  const levelIdc = r.u8();
  const lengthSize = (r.u8() & 0x03) + 1;
  if (lengthSize === 3) {
    throw fail("malformed", "lengthSizeMinusOne 2 is reserved");
  }
  const sps = readSets(r, r.u8() & 0x1f);
  const pps = readSets(r, r.u8());
  return { profileIdc, profileCompatibility, levelIdc, lengthSize, sps, pps };
}

function readSets(r: ByteReader, count: number): Uint8Array[] {
  const sets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u16();
    if (size === 0) throw fail("malformed", "empty parameter set");
    sets.push(r.bytesView(size));
  }
  return sets;
}

/**
 * Builds an avcC record (4-byte lengths) from SPS and PPS NAL units; profile,
 * compatibility and level are copied from the first SPS.
 */
export function buildAvcc(
  sps: readonly Uint8Array[],
  pps: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const first = sps[0];
  if (first === undefined || first.length < 4) {
    throw codecError("build avcC", "malformed", "no SPS of 4 bytes or more");
  }
  if (sps.length > 31 || pps.length > 255) {
    throw codecError(
      "build avcC",
      "limit",
      `${sps.length} SPS and ${pps.length} PPS`,
    );
  }
  let size = 7;
  for (const p of [...sps, ...pps]) {
    if (p.length > 0xffff) {
      throw codecError(
        "build avcC",
        "limit",
        `parameter set of ${p.length} bytes`,
      );
    }
    size += 2 + p.length;
  }
  const w = new ByteWriter(size);
  w.u8(1).u8(first[1]!).u8(first[2]!).u8(first[3]!).u8(0xff).u8(
    0xe0 | sps.length,
  );
  for (const s of sps) w.u16(s.length).write(s);
  w.u8(pps.length);
  for (const p of pps) w.u16(p.length).write(p);
  return w.bytes;
}

function fail(code: "malformed", detail: string) {
  return codecError("parse avcC", code, detail);
}
