/**
 * A progressive ("fast start") MP4: `ftyp`, then `moov` with full sample
 * tables, then one `mdat`, so a player can start and seek before the whole
 * download. Written in two passes over the same frames, so memory holds the
 * sample table (a few bytes per sample), never the media:
 *
 * ```ts ignore
 * const writer = new Mp4FileWriter(tracks);
 * for (const frame of frames()) writer.add(frame); // pass 1: sizes and times
 * const { header, size } = writer.finish(); // ftyp + moov + mdat header
 * send(header);
 * for (const frame of frames()) send(writer.sample(frame)); // pass 2, same order
 * ```
 *
 * Samples sit in the `mdat` in the order they were added; a run of
 * consecutive samples of one track is one chunk. Chunk offsets are `stco`,
 * or `co64` when the file passes 4 GiB. Each track gets an edit list that
 * puts its earliest presentation time where it was against the other tracks
 * (an empty edit first when it starts later), so B-frame delays and A/V
 * offsets survive.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { box, fields, fileType, writeU64 } from "./box.ts";
import { editBox, type Mp4Edit } from "./edit.ts";
import {
  MOVIE_TIMESCALE,
  type Mp4Track,
  mp4Tracks,
  mvhd,
  sizedFrom,
  trak,
} from "./movie.ts";
import { SampleFormat, writeParts } from "./sample.ts";
import { SampleIndex } from "./_sample_index.ts";
import { SampleTimeline } from "./_timeline.ts";
import { mp4Error } from "./_error.ts";

/** Options of {@link Mp4FileWriter}. */
export interface Mp4FileWriterOptions {
  /** A longer step between two frames of a track is a timestamp jump, not a sample. @default {10000} */
  maxSampleDurationMs?: number;
}

/** What {@link Mp4FileWriter.finish} returns. */
export interface Mp4FileHeader {
  /** `ftyp` + `moov` + the `mdat` box header. */
  header: Uint8Array<ArrayBuffer>;
  /** Bytes of the whole file: the header and every sample. */
  size: number;
}

interface TrackState {
  mp4: Mp4Track;
  format: SampleFormat;
  timeline: SampleTimeline;
  index: SampleIndex;
  /** Pass 2: the next sample of this track. */
  cursor: number;
}

/** Builds a progressive MP4 from two passes over the same frames. */
export class Mp4FileWriter {
  readonly #states = new Map<number, TrackState>();
  #mdatSize = 0;
  #lastTrack: number | undefined;
  #finished = false;

