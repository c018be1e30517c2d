/**
 * H.264 sequence parameter set, ITU-T H.264 §7.3.2.1.1: the fields a server
 * needs (profile, level, coded size after cropping) and those a later slice
 * header parse needs (frame_num and picture order count sizes).
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";
import { unescapeRbsp } from "../nal_units.ts";
import { H264_NAL_TYPE } from "./nal.ts";

/** What {@link parseSps} reads from an SPS. */
export interface H264Sps {
  profileIdc: number;
  /** constraint_set0_flag … constraint_set5_flag and the two reserved bits, as one byte. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4; 1 when the profile does not send it. */
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** log2_max_frame_num_minus4 + 4. */
  log2MaxFrameNum: number;
  /** 0, 1 or 2. */
  picOrderCntType: number;
  /** log2_max_pic_order_cnt_lsb_minus4 + 4; only for `picOrderCntType` 0, else 0. */
  log2MaxPocLsb: number;
  /** `picOrderCntType` 1 only. */
  deltaPicOrderAlwaysZero: boolean;
  offsetForNonRefPic: number;
  offsetForTopToBottomField: number;
  offsetForRefFrame: number[];
  maxNumRefFrames: number;
  frameMbsOnly: boolean;
  mbAdaptiveFrameField: boolean;
  /** Displayed size: macroblocks × 16 minus the cropping window. */
  width: number;
  height: number;
}

/** profile_idc values that carry chroma_format_idc and bit depths (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([
  100,
  110,
  122,
  244,
  44,
  83,
  86,
  118,
  128,
  138,
  139,
  134,
  135,
]);
/** Widest picture accepted, in macroblocks (16 px each): 65 536 px. */
const MAX_MBS = 4096;

/**
 * Parses an H.264 SPS NAL unit (header byte included, emulation prevention
 * bytes allowed). Stops after the cropping window: VUI is not read.
 */
export function parseSps(nal: Uint8Array): H264Sps {
  if (nal.length < 4) throw fail("truncated", `${nal.length} bytes`);
  const type = nal[0]! & 0x1f;
  if (type !== H264_NAL_TYPE.SPS) {
    throw fail("malformed", `NAL unit type ${type} is not 7`);
  }
  const r = new BitReader(unescapeRbsp(nal).subarray(1));
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  const spsId = r.ue();
  if (spsId > 31) {
    throw fail("malformed", `seq_parameter_set_id ${spsId} exceeds 31`);
  }
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) {
      throw fail("malformed", `chroma_format_idc ${chromaFormatIdc}`);
    }
    if (chromaFormatIdc === 3) separateColourPlane = r.bit() === 1;
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    if (bitDepthLuma > 14 || bitDepthChroma > 14) {
      throw fail("malformed", "bit depth over 14");
    }
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) { // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  const log2MaxFrameNumMinus4 = r.ue();
  if (log2MaxFrameNumMinus4 > 12) {
    throw fail(
      "malformed",
      `log2_max_frame_num_minus4 ${log2MaxFrameNumMinus4}`,
    );
  }
  const picOrderCntType = r.ue();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  let offsetForNonRefPic = 0;
  let offsetForTopToBottomField = 0;
  const offsetForRefFrame: number[] = [];
  if (picOrderCntType === 0) {
    const minus4 = r.ue();
    if (minus4 > 12) {
      throw fail("malformed", `log2_max_pic_order_cnt_lsb_minus4 ${minus4}`);
    }
    log2MaxPocLsb = minus4 + 4;
  } else if (picOrderCntType === 1) {
    deltaPicOrderAlwaysZero = r.bit() === 1;
    offsetForNonRefPic = r.se();
    offsetForTopToBottomField = r.se();
    const cycle = r.ue();
    if (cycle > 255) {
      throw fail("malformed", `num_ref_frames_in_pic_order_cnt_cycle ${cycle}`);
    }
    for (let i = 0; i < cycle; i++) offsetForRefFrame.push(r.se());
  } else if (picOrderCntType !== 2) {
    throw fail("malformed", `pic_order_cnt_type ${picOrderCntType}`);
  }
  const maxNumRefFrames = r.ue();
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  if (widthMbs > MAX_MBS || heightMapUnits > MAX_MBS) {
    throw fail("limit", `${widthMbs}x${heightMapUnits} macroblocks`);
  }
  const frameMbsOnly = r.bit() === 1;
  const mbAdaptiveFrameField = frameMbsOnly ? false : r.bit() === 1;
  r.skip(1); // direct_8x8_inference_flag
  let width = widthMbs * 16;
  let height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  if (r.bit()) { // frame_cropping_flag
    const left = r.ue(), right = r.ue(), top = r.ue(), bottom = r.ue();
    // Table 6-1 and equations 7-19 to 7-22: crop units by ChromaArrayType.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 3 ? 1 : 2;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const cropX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropY = (chromaArrayType === 0 ? 1 : subHeightC) *
      (frameMbsOnly ? 1 : 2);
    width -= cropX * (left + right);
    height -= cropY * (top + bottom);
    if (width <= 0 || height <= 0) {
      throw fail("malformed", "cropping window larger than the picture");
    }
  }
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum: log2MaxFrameNumMinus4 + 4,
    picOrderCntType,
    log2MaxPocLsb,
    deltaPicOrderAlwaysZero,
    offsetForNonRefPic,
    offsetForTopToBottomField,
    offsetForRefFrame,
    maxNumRefFrames,
    frameMbsOnly,
    mbAdaptiveFrameField,
    width,
    height,
  };
}

/** scaling_list(), §7.3.2.1.1.1: only delta_scale is coded. */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) {
        throw fail("malformed", `delta_scale ${delta}`);
      }
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

function fail(code: "truncated" | "malformed" | "limit", detail: string) {
  return codecError("parse H.264 SPS", code, detail);
}
