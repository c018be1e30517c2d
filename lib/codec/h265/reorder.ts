/**
 * How many pictures an H.265 stream may reorder, from its SPS:
 * sps_max_num_reorder_pics of the highest sub-layer (ITU-T H.265
 * §7.3.2.2.1), always present. {@link parseH265Sps} stops before it; this
 * walks the same fields to reach it.
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";
import { unescapeRbsp } from "../nal_units.ts";
import { H265_NAL_TYPE } from "./nal.ts";

/**
 * The number of pictures that may precede a picture in decoding order and
 * follow it in output order (sps_max_num_reorder_pics[HighestTid]).
 */
export function h265ReorderDepth(sps: Uint8Array): number {
  if (sps.length < 4) throw fail("truncated", `${sps.length} bytes`);
  const type = (sps[0]! >> 1) & 0x3f;
  if (type !== H265_NAL_TYPE.SPS) {
    throw fail("malformed", `NAL unit type ${type} is not 33`);
  }
  const r = new BitReader(unescapeRbsp(sps).subarray(2));
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) {
    throw fail("malformed", `sps_max_sub_layers_minus1 ${maxSubLayersMinus1}`);
  }
  r.skip(1); // sps_temporal_id_nesting_flag
  // profile_tier_level(1, sps_max_sub_layers_minus1), §7.3.3
  r.skip(88); // general profile space … general_level_idc (without it)
  r.skip(8); // general_level_idc
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
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag
  r.ue(); // pic_width_in_luma_samples
  r.ue(); // pic_height_in_luma_samples
  if (r.bit()) { for (let i = 0; i < 4; i++) r.ue(); // conformance_window_flag, offsets
   }
  r.ue(); // bit_depth_luma_minus8
  r.ue(); // bit_depth_chroma_minus8
  r.ue(); // log2_max_pic_order_cnt_lsb_minus4
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
  if (reorder > 16) {
    throw fail("malformed", `sps_max_num_reorder_pics ${reorder}`);
  }
  return reorder;
}

function fail(code: "truncated" | "malformed", detail: string) {
  return codecError("read H.265 reorder depth", code, detail);
}
