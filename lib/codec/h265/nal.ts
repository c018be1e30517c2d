/**
 * H.265 NAL unit types (ITU-T H.265 Table 7-1) and the keyframe check.
 *
 * @module
 */

/** `nal_unit_type` values of ITU-T H.265 Table 7-1 that Sluice looks at. */
export const H265_NAL_TYPE = {
  TRAIL_R: 1,
  BLA_W_LP: 16,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA: 21,
  /** Last of the IRAP range 16..23 (22 and 23 are reserved IRAP types). */
  RSV_IRAP_23: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  END_OF_SEQUENCE: 36,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
} as const;
/** One of {@link H265_NAL_TYPE}. */
export type H265NalType = typeof H265_NAL_TYPE[keyof typeof H265_NAL_TYPE];

/** `nal_unit_type` of an H.265 NAL unit (bits 1..6 of its first byte). */
export function h265NalType(nal: Uint8Array): number {
  return ((nal[0] ?? 0) >> 1) & 0x3f;
}

/** Whether a NAL unit type is an IRAP picture (BLA, IDR, CRA: 16..23). */
export function isH265Irap(type: number): boolean {
  return type >= H265_NAL_TYPE.BLA_W_LP && type <= H265_NAL_TYPE.RSV_IRAP_23;
}

/** Whether an access unit holds an IRAP picture, where a decoder can start. */
export function isH265Keyframe(units: readonly Uint8Array[]): boolean {
  for (const u of units) if (isH265Irap(h265NalType(u))) return true;
  return false;
}