  /** Throws a `ProtocolError` (`protocol: "mp4"`) for a track it cannot describe. */
  constructor(tracks: readonly Track[], options: Mp4FileWriterOptions = {}) {
    const maxMs = options.maxSampleDurationMs ?? 10000;
    for (const mp4 of mp4Tracks(tracks)) {
      this.#states.set(mp4.track.id, {
        mp4,
        format: new SampleFormat(mp4.track),
        timeline: new SampleTimeline(
          mp4.track,
          Math.round((maxMs * mp4.timescale) / 1000),
        ),
        index: new SampleIndex(),
        cursor: 0,
      });
    }
  }

  /** The tracks as written, track_ID 1, 2, … in the order given. */
  get tracks(): Mp4Track[] {
    return [...this.#states.values()].map((s) => s.mp4);
  }

  /** Pass 1: indexes a frame (frames of other tracks are ignored). */
  add(frame: Frame): void {
    if (this.#finished) {
      throw new RangeError("Cannot add a frame after finish()");
    }
    const s = this.#states.get(frame.trackId);
    if (s === undefined) return;
    s.mp4 = sizedFrom(s.mp4, frame);
    const size = s.format.parts(frame).size;
    s.index.add(
      size,
      this.#mdatSize,
      this.#lastTrack !== frame.trackId,
      frame.keyframe,
    );
    this.#lastTrack = frame.trackId;
    this.#mdatSize += size;
    const timed = s.timeline.push(frame);
    if (timed !== undefined) {
      s.index.time(timed.decodeTime, timed.duration, timed.compositionOffset);
    }
  }

  /**
   * Ends pass 1: the last frame of each track ends at `endDts.get(trackId)`
   * when given, else lasts as long as the one before. Returns the bytes
   * before the samples and the size of the file.
   */
  finish(endDts?: ReadonlyMap<number, number>): Mp4FileHeader {
    if (this.#finished) throw new RangeError("Cannot finish twice");
    this.#finished = true;
    for (const [id, s] of this.#states) {
      const timed = s.timeline.finish(endDts?.get(id));
      if (timed !== undefined) {
        s.index.time(timed.decodeTime, timed.duration, timed.compositionOffset);
      }
    }
    const ftyp = fileType("ftyp", "isom", 0x200, [
      "isom",
      "iso2",
      "iso6",
      "mp41",
    ]);
    const largeMdat = this.#mdatSize + 8 > 0xffffffff;
    const mdatHeader = fields(largeMdat ? 16 : 8, (w) => {
      if (largeMdat) {
        w.u32(1).u32(0x6d646174);
        writeU64(w, this.#mdatSize + 16);
      } else w.u32(this.#mdatSize + 8).u32(0x6d646174); // 'mdat'
    });
    // The moov's size depends on stco or co64, not on the offsets in it.
    let wide = false;
    let moov = this.#moov(0, wide);
    let base = ftyp.length + moov.length + mdatHeader.length;
    if (base + this.#lastChunkOffset() > 0xffffffff) {
      wide = true;
      moov = this.#moov(0, wide);
      base = ftyp.length + moov.length + mdatHeader.length;
    }
    moov = this.#moov(base, wide);
    const header = new Uint8Array(base);
    header.set(ftyp);
    header.set(moov, ftyp.length);
    header.set(mdatHeader, ftyp.length + moov.length);
    return { header, size: base + this.#mdatSize };
  }

  /** Pass 2: the bytes of `frame`'s sample, for frames in the order of pass 1. */
  sample(frame: Frame): Uint8Array<ArrayBuffer> {
    if (!this.#finished) {
      throw new RangeError("Cannot write samples before finish()");
    }
    const s = this.#states.get(frame.trackId);
    if (s === undefined) return new Uint8Array(0);
    const parts = s.format.parts(frame);
    const i = s.cursor++;
    if (i >= s.index.count || s.index.size(i) !== parts.size) {
      throw mp4Error(
        "write MP4 sample",
        "sequence",
        `frame ${i} of track ${frame.trackId} differs from the first pass`,
      );
    }
    const out = new Uint8Array(parts.size);
    writeParts(parts, out, new DataView(out.buffer), 0);
    return out;
  }

  #lastChunkOffset(): number {
    let max = 0;
    for (const s of this.#states.values()) {
      max = Math.max(max, s.index.lastChunkOffset);
    }
    return max;
  }

  #moov(base: number, wide: boolean): Uint8Array {
    // The movie starts at the earliest presentation time of any track.
    let start = Infinity;
    for (const s of this.#states.values()) {
      if (s.index.count > 0) {
        start = Math.min(start, s.index.minPresentationTime / s.mp4.timescale);
      }
    }
    let movieMs = 0;
    const traks: Uint8Array[] = [];
    for (const s of this.#states.values()) {
      const { index, mp4 } = s;
      const edit = this.#edits(s, start);
      movieMs = Math.max(movieMs, edit.totalMs);
      traks.push(
        trak(mp4, index.tables(base, wide), {
          duration: index.duration,
          edts: edit.box,
        }),
      );
    }
    return box("moov", mvhd(movieMs, this.tracks.length + 1), ...traks);
  }

  /** `edts`/`elst` (§8.6.6): an empty edit up to the track's start, then its media from its first presented sample. */
  #edits(
    s: TrackState,
    startSeconds: number,
  ): { box: Uint8Array | undefined; totalMs: number } {
    const { index, mp4 } = s;
    if (index.count === 0 || index.firstDecodeTime === undefined) {
      return { box: undefined, totalMs: 0 };
    }
    const first = index.minPresentationTime;
    const emptyMs = Math.max(
      0,
      Math.round((first / mp4.timescale - startSeconds) * MOVIE_TIMESCALE),
    );
    const mediaTime = first - index.firstDecodeTime;
    // Reordering permutes presentation times: they span as long as the decode times.
    const shownMs = Math.round(
      (index.duration * MOVIE_TIMESCALE) / mp4.timescale,
    );
    const edits: Mp4Edit[] = [];
    if (emptyMs > 0) edits.push({ durationMs: emptyMs, mediaTime: -1 });
    edits.push({ durationMs: shownMs, mediaTime: Math.max(0, mediaTime) });
    return { box: editBox(edits), totalMs: emptyMs + shownMs };
  }
}
