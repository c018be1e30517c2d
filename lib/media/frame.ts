/**
 * Frames: one access unit of one track.
 *
 * @module
 */

/** One access unit of one track, in the track's clock. */
export interface Frame {
  /** `Track.id` of the track it belongs to. */
  trackId: number;
  /** Decode time in track clock ticks; may exceed 2^32 (unwrapped at the edge). */
  dts: number;
  /** Presentation time in track clock ticks; `pts - dts` may be negative. */
  pts: number;
  /** A video frame a decoder can start at (IDR/IRAP); always true for audio. */
  keyframe: boolean;
  /**
   * H.264/H.265: the NAL units of the access unit without start codes or
   * length prefixes. Other codecs: one element, the raw frame (AV1: the
   * temporal unit's OBUs; AAC: one raw AU without ADTS).
   */
  units: Uint8Array[];
}

/** Total bytes of a frame's units. */
export function frameSize(frame: Frame): number {
  let n = 0;
  for (const u of frame.units) n += u.length;
  return n;
}
