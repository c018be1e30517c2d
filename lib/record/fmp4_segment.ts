/**
 * fMP4 recordings (CMAF): the init segment from the shared MP4 writer, then
 * one `moof`+`mdat` per part. Each part reaches the disk whole, so a file
 * cut by a crash is readable up to its last complete fragment. The init
 * segment reserves a `mehd`; when the segment closes it is written again
 * in place with the segment's duration (GStreamer's qtdemux takes a
 * fragmented file's length from it, and reports only the first fragment's
 * without one).
 *
 * Two things only files get (HLS keeps neither): an edit list that starts
 * every track's presentation at the first picture (its B-frame delay), so
 * the audio before it — an AAC encoder's priming at the start of a publish
 * — falls before 0 and the tracks keep their places (see
 * `InitSegmentOptions.presentationStartSeconds`); and a `prft` before each
 * fragment with the wall-clock time of its first decode time, so the file
 * itself says when it was recorded (RTSP `Range: clock=` on VOD).
 *
 * @module
 */

import { concat } from "@std/bytes";
import { Mp4Fragmenter } from "../mp4/fragmenter.ts";
import { encodePrft } from "../mp4/prft.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type {
  FilePatch,
  SegmentMuxer,
  SegmentOpening,
} from "./segment_muxer.ts";

/** Writes fMP4 segments with {@link Mp4Fragmenter}. */
export class Fmp4SegmentMuxer implements SegmentMuxer {
  readonly extension = "mp4" as const;
  #fragmenter: Mp4Fragmenter | undefined;
  #tracks: readonly Track[] = [];
  #startMs: number | undefined;

  open(
    tracks: readonly Track[],
    _metadata?: unknown,
    start?: SegmentOpening,
  ): Uint8Array {
    this.#tracks = tracks;
    this.#startMs = start?.startMs;
    const first = start?.first;
    const delay = first !== undefined && first.track.kind === "video"
      ? Math.max(0, first.frame.pts - first.frame.dts) / first.track.clockRate
      : 0;
    this.#fragmenter = new Mp4Fragmenter(tracks, {
      reserveDuration: true,
      presentationStartSeconds: delay,
    });
    return this.#fragmenter.init;
  }

  add(_track: Track, frame: Frame): void {
    this.#fragmenter?.push(frame);
  }

  part(last: boolean, endSec?: number): Uint8Array | undefined {
    const f = this.#fragmenter;
    if (f === undefined) return undefined;
    const end = !last || endSec === undefined ? undefined : new Map(
      this.#tracks.map((t) => [t.id, Math.round(endSec * t.clockRate)]),
    );
    const fragment = last ? f.end(end) : f.flush();
    if (fragment === undefined) return undefined;
    const ref = fragment.tracks[0];
    const mp4 = f.tracks.find((t) => t.track.id === ref?.trackId);
    if (this.#startMs === undefined || ref === undefined || mp4 === undefined) {
      return fragment.bytes;
    }
    const prft = encodePrft({
      referenceTrackId: mp4.id,
      utcMs: this.#startMs + (ref.baseDecodeTime * 1000) / mp4.timescale,
      mediaTime: ref.baseDecodeTime,
    });
    return concat([prft, fragment.bytes]);
  }

  close(durationSeconds: number): FilePatch[] {
    const f = this.#fragmenter;
    this.#fragmenter = undefined;
    if (f === undefined) return [];
    const ms = Math.max(0, Math.round(durationSeconds * 1000));
    return [{ offset: 0, bytes: f.initSegment(ms) }];
  }
}
