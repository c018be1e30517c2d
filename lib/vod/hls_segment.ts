/**
 * One HLS segment of a file, made on demand: a cursor seeks the file to the
 * segment's keyframe and its frames go through the same part writer the
 * live HLS uses (the shared MP4 fragmenter or the MPEG-TS muxer), so a
 * file's segments are byte for byte what live HLS would make of it.
 *
 * Which frames belong to a segment: video from its keyframe up to (not
 * including) the keyframe that starts the next one, in decode order; audio
 * whose presentation time falls in the segment. Every timestamp moves by
 * the file's B-frame lead so decode times never go below zero, the same
 * for every segment: segments join without gaps or overlaps.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { createPartWriter, type HlsVariant } from "../hls/part_writer.ts";
import type { VodSpan } from "./hls_index.ts";
import { VodFormatError, type VodSource } from "./source.ts";

/** Bytes of media one segment may hold (a file with keyframes hours apart is refused). */
export const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Frames one segment may hold. */
const MAX_SEGMENT_FRAMES = 200_000;
/** Seconds below which two times are the same. */
const EPSILON = 1e-6;
/** Seconds past a keyframe's time a seek aims at, so rounding never finds the keyframe before. */
const SEEK_NUDGE = 1e-4;

/** The init segment of `tracks` (fMP4), written once per file and variant. */
export function vodInitSegment(tracks: readonly Track[]): Uint8Array {
  const init = createPartWriter("fmp4", tracks).init;
  if (init === undefined) throw new TypeError("fMP4 writes an init segment");
  return init;
}

/**
 * Segment `span` of `source` as `variant` writes it (`fmp4` or `mpegts`)
 * for `tracks` (from `chooseTracks`). Throws a `VodFormatError` when the
 * file cannot give it (broken, or too large a segment).
 */
export async function writeVodSegment(
  source: VodSource,
  tracks: readonly Track[],
  variant: HlsVariant,
  span: VodSpan,
): Promise<Uint8Array> {
  const writer = createPartWriter(variant, tracks);
  const byId = new Map(tracks.map((t) => [t.id, t]));
  const video = tracks.find((t) => t.kind === "video");
  const hasAudio = tracks.some((t) => t.kind === "audio");
  const shift = (f: Frame): Frame => {
    const lead = Math.round(
      source.leadSeconds * byId.get(f.trackId)!.clockRate,
    );
    return lead === 0 ? f : { ...f, dts: f.dts + lead, pts: f.pts + lead };
  };
  const cursor = await source.cursor(
    span.start + (video === undefined ? 0 : SEEK_NUDGE),
  );
  let videoOpen = video !== undefined;
  let audioOpen = hasAudio;
  let boundary: Frame | undefined;
  let frames = 0;
  let bytes = 0;
  let wrote = false;
  while (videoOpen || audioOpen) {
    const next = await cursor.next();
    if (next === undefined) break;
    const { frame, seconds } = next;
    const track = byId.get(frame.trackId);
    if (track === undefined) continue;
    if (track.kind === "video") {
      if (!videoOpen) continue;
      if (wrote && frame.keyframe && seconds >= span.end - EPSILON) {
        videoOpen = false;
        boundary = shift(frame);
        continue;
      }
    } else {
      if (!audioOpen || seconds < span.start - EPSILON) continue;
      if (seconds >= span.end - EPSILON) {
        audioOpen = false;
        if (video === undefined) boundary = shift(frame);
        continue;
      }
    }
    for (const u of frame.units) bytes += u.length;
    if (++frames > MAX_SEGMENT_FRAMES || bytes > MAX_SEGMENT_BYTES) {
      throw new VodFormatError(
        `a segment of this file would hold more than ${MAX_SEGMENT_BYTES} bytes`,
      );
    }
    writer.push(shift(frame), "none");
    wrote = true;
  }
  // The frame that opens the next segment ends this one (fMP4 sample durations).
  const out = boundary === undefined
    ? writer.end()
    : writer.push(boundary, "segment");
  if (out === undefined || out.length === 0) {
    throw new VodFormatError("no frames in this segment of the file");
  }
  return out;
}
