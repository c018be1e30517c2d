/**
 * fMP4 recordings (CMAF): the init segment from the shared MP4 writer, then
 * one `moof`+`mdat` per part. Each part reaches the disk whole, so a file
 * cut by a crash is readable up to its last complete fragment. The init
 * segment reserves a `mehd`; when the segment closes it is written again
 * in place with the segment's duration (GStreamer's qtdemux takes a
 * fragmented file's length from it, and reports only the first fragment's
 * without one).
 *
 * @module
 */

import { Mp4Fragmenter } from "../mp4/fragmenter.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { FilePatch, SegmentMuxer } from "./segment_muxer.ts";

/** Writes fMP4 segments with {@link Mp4Fragmenter}. */
export class Fmp4SegmentMuxer implements SegmentMuxer {
  readonly extension = "mp4" as const;
  #fragmenter: Mp4Fragmenter | undefined;
  #tracks: readonly Track[] = [];

  open(tracks: readonly Track[]): Uint8Array {
    this.#tracks = tracks;
    this.#fragmenter = new Mp4Fragmenter(tracks, { reserveDuration: true });
    return this.#fragmenter.init;
  }

  add(_track: Track, frame: Frame): void {
    this.#fragmenter?.push(frame);
  }

  part(last: boolean, endSec?: number): Uint8Array | undefined {
    const f = this.#fragmenter;
    if (f === undefined) return undefined;
    if (!last) return f.flush()?.bytes;
    const end = endSec === undefined ? undefined : new Map(
      this.#tracks.map((t) => [t.id, Math.round(endSec * t.clockRate)]),
    );
    return f.end(end)?.bytes;
  }

  close(durationSeconds: number): FilePatch[] {
    const f = this.#fragmenter;
    this.#fragmenter = undefined;
    if (f === undefined) return [];
    const ms = Math.max(0, Math.round(durationSeconds * 1000));
    return [{ offset: 0, bytes: f.initSegment(ms) }];
  }
}
