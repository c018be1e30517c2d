/**
 * VP9 configuration: the VPCodecConfigurationRecord (vpcC) of "VP Codec ISO
 * Media File Format Binding" §2.2, as Enhanced RTMP's 'vp09' SequenceStart
 * carries it, and the frame size of a keyframe's uncompressed header (VP9
 * bitstream spec §6.2).
 *
 * ```
 * [version (8) = 1 | flags (24) = 0: the FullBox header, present in MP4, absent
 *  in what ffmpeg's FLV muxer writes]
 * profile (8) | level (8) | bitDepth (4) | chromaSubsampling (3) | videoFullRangeFlag (1)
 * colourPrimaries (8) | transferCharacteristics (8) | matrixCoefficients (8)
 * codecInitializationDataSize (16) | codecInitializationData
 * ```
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";

/** What {@link parseVpcc} reads. */
export interface Vpcc {
  profile: number;
  level: number;
  bitDepth: number;
  chromaSubsampling: number;
  videoFullRange: boolean;
  colourPrimaries: number;
  transferCharacteristics: number;
  matrixCoefficients: number;
}

/** Parses a vpcC record, with or without the 4-byte FullBox version and flags. */
export function parseVpcc(record: Uint8Array): Vpcc {
  let at = 0;
  // With the FullBox header the initialization size sits at 10, else at 6.
  if (
    record.length >= 12 && record[0] === 1 && record[1] === 0 &&
    record[2] === 0 && record[3] === 0
  ) {
    const initSize = (record[10]! << 8) | record[11]!;
    if (12 + initSize <= record.length) at = 4;
  }
  if (record.length - at < 8) throw fail("truncated", `${record.length} bytes`);
  const initSize = (record[at + 6]! << 8) | record[at + 7]!;
  if (at + 8 + initSize > record.length) {
    throw fail("truncated", `initialization data of ${initSize} bytes`);
  }
  const profile = record[at]!;
  if (profile > 3) throw fail("malformed", `profile ${profile}`);
  const b = record[at + 2]!;
  return {
    profile,
    level: record[at + 1]!,
    bitDepth: b >> 4,
    chromaSubsampling: (b >> 1) & 0x07,
    videoFullRange: (b & 1) === 1,
    colourPrimaries: record[at + 3]!,
    transferCharacteristics: record[at + 4]!,
    matrixCoefficients: record[at + 5]!,
  };
}

/** Size of a VP9 keyframe from its uncompressed header; undefined for other frames. */
export function parseVp9KeyframeSize(
  frame: Uint8Array,
): { width: number; height: number } | undefined {
  const r = new BitReader(frame);
  if (r.bits(2) !== 2) {
    throw fail("malformed", "frame_marker is not 2", "read VP9 frame header");
  }
  const profile = r.bit() | (r.bit() << 1);
  if (profile === 3) r.skip(1); // reserved_zero
  if (r.bit()) return undefined; // show_existing_frame
  if (r.bit() !== 0) return undefined; // frame_type 1: not a keyframe
  r.skip(2); // show_frame, error_resilient_mode
  if (r.bits(24) !== 0x498342) {
    throw fail("malformed", "no frame sync code", "read VP9 frame header");
  }
  // color_config(), §6.2.2
  if (profile >= 2) r.skip(1); // ten_or_twelve_bit
  const colorSpace = r.bits(3);
  if (colorSpace !== 7) { // CS_RGB
    r.skip(1); // color_range
    if (profile === 1 || profile === 3) r.skip(3); // subsampling_x, subsampling_y, reserved_zero
  } else if (profile === 1 || profile === 3) {
    r.skip(1); // reserved_zero
  }
  return { width: r.bits(16) + 1, height: r.bits(16) + 1 };
}

function fail(
  code: "truncated" | "malformed",
  detail: string,
  action = "parse vpcC",
) {
  return codecError(action, code, detail);
}
