/**
 * How many frames an H.264 stream may reorder, from its SPS: the VUI's
 * max_num_reorder_frames (ITU-T H.264 §E.1.1, bitstream_restriction), or
 * what the profile and picture order count type imply when the VUI is
 * silent. {@link parseSps} stops before the VUI; this walks the same fields
 * to reach it.
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";
import { unescapeRbsp } from "../nal_units.ts";
import { H264_NAL_TYPE } from "./nal.ts";

/** profile_idc values that carry chroma_format_idc (§7.3.2.1.1). */
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
/** Intra profiles: with constraint_set3_flag, max_num_reorder_frames is inferred 0 (§E.2.1). */
const INTRA_PROFILES = new Set([44, 86, 100, 110, 122, 244]);
/** Baseline: no B slices. */
const BASELINE = 66;
/** cpb_cnt_minus1 is at most 31 (§E.2.2). */
const MAX_CPB_COUNT = 32;

/**
 * The number of frames that may precede a frame in decoding order and follow
 * it in output order: max_num_reorder_frames when the SPS's VUI has
 * bitstream_restriction; 0 when the stream cannot reorder
 * (pic_order_cnt_type 2, Baseline, intra profiles with constraint_set3);
 * otherwise undefined (the spec then infers the whole DPB, far more than
 * encoders use, so the caller measures instead).
 */
export function h264ReorderDepth(sps: Uint8Array): number | undefined {
  if (sps.length < 4) throw fail("truncated", `${sps.length} bytes`);
  const type = sps[0]! & 0x1f;
  if (type !== H264_NAL_TYPE.SPS) {
    throw fail("malformed", `NAL unit type ${type} is not 7`);
  }
  const r = new BitReader(unescapeRbsp(sps).subarray(1));
  const profileIdc = r.bits(8);
  const constraintSet3 = (r.bits(8) & 0x10) !== 0;
  r.skip(8); // level_idc
  r.ue(); // seq_parameter_set_id
  if (HIGH_PROFILES.has(profileIdc)) {
    const chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) { // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) {
      throw fail("malformed", `num_ref_frames_in_pic_order_cnt_cycle ${cycle}`);
    }
    for (let i = 0; i < cycle; i++) r.se();
  }
  const implied = pocType === 2 || profileIdc === BASELINE ||
      (constraintSet3 && INTRA_PROFILES.has(profileIdc))
    ? 0
    : undefined;
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  r.ue(); // pic_width_in_mbs_minus1
  r.ue(); // pic_height_in_map_units_minus1
  if (r.bit() === 0) r.skip(1); // frame_mbs_only_flag, mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  if (r.bit()) { for (let i = 0; i < 4; i++) r.ue(); // frame_cropping_flag, offsets
   }
  if (r.remaining === 0 || r.bit() === 0) return implied; // vui_parameters_present_flag
  // vui_parameters(), §E.1.1
  if (r.bit()) { // aspect_ratio_info_present_flag
    if (r.bits(8) === 255) r.skip(32); // Extended_SAR: sar_width, sar_height
  }
  if (r.bit()) r.skip(1); // overscan_info_present_flag, overscan_appropriate_flag
  if (r.bit()) { // video_signal_type_present_flag
    r.skip(4); // video_format, video_full_range_flag
    if (r.bit()) r.skip(24); // colour_description_present_flag, three 8-bit fields
  }
  if (r.bit()) { // chroma_loc_info_present_flag
    r.ue();
    r.ue();
  }
  if (r.bit()) r.skip(65); // timing_info_present_flag: num_units_in_tick, time_scale, fixed_frame_rate_flag
  const nalHrd = r.bit() === 1;
  if (nalHrd) skipHrd(r);
  const vclHrd = r.bit() === 1;
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.skip(1); // low_delay_hrd_flag
  r.skip(1); // pic_struct_present_flag
  if (r.bit() === 0) return implied; // bitstream_restriction_flag
  r.skip(1); // motion_vectors_over_pic_boundaries_flag
  for (let i = 0; i < 4; i++) r.ue(); // max_bytes_per_pic_denom … log2_max_mv_length_vertical
  const reorder = r.ue();
  if (reorder > 16) {
    throw fail("malformed", `max_num_reorder_frames ${reorder}`);
  }
  return reorder;
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
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

function fail(code: "truncated" | "malformed", detail: string) {
  return codecError("read H.264 reorder depth", code, detail);
}
