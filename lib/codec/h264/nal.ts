/**
 * H.264 NAL unit types (ITU-T H.264 Table 7-1) and the keyframe check.
 *
 * @module
 */

/** `nal_unit_type` values of ITU-T H.264 Table 7-1 that Sluice looks at. */
export const H264_NAL_TYPE = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
} as const;
/** One of {@link H264_NAL_TYPE}. */
export type H264NalType = typeof H264_NAL_TYPE[keyof typeof H264_NAL_TYPE];

/** `nal_unit_type` of an H.264 NAL unit (the low 5 bits of its first byte). */
export function h264NalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** Whether an access unit holds an IDR slice, where a decoder can start. */
export function isH264Keyframe(units: readonly Uint8Array[]): boolean {
  for (const u of units) if (h264NalType(u) === H264_NAL_TYPE.IDR) return true;
  return false;
}
