/**
 * HEVCDecoderConfigurationRecord (hvcC), ISO/IEC 14496-15 §8.3.3.1.2: the
 * H.265 sequence header of FLV (Enhanced RTMP 'hvc1') and MP4.
 *
 * ```
 * configurationVersion (8) | general_profile_space (2) tier (1) profile_idc (5)
 * general_profile_compatibility_flags (32) | general_constraint_indicator_flags (48)
 * general_level_idc (8) | '1111'b min_spatial_segmentation_idc (12)
 * '111111'b parallelismType (2) | '111111'b chromaFormat (2)
 * '11111'b bitDepthLumaMinus8 (3) | '11111'b bitDepthChromaMinus8 (3) | avgFrameRate (16)
 * constantFrameRate (2) numTemporalLayers (3) temporalIdNested (1) lengthSizeMinusOne (2)
 * numOfArrays (8) | { array_completeness (1) '0'b NAL_unit_type (6) | numNalus (16)
 *                     | { nalUnitLength (16) | NAL unit }* }*
 * ```
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../../binary.ts";
import { codecError } from "../_error.ts";
import { unescapeRbsp } from "../nal_units.ts";
import { H265_NAL_TYPE } from "./nal.ts";
import { parseH265Sps } from "./sps.ts";
import type { ParameterSets } from "../../media/track.ts";

/** What {@link parseHvcc} reads from an hvcC record. */
export interface Hvcc {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  levelIdc: number;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  /** Bytes of each NAL unit's length prefix in samples: 1, 2 or 4. */
  lengthSize: number;
  /** VPS, SPS and PPS NAL units, views of the record; other arrays (SEI) are skipped. */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

const HEADER_SIZE = 23;

/**
 * Parses an hvcC record. Accepts configurationVersion 0, which encoders wrote
 * before the third edition of ISO/IEC 14496-15 settled on 1.
 */
export function parseHvcc(record: Uint8Array): Hvcc {
  if (record.length < HEADER_SIZE) {
    throw fail(
      "truncated",
      `${record.length} bytes, header needs ${HEADER_SIZE}`,
    );
  }
  const version = record[0]!;
  if (version > 1) throw fail("malformed", `configurationVersion ${version}`);
  const lengthSize = (record[21]! & 0x03) + 1;
  if (lengthSize === 3) {
    throw fail("malformed", "lengthSizeMinusOne 2 is reserved");
  }
  const out: Hvcc = {
    profileSpace: record[1]! >> 6,
    tierFlag: (record[1]! >> 5) & 1,
    profileIdc: record[1]! & 0x1f,
    levelIdc: record[12]!,
    chromaFormat: record[16]! & 0x03,
    bitDepthLuma: (record[17]! & 0x07) + 8,
    bitDepthChroma: (record[18]! & 0x07) + 8,
    numTemporalLayers: (record[21]! >> 3) & 0x07,
    temporalIdNested: (record[21]! & 0x04) !== 0,
    lengthSize,
    vps: [],
    sps: [],
    pps: [],
  };
  const r = new ByteReader(record, "codec");
  r.skip(22);
  const arrays = r.u8();
  for (let a = 0; a < arrays; a++) {
    const type = r.u8() & 0x3f;
    const count = r.u16();
    const list = type === H265_NAL_TYPE.VPS
      ? out.vps
      : type === H265_NAL_TYPE.SPS
      ? out.sps
      : type === H265_NAL_TYPE.PPS
      ? out.pps
      : undefined;
    for (let i = 0; i < count; i++) {
      const size = r.u16();
      if (size < 2) throw fail("malformed", `NAL unit of ${size} bytes`);
      const nal = r.bytesView(size);
      list?.push(nal);
    }
  }
  return out;
}

/**
 * Builds an hvcC record (4-byte lengths, arrays marked complete) from
 * parameter set NAL units; the header fields come from the first SPS.
 */
export function buildHvcc(sets: ParameterSets): Uint8Array<ArrayBuffer> {
  const { vps = [], sps, pps } = sets;
  const first = sps[0];
  if (first === undefined) {
    throw codecError("build hvcC", "malformed", "no SPS");
  }
  const info = parseH265Sps(first);
  // The 12 bytes of general profile_tier_level sit after the 2-byte NAL
  // header and one byte of VPS id / sub-layer count (§7.3.2.2.1).
  const ptl = unescapeRbsp(first).subarray(3, 15);
  if (ptl.length < 12) {
    throw codecError(
      "build hvcC",
      "truncated",
      "SPS shorter than its profile_tier_level",
    );
  }
  const arrays = [
    { type: H265_NAL_TYPE.VPS, units: vps },
    { type: H265_NAL_TYPE.SPS, units: sps },
    { type: H265_NAL_TYPE.PPS, units: pps },
  ].filter((a) => a.units.length > 0);
  let size = HEADER_SIZE;
  for (const a of arrays) {
    if (a.units.length > 0xffff) {
      throw codecError("build hvcC", "limit", `${a.units.length} NAL units`);
    }
    size += 3;
    for (const u of a.units) {
      if (u.length > 0xffff) {
        throw codecError(
          "build hvcC",
          "limit",
          `NAL unit of ${u.length} bytes`,
        );
      }
      size += 2 + u.length;
    }
  }
  const w = new ByteWriter(size);
  w.u8(1).write(ptl);
  w.u16(0xf000); // min_spatial_segmentation_idc 0: unknown
  w.u8(0xfc); // parallelismType 0: unknown
  w.u8(0xfc | info.chromaFormatIdc);
  w.u8(0xf8 | ((info.bitDepthLuma - 8) & 7)).u8(
    0xf8 | ((info.bitDepthChroma - 8) & 7),
  );
  w.u16(0); // avgFrameRate unknown
  w.u8((info.maxSubLayers << 3) | (info.temporalIdNesting ? 0x04 : 0) | 0x03);
  w.u8(arrays.length);
  for (const a of arrays) {
    w.u8(0x80 | a.type).u16(a.units.length);
    for (const u of a.units) w.u16(u.length).write(u);
  }
  return w.bytes;
}

function fail(code: "truncated" | "malformed", detail: string) {
  return codecError("parse hvcC", code, detail);
}
