/**
 * fMP4 recordings (CMAF): the init segment from the shared MP4 writer, then
 * one `moof`+`mdat` per part. Each part reaches the disk whole, so a file
 * cut by a crash is readable up to its last complete fragment.
 *
 * @module
 */

import { Mp4Fragmenter } from "../mp4/fragmenter.ts";
import { MOVIE_TIMESCALE } from "../mp4/movie.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { FilePatch, SegmentMuxer } from "./segment_muxer.ts";

/**
 * Writes fMP4 segments with {@link Mp4Fragmenter}. The init segment gets a
 * `mehd` (§8.8.2) whose fragment duration is filled in when the segment
 * closes: GStreamer's qtdemux takes a fragmented file's length from it
 * (without one it reports the first fragment's).
 */
export class Fmp4SegmentMuxer implements SegmentMuxer {
  readonly extension = "mp4" as const;
  #fragmenter: Mp4Fragmenter | undefined;
  #tracks: readonly Track[] = [];
  /** Where the `mehd` fragment_duration field is in the file. */
  #mehdOffset: number | undefined;

  open(tracks: readonly Track[]): Uint8Array {
    this.#tracks = tracks;
    this.#fragmenter = new Mp4Fragmenter(tracks, { firstSequence: 1 });
    const { bytes, durationOffset } = withMehd(this.#fragmenter.init);
    this.#mehdOffset = durationOffset;
    return bytes;
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
    this.#fragmenter = undefined;
    if (this.#mehdOffset === undefined) return [];
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(
      0,
      BigInt(Math.max(0, Math.round(durationSeconds * MOVIE_TIMESCALE))),
    );
    return [{ offset: this.#mehdOffset, bytes }];
  }
}

/** The `mehd` box: version 1, a 64-bit fragment_duration, 0 until the segment closes. */
const MEHD_SIZE = 20;

/**
 * `init` with a `mehd` as the first box of `moov`/`mvex`, and where its
 * duration field is; `init` unchanged when it has no `mvex`.
 */
function withMehd(
  init: Uint8Array,
): { bytes: Uint8Array; durationOffset: number | undefined } {
  const view = new DataView(init.buffer, init.byteOffset, init.byteLength);
  const find = (type: string, start: number, end: number) => {
    for (let p = start; p + 8 <= end;) {
      const size = view.getUint32(p);
      if (size < 8) return undefined;
      if (boxType(init, p + 4) === type) return { at: p, size };
      p += size;
    }
    return undefined;
  };
  const moov = find("moov", 0, init.length);
  if (moov === undefined) return { bytes: init, durationOffset: undefined };
  const mvex = find("mvex", moov.at + 8, moov.at + moov.size);
  if (mvex === undefined) return { bytes: init, durationOffset: undefined };
  const out = new Uint8Array(init.length + MEHD_SIZE);
  const insert = mvex.at + 8;
  out.set(init.subarray(0, insert));
  out.set(init.subarray(insert), insert + MEHD_SIZE);
  const o = new DataView(out.buffer);
  o.setUint32(moov.at, moov.size + MEHD_SIZE);
  o.setUint32(mvex.at, mvex.size + MEHD_SIZE);
  o.setUint32(insert, MEHD_SIZE);
  out.set([0x6d, 0x65, 0x68, 0x64], insert + 4); // "mehd"
  o.setUint32(insert + 8, 0x01000000); // version 1, flags 0
  return { bytes: out, durationOffset: insert + 12 };
}

function boxType(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}
