/**
 * How many frames an H.264 stream may reorder, from its SPS: the VUI's
 * max_num_reorder_frames (ITU-T H.264 §E.1.1, bitstream_restriction), or
 * what the profile and picture order count type imply when the VUI is
 * silent. {@link parseSps} reads the SPS, VUI included.
 *
 * @module
 */

import { parseSps } from "./sps.ts";

/** Intra profiles: with constraint_set3_flag, max_num_reorder_frames is inferred 0 (§E.2.1). */
const INTRA_PROFILES = new Set([44, 86, 100, 110, 122, 244]);
/** Baseline: no B slices. */
const BASELINE = 66;
/** constraint_set3_flag in the constraint byte (`constraintFlags`). */
const CONSTRAINT_SET3 = 0x10;

/**
 * The number of frames that may precede a frame in decoding order and follow
 * it in output order: max_num_reorder_frames when the SPS's VUI has
 * bitstream_restriction; 0 when the stream cannot reorder
 * (pic_order_cnt_type 2, Baseline, intra profiles with constraint_set3);
 * otherwise undefined (the spec then infers the whole DPB, far more than
 * encoders use, so the caller measures instead).
 *
 * @throws {ProtocolError} where {@link parseSps} throws
 */
export function h264ReorderDepth(sps: Uint8Array): number | undefined {
  const info = parseSps(sps);
  if (info.maxNumReorderFrames !== undefined) return info.maxNumReorderFrames;
  const intra = (info.constraintFlags & CONSTRAINT_SET3) !== 0 &&
    INTRA_PROFILES.has(info.profileIdc);
  return info.picOrderCntType === 2 || info.profileIdc === BASELINE || intra
    ? 0
    : undefined;
}
