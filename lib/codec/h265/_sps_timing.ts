/**
 * The rest of an H.265 SPS after its sub-layer ordering info, read only as
 * far as the VUI's timing info (ITU-T H.265 §7.3.2.2.1, §7.3.4, §7.3.7,
 * §E.2.1): coding block sizes, scaling lists, PCM, the short-term
 * reference picture sets (with inter-set prediction), long-term pictures,
 * then the VUI up to vui_num_units_in_tick and vui_time_scale.
 *
 * @module
 */

import type { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";

/** num_short_term_ref_pic_sets is at most 64 (§7.4.3.2.1). */
const MAX_RPS = 64;
/** num_negative_pics + num_positive_pics stay under MaxDpbSize (≤ 16). */
const MAX_DELTAS = 16;
/** num_long_term_ref_pics_sps is at most 32. */
const MAX_LONG_TERM = 32;

/** A short-term RPS as its delta POCs (§7.4.8). */
interface Rps {
  negative: number[];
  positive: number[];
}

/**
 * Frames per second from the VUI timing info (vui_time_scale ÷
 * vui_num_units_in_tick), reading `r` from the field after the sub-layer
 * ordering info; `undefined` without VUI or timing info.
 *
 * @throws {ProtocolError} when the SPS ends or breaks before it
 */
export function readSpsFrameRate(
  r: BitReader,
  log2MaxPocLsb: number,
): number | undefined {
  for (let i = 0; i < 6; i++) r.ue(); // block sizes, transform depths
  if (r.bit()) { // scaling_list_enabled_flag
    if (r.bit()) skipScalingListData(r); // sps_scaling_list_data_present_flag
  }
  r.skip(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
  if (r.bit()) { // pcm_enabled_flag
    r.skip(8);
    r.ue(), r.ue();
    r.skip(1);
  }
  const count = r.ue(); // num_short_term_ref_pic_sets
  if (count > MAX_RPS) throw fail(`${count} short-term RPS`);
  const sets: Rps[] = [];
  for (let i = 0; i < count; i++) sets.push(readRps(r, sets));
  if (r.bit()) { // long_term_ref_pics_present_flag
    const n = r.ue();
    if (n > MAX_LONG_TERM) throw fail(`${n} long-term pictures`);
    r.skip(n * (log2MaxPocLsb + 1));
  }
  r.skip(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
  if (!r.bit()) return undefined; // vui_parameters_present_flag
  if (r.bit() && r.bits(8) === 255) r.skip(32); // aspect_ratio_info, EXTENDED_SAR
  if (r.bit()) r.skip(1); // overscan_info_present_flag
  if (r.bit()) { // video_signal_type_present_flag
    r.skip(4);
    if (r.bit()) r.skip(24); // colour_description_present_flag
  }
  if (r.bit()) r.ue(), r.ue(); // chroma_loc_info_present_flag
  r.skip(3); // neutral_chroma, field_seq, frame_field_info_present
  if (r.bit()) r.ue(), r.ue(), r.ue(), r.ue(); // default_display_window_flag
  if (!r.bit()) return undefined; // vui_timing_info_present_flag
  const unitsInTick = r.bits(32);
  const timeScale = r.bits(32);
  return unitsInTick > 0 && timeScale > 0 ? timeScale / unitsInTick : undefined;
}

/** scaling_list_data(), §7.3.4. */
function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let m = 0; m < 6; m += sizeId === 3 ? 3 : 1) {
      if (!r.bit()) { // scaling_list_pred_mode_flag
        r.ue(); // scaling_list_pred_matrix_id_delta
        continue;
      }
      const coefs = Math.min(64, 1 << (4 + (sizeId << 1)));
      if (sizeId > 1) r.se(); // scaling_list_dc_coef_minus8
      for (let i = 0; i < coefs; i++) r.se(); // scaling_list_delta_coef
    }
  }
}

/** st_ref_pic_set(idx) of the SPS (§7.3.7) and its delta POCs (§7.4.8). */
function readRps(r: BitReader, sets: readonly Rps[]): Rps {
  const idx = sets.length;
  if (idx > 0 && r.bit()) { // inter_ref_pic_set_prediction_flag
    const ref = sets[idx - 1]!; // delta_idx_minus1 is sent in slices only
    const sign = r.bit();
    const deltaRps = (1 - 2 * sign) * (r.ue() + 1);
    const s0 = ref.negative;
    const s1 = ref.positive;
    const use: boolean[] = [];
    for (let j = 0; j <= s0.length + s1.length; j++) {
      const used = r.bit() === 1; // used_by_curr_pic_flag
      use.push(used || r.bit() === 1); // use_delta_flag, inferred 1 when used
    }
    // (7-61), (7-62): the order matters to the sets predicted from this one
    const negative: number[] = [];
    const positive: number[] = [];
    for (let j = s1.length - 1; j >= 0; j--) {
      const d = s1[j]! + deltaRps;
      if (d < 0 && use[s0.length + j]) negative.push(d);
    }
    if (deltaRps < 0 && use[s0.length + s1.length]) negative.push(deltaRps);
    for (let j = 0; j < s0.length; j++) {
      const d = s0[j]! + deltaRps;
      if (d < 0 && use[j]) negative.push(d);
    }
    for (let j = s0.length - 1; j >= 0; j--) {
      const d = s0[j]! + deltaRps;
      if (d > 0 && use[j]) positive.push(d);
    }
    if (deltaRps > 0 && use[s0.length + s1.length]) positive.push(deltaRps);
    for (let j = 0; j < s1.length; j++) {
      const d = s1[j]! + deltaRps;
      if (d > 0 && use[s0.length + j]) positive.push(d);
    }
    return bounded({ negative, positive });
  }
  const neg = r.ue(); // num_negative_pics
  const pos = r.ue(); // num_positive_pics
  if (neg + pos > MAX_DELTAS) throw fail(`${neg + pos} pictures in an RPS`);
  const negative: number[] = [];
  const positive: number[] = [];
  let poc = 0;
  for (let i = 0; i < neg; i++) {
    poc -= r.ue() + 1; // delta_poc_s0_minus1
    r.skip(1); // used_by_curr_pic_s0_flag
    negative.push(poc);
  }
  poc = 0;
  for (let i = 0; i < pos; i++) {
    poc += r.ue() + 1; // delta_poc_s1_minus1
    r.skip(1); // used_by_curr_pic_s1_flag
    positive.push(poc);
  }
  return { negative, positive };
}

function bounded(rps: Rps): Rps {
  const n = rps.negative.length + rps.positive.length;
  if (n > MAX_DELTAS) throw fail(`${n} pictures in an RPS`);
  return rps;
}

function fail(detail: string) {
  return codecError("parse H.265 SPS", "malformed", detail);
}
