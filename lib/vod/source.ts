/**
 * A media file as a source: its tracks in the media model, its duration,
 * and cursors that hand out its frames in decode order from a position.
 * Every reader of a file has its own cursor; the file and its demuxer are
 * shared.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";

/** How a cursor walks the file. */
export type VodDirection =
  /** Every frame of every track, forward. */
  | "all"
  /** Video keyframes only, forward (fast forward, RTSP `Scale` > 1). */
  | "keyframes"
  /** Video keyframes only, backward (RTSP `Scale` < 0). */
  | "reverse";

/** A frame with where it sits in the file, in seconds from the file's start. */
export interface VodFrame {
  frame: Frame;
  /** Presentation time in the file, seconds from its start (≥ 0). */
  seconds: number;
}

/** A position in a file that hands out frames one by one. */
export interface VodCursor {
  /** Where the cursor started (the keyframe at or before the position asked), seconds. */
  readonly startSeconds: number;
  /** The next frame, or `undefined` at the end of the file (or of a broken file). */
  next(): Promise<VodFrame | undefined>;
}

/** A file opened for reading. */
export interface VodSource {
  /** Tracks Sluice can send, with their codec configuration. */
  readonly tracks: readonly Track[];
  /** Duration, seconds. */
  readonly durationSeconds: number;
  /**
   * How far the first decode time runs ahead of presentation (B-frames),
   * seconds: frame timestamps start at minus this much.
   */
  readonly leadSeconds: number;
  /** The container's name, for logs. */
  readonly format: string;
  /**
   * A cursor at the video keyframe at or before `seconds` (clamped to the
   * file), or at `seconds` for a file without video.
   */
  cursor(seconds: number, direction?: VodDirection): Promise<VodCursor>;
  /**
   * Presentation times of the video keyframes, seconds from the file's
   * start, ascending, read from the container's index (no sample data);
   * empty for a file without video.
   */
  keyframes(): Promise<number[]>;
  /** Frees the demuxer; cursors end. */
  close(): void;
}

/** A file that is not media Sluice can read, or is broken beyond reading. */
export class VodFormatError extends Error {
  override name = "VodFormatError";
}
