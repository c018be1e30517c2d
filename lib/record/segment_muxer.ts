/**
 * What a recording container does with a segment: the bytes that open its
 * file, frames gathered into parts (each written whole, in one write), and
 * the patches written when the segment closes.
 *
 * @module
 */

import type { Metadata } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";

/** Bytes to write over earlier bytes of the file when a segment closes. */
export interface FilePatch {
  offset: number;
  bytes: Uint8Array;
}

/** How a segment starts. */
export interface SegmentOpening {
  /** Wall clock of the segment's media time 0, ms since the epoch (UTC). */
  startMs: number;
  /**
   * The segment's first frame (a video keyframe when there is video) and
   * its track, times relative to the segment start.
   */
  first?: { track: Track; frame: Frame };
}

/** One recording container (fMP4, FLV), one segment at a time. */
export interface SegmentMuxer {
  /** File extension, without the dot. */
  readonly extension: "mp4" | "flv";
  /**
   * Starts a segment of `tracks`: the bytes that open its file. Frames
   * added after it carry times relative to the segment's start.
   */
  open(
    tracks: readonly Track[],
    metadata: Metadata | undefined,
    start?: SegmentOpening,
  ): Uint8Array;
  /**
   * Adds a frame of `track` whose `dts`/`pts` are already relative to the
   * segment start, in the track's clock (never negative dts).
   */
  add(track: Track, frame: Frame): void;
  /**
   * Everything added since the last part, as one buffer to write whole;
   * `undefined` when nothing is waiting. `last` is set for the segment's
   * final part (an fMP4 muxer then writes the samples it held back, the
   * last ending at `endSec` from the segment start when the next segment
   * starts there).
   */
  part(last: boolean, endSec?: number): Uint8Array | undefined;
  /** The segment is over: what to write over its opening bytes, if anything. */
  close(durationSeconds: number): FilePatch[];
}

/**
 * What makes two tracks record into the same segment: codec and codec
 * configuration (a change starts a new segment).
 */
export function trackSignature(tracks: readonly Track[]): string {
  return tracks.map((t) => {
    if (t.kind === "video") {
      const ps = t.parameterSets;
      const parts = ps === undefined
        ? []
        : [...ps.vps ?? [], ...ps.sps, ...ps.pps];
      return `v${t.id}:${t.codec}:${hexOf(t.record)}:${
        parts.map(hexOf).join(",")
      }`;
    }
    return `a${t.id}:${t.codec}:${t.sampleRate}:${t.channels}:${
      hexOf(t.config)
    }`;
  }).join("|");
}

function hexOf(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return "";
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
