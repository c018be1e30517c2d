/**
 * H.265 sequence parameter set, ITU-T H.265 §7.3.2.2.1, up to the
 * sub-layer ordering info: profile, tier, level, chroma format, the
 * conformance-window size, bit depths and the reorder limit. Also what an
 * hvcC record copies from it.
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { ProtocolError } from "../../errors.ts";
import { codecError } from "../_error.ts";
import { unescapeRbsp } from "../nal_units.ts";
import { H265_NAL_TYPE } from "./nal.ts";
import { readSpsFrameRate } from "./_sps_timing.ts";

/** What {@link parseH265Sps} reads from an SPS. */
export interface H265Sps {
  /** sps_max_sub_layers_minus1 + 1. */
  maxSubLayers: number;
  temporalIdNesting: boolean;
  /** general_profile_space, general_tier_flag, general_profile_idc (§7.3.3). */
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31] as a 32-bit number. */
  profileCompatibilityFlags: number;
  /** The 48 bits from general_progressive_source_flag on, as a number. */
  constraintIndicatorFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  /** Displayed size: pic_width/height_in_luma_samples minus the conformance window. */
  width: number;
  height: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /**
   * sps_max_num_reorder_pics of the highest sub-layer (HighestTid);
   * undefined when the SPS ends or breaks before it.
   */
  maxNumReorderPics?: number;
  /**
   * log2_max_pic_order_cnt_lsb_minus4 + 4: the bits of a slice's
   * slice_pic_order_cnt_lsb; undefined when the SPS ends before it.
   */
  log2MaxPocLsb?: number;
  /**
   * Frames per second from the VUI's timing info (vui_time_scale ÷
   * vui_num_units_in_tick, §E.2.1); undefined without it, or when the SPS
   * cannot be read that far.
   */
  frameRate?: number;
}

/** Largest picture side accepted, in luma samples. */
const MAX_SIDE = 65536;
/** Largest sps_max_num_reorder_pics accepted: it stays below MaxDpbSize, at most 16 (§7.4.3.2.1, A.4.2). */
const MAX_REORDER = 16;

/** Parses an H.265 SPS NAL unit (2-byte header included, emulation prevention allowed). */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  if (nal.length < 4) throw fail("truncated", `${nal.length} bytes`);
  const type = (nal[0]! >> 1) & 0x3f;
  if (type !== H265_NAL_TYPE.SPS) {
    throw fail("malformed", `NAL unit type ${type} is not 33`);
  }
  const r = new BitReader(unescapeRbsp(nal).subarray(2));
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) {
    throw fail("malformed", `sps_max_sub_layers_minus1 ${maxSubLayersMinus1}`);
  }
  const temporalIdNesting = r.bit() === 1;
  // profile_tier_level(1, sps_max_sub_layers_minus1), §7.3.3
  const profileSpace = r.bits(2);
  const tierFlag = r.bit();
  const profileIdc = r.bits(5);
  const profileCompatibilityFlags = r.bits(32);
  const constraintIndicatorFlags = r.bits(16) * 2 ** 32 + r.bits(32);
  const levelIdc = r.bits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit() === 1);
    subLevel.push(r.bit() === 1);
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  const spsId = r.ue();
  if (spsId > 15) {
    throw fail("malformed", `sps_seq_parameter_set_id ${spsId} exceeds 15`);
  }
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) {
    throw fail("malformed", `chroma_format_idc ${chromaFormatIdc}`);
  }
  const separateColourPlane = chromaFormatIdc === 3 ? r.bit() === 1 : false;
  let width = r.ue();
  let height = r.ue();
  if (width === 0 || height === 0 || width > MAX_SIDE || height > MAX_SIDE) {
    throw fail("limit", `picture of ${width}x${height}`);
  }
  if (r.bit()) { // conformance_window_flag; offsets in chroma units (Table 6-1)
    const left = r.ue(), right = r.ue(), top = r.ue(), bottom = r.ue();
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
    if (width <= 0 || height <= 0) {
      throw fail("malformed", "conformance window larger than the picture");
    }
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  if (bitDepthLuma > 16 || bitDepthChroma > 16) {
    throw fail("malformed", "bit depth over 16");
  }
  const ordering = readOrdering(r, maxSubLayersMinus1);
  const frameRate = ordering.maxNumReorderPics === undefined ||
      ordering.log2MaxPocLsb === undefined
    ? undefined
    : readOrUndefined(() => readSpsFrameRate(r, ordering.log2MaxPocLsb!));
  return {
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    profileSpace,
    tierFlag,
    profileIdc,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    width,
    height,
    bitDepthLuma,
    bitDepthChroma,
    ...ordering,
    ...(frameRate !== undefined ? { frameRate } : {}),
  };
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}

/**
 * log2_max_pic_order_cnt_lsb_minus4 and the sub-layer ordering info: the
 * last field parsed, so an SPS cut or broken there still gives the rest
 * (a read error reads as "unknown").
 */
function readOrdering(
  r: BitReader,
  maxSubLayersMinus1: number,
): Pick<H265Sps, "maxNumReorderPics" | "log2MaxPocLsb"> {
  let log2MaxPocLsb: number | undefined;
  try {
    log2MaxPocLsb = r.ue() + 4; // log2_max_pic_order_cnt_lsb_minus4
    if (log2MaxPocLsb > 16) return {}; // §7.4.3.2.1: 0..12
    const allLayers = r.bit() === 1; // sps_sub_layer_ordering_info_present_flag
    let reorder = 0;
    for (
      let i = allLayers ? 0 : maxSubLayersMinus1;
      i <= maxSubLayersMinus1;
      i++
    ) {
      r.ue(); // sps_max_dec_pic_buffering_minus1
      reorder = r.ue(); // sps_max_num_reorder_pics: the last is HighestTid's
      r.ue(); // sps_max_latency_increase_plus1
    }
    return reorder > MAX_REORDER
      ? { log2MaxPocLsb }
      : { maxNumReorderPics: reorder, log2MaxPocLsb };
  } catch (e) {
    if (e instanceof ProtocolError) {
      return log2MaxPocLsb === undefined ? {} : { log2MaxPocLsb };
    }
    throw e;
  }
}

function fail(code: "truncated" | "malformed" | "limit", detail: string) {
  return codecError("parse H.265 SPS", code, detail);
}
