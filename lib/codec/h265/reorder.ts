/**
 * How many pictures an H.265 stream may reorder, from its SPS:
 * sps_max_num_reorder_pics of the highest sub-layer (ITU-T H.265
 * §7.3.2.2.1), always present, as {@link parseH265Sps} reads it.
 *
 * @module
 */

import { codecError } from "../_error.ts";
import { parseH265Sps } from "./sps.ts";

/**
 * The number of pictures that may precede a picture in decoding order and
 * follow it in output order (sps_max_num_reorder_pics[HighestTid]).
 *
 * @throws {ProtocolError} where {@link parseH265Sps} throws, and `malformed`
 * when the SPS has no readable sps_max_num_reorder_pics
 */
export function h265ReorderDepth(sps: Uint8Array): number {
  const reorder = parseH265Sps(sps).maxNumReorderPics;
  if (reorder === undefined) {
    throw codecError(
      "read H.265 reorder depth",
      "malformed",
      "no sps_max_num_reorder_pics of 16 or less",
    );
  }
  return reorder;
}
