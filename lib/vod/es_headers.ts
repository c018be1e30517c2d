/**
 * The few header fields a raw elementary stream's reader needs beyond the
 * SPS: a slice's picture order count LSB (ITU-T H.264 §7.3.3, H.265
 * §7.3.6.1), the H.265 PPS flags that come before it (§7.3.2.3.1), and the
 * frame rate of the H.265 VPS timing info (§7.3.2.1). Each returns
 * `undefined` for what a unit does not carry or cannot be read.
 *
 * @module
 */

import { BitReader } from "../binary.ts";
import { ProtocolError } from "../errors.ts";
import type { H264Sps } from "../codec/h264/sps.ts";
import { H264_NAL_TYPE } from "../codec/h264/nal.ts";
import { unescapeRbsp } from "../codec/nal_units.ts";
import { H265_NAL_TYPE, isH265Irap } from "../codec/h265/nal.ts";

/** Bytes of a slice read for its header (the POC LSB is in the first few). */
const SLICE_HEAD_BYTES = 64;

/**
 * pic_order_cnt_lsb of an H.264 slice (§7.3.3) under `sps`; `undefined`
 * for pic_order_cnt_type 1 and 2 (no LSB sent) or a cut header.
 */
export function h264PocLsb(
  nal: Uint8Array,
  sps: Pick<
    H264Sps,
    | "separateColourPlane"
    | "log2MaxFrameNum"
    | "frameMbsOnly"
    | "picOrderCntType"
    | "log2MaxPocLsb"
  >,
): number | undefined {
  if (sps.picOrderCntType !== 0) return undefined;
  return read(nal, 1, (r) => {
    r.ue(); // first_mb_in_slice
    r.ue(); // slice_type
    r.ue(); // pic_parameter_set_id
    if (sps.separateColourPlane) r.skip(2); // colour_plane_id
    r.skip(sps.log2MaxFrameNum); // frame_num
    if (!sps.frameMbsOnly && r.bit()) r.skip(1); // field_pic_flag, bottom_field_flag
    if ((nal[0]! & 0x1f) === H264_NAL_TYPE.IDR) r.ue(); // idr_pic_id
    return r.bits(sps.log2MaxPocLsb);
  });
}

/** The H.265 PPS fields a slice header needs before its POC LSB. */
export interface H265PpsHead {
  ppsId: number;
  outputFlagPresent: boolean;
  numExtraSliceHeaderBits: number;
}

/** The first fields of an H.265 PPS (§7.3.2.3.1). */
export function h265PpsHead(nal: Uint8Array): H265PpsHead | undefined {
  return read(nal, 2, (r) => {
    const ppsId = r.ue(); // pps_pic_parameter_set_id
    r.ue(); // pps_seq_parameter_set_id
    r.skip(1); // dependent_slice_segments_enabled_flag
    const outputFlagPresent = r.bit() === 1;
    const numExtraSliceHeaderBits = r.bits(3);
    return { ppsId, outputFlagPresent, numExtraSliceHeaderBits };
  });
}

/**
 * slice_pic_order_cnt_lsb of the first slice segment of an H.265 picture
 * (§7.3.6.1): 0 for IDR pictures, which send none; `undefined` for a later
 * slice segment or a header that cannot be read.
 */
export function h265PocLsb(
  nal: Uint8Array,
  sps: { log2MaxPocLsb: number; separateColourPlane: boolean },
  ppsOf: (id: number) => H265PpsHead | undefined,
): number | undefined {
  const type = (nal[0]! >> 1) & 0x3f;
  return read(nal, 2, (r) => {
    if (r.bit() !== 1) return undefined; // first_slice_segment_in_pic_flag
    if (isH265Irap(type)) r.skip(1); // no_output_of_prior_pics_flag
    const pps = ppsOf(r.ue()); // slice_pic_parameter_set_id
    if (pps === undefined) return undefined;
    r.skip(pps.numExtraSliceHeaderBits); // slice_reserved_flag[i]
    r.ue(); // slice_type
    if (pps.outputFlagPresent) r.skip(1); // pic_output_flag
    if (sps.separateColourPlane) r.skip(2); // colour_plane_id
    if (
      type === H265_NAL_TYPE.IDR_W_RADL || type === H265_NAL_TYPE.IDR_N_LP
    ) return 0;
    return r.bits(sps.log2MaxPocLsb);
  });
}

/**
 * Frames per second of an H.265 VPS's timing info (§7.3.2.1:
 * vps_time_scale ÷ vps_num_units_in_tick), when it has one.
 */
export function h265VpsFrameRate(nal: Uint8Array): number | undefined {
  return read(unescapeRbsp(nal), 2, (r) => {
    r.skip(4 + 1 + 1 + 6); // vps id, base layer flags, vps_max_layers_minus1
    const maxSub = r.bits(3); // vps_max_sub_layers_minus1
    r.skip(1 + 16); // vps_temporal_id_nesting_flag, vps_reserved_0xffff_16bits
    // profile_tier_level(1, maxSub), §7.3.3
    r.skip(96);
    const flags: number[] = [];
    for (let i = 0; i < maxSub; i++) flags.push(r.bits(2));
    if (maxSub > 0) r.skip(2 * (8 - maxSub));
    for (const f of flags) r.skip((f & 2 ? 88 : 0) + (f & 1 ? 8 : 0));
    const allLayers = r.bit() === 1; // vps_sub_layer_ordering_info_present_flag
    for (let i = allLayers ? 0 : maxSub; i <= maxSub; i++) {
      r.ue(), r.ue(), r.ue();
    }
    const maxLayerId = r.bits(6); // vps_max_layer_id
    const layerSets = r.ue(); // vps_num_layer_sets_minus1 (≤ 1023)
    if (layerSets > 1023) return undefined;
    r.skip(layerSets * (maxLayerId + 1)); // layer_id_included_flag
    if (r.bit() !== 1) return undefined; // vps_timing_info_present_flag
    const unitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    return unitsInTick > 0 && timeScale > 0
      ? timeScale / unitsInTick
      : undefined;
  }, false);
}

/** Runs `fields` on a unit's RBSP after its `header` bytes; a read error is `undefined`. */
function read<T>(
  nal: Uint8Array,
  header: number,
  fields: (r: BitReader) => T | undefined,
  unescape = true,
): T | undefined {
  if (nal.length <= header) return undefined;
  const rbsp = unescape ? unescapeRbsp(nal.subarray(0, SLICE_HEAD_BYTES)) : nal;
  try {
    return fields(new BitReader(rbsp.subarray(header)));
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}
