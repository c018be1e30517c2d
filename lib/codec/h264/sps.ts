/**
 * H.264 sequence parameter set, ITU-T H.264 §7.3.2.1.1: the fields a server
 * needs (profile, level, coded size after cropping), those a later slice
 * header parse needs (frame_num and picture order count sizes), and the
 * VUI's reorder limits (§E.1.1 bitstream_restriction) for a DTS rebuild.
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { ProtocolError } from "../../errors.ts";
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
  /**
   * max_num_reorder_frames of the VUI's bitstream_restriction (§E.2.1);
   * undefined when there is no VUI, no bitstream_restriction in it, or the
   * VUI cannot be read that far.
   */
  maxNumReorderFrames?: number;
  /**
   * max_dec_frame_buffering (as coded) from the same place; undefined when
   * that is, or when the VUI ends before it.
   */
  maxDecFrameBuffering?: number;
  /**
   * Frames per second from the VUI's timing_info (time_scale ÷ 2 ×
   * num_units_in_tick, §E.2.1); undefined without timing info.
   */
  frameRate?: number;
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
/** max_num_reorder_frames is at most MaxDpbFrames, itself at most 16 (§E.2.1, A.3.1). */
const MAX_REORDER = 16;
/** cpb_cnt_minus1 is at most 31 (§E.2.2). */
const MAX_CPB_COUNT = 32;

/**
 * Parses an H.264 SPS NAL unit (header byte included, emulation prevention
 * bytes allowed). The VUI is read only as far as bitstream_restriction, and
 * a VUI that cannot be read only leaves its fields undefined.
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
  const vui = readVui(r);
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
    ...vui,
  };
}

type VuiFields = Pick<
  H264Sps,
  "maxNumReorderFrames" | "maxDecFrameBuffering" | "frameRate"
>;

/**
 * vui_parameters_present_flag and vui_parameters(), §E.1.1, up to the
 * reorder limits. The VUI is optional and comes after every field the
 * rest of the server needs, so a VUI read error fails nothing: the fields it
 * had not reached stay undefined.
 */
function readVui(r: BitReader): VuiFields {
  const vui: VuiFields = {};
  try {
    readVuiFields(r, vui);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
  return vui;
}

function readVuiFields(r: BitReader, vui: VuiFields): void {
  if (r.bit() === 0) return; // vui_parameters_present_flag
  if (r.bit()) { // aspect_ratio_info_present_flag
    if (r.bits(8) === 255) r.skip(32); // Extended_SAR: sar_width, sar_height
  }
  if (r.bit()) r.skip(1); // overscan_info_present_flag, overscan_appropriate_flag
  if (r.bit()) { // video_signal_type_present_flag
    r.skip(4); // video_format, video_full_range_flag
    if (r.bit()) r.skip(24); // colour_description_present_flag, three 8-bit fields
  }
  if (r.bit()) { // chroma_loc_info_present_flag
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  if (r.bit()) { // timing_info_present_flag
    const unitsInTick = r.bits(32); // num_units_in_tick
    const timeScale = r.bits(32); // time_scale
    r.skip(1); // fixed_frame_rate_flag
    // a field pair ticks twice per frame (§E.2.1, equation E-1 for frames)
    if (unitsInTick > 0 && timeScale > 0) {
      vui.frameRate = timeScale / (2 * unitsInTick);
    }
  }
  const nalHrd = r.bit() === 1;
  if (nalHrd) skipHrd(r);
  const vclHrd = r.bit() === 1;
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.skip(1); // low_delay_hrd_flag
  r.skip(1); // pic_struct_present_flag
  if (r.bit() === 0) return; // bitstream_restriction_flag
  r.skip(1); // motion_vectors_over_pic_boundaries_flag
  for (let i = 0; i < 4; i++) r.ue(); // max_bytes_per_pic_denom … log2_max_mv_length_vertical
  const reorder = r.ue();
  if (reorder > MAX_REORDER) {
    throw fail("malformed", `max_num_reorder_frames ${reorder}`);
  }
  vui.maxNumReorderFrames = reorder;
  vui.maxDecFrameBuffering = r.ue();
}

/** hrd_parameters(), §E.1.2. */
function skipHrd(r: BitReader): void {
  const count = r.ue() + 1;
  if (count > MAX_CPB_COUNT) {
    throw fail("malformed", `cpb_cnt_minus1 ${count - 1}`);
  }
  r.skip(8); // bit_rate_scale, cpb_size_scale
  for (let i = 0; i < count; i++) {
    r.ue(); // bit_rate_value_minus1
    r.ue(); // cpb_size_value_minus1
    r.skip(1); // cbr_flag
  }
  r.skip(20); // four 5-bit delay and length fields
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
