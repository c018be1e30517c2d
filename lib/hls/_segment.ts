/**
 * What the segmenter keeps of each part and segment (private to lib/hls).
 *
 * @module
 */

/** A part kept in memory. */
export interface Part {
  bytes: Uint8Array;
  duration: number;
  independent: boolean;
}

/** A segment kept in memory. */
export interface Segment {
  msn: number;
  start: number;
  duration: number;
  pdtMs: number;
  discontinuity: boolean;
  initGen: number;
  parts: Part[];
  size: number;
  /** The whole segment, once complete. */
  bytes?: Uint8Array;
}
