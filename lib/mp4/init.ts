/**
 * The CMAF header (init segment) of a fragmented MP4: `ftyp` then `moov`
 * with empty sample tables and `mvex`/`trex` (ISO/IEC 14496-12 §8.8.1,
 * §8.8.3; ISO/IEC 23000-19 §7.3).
 *
 * @module
 */

import { box, fields, fileType, fullBox, writeU64 } from "./box.ts";
import { editBox } from "./edit.ts";
import { emptySampleTables, type Mp4Track, mvhd, trak } from "./movie.ts";

/**
 * Brands of the init segment: `iso6` (tfdt, trun version 1) as major, with
 * `cmfc` (a CMAF track file) and `isom`/`iso5` for readers that look for them.
 */
export const INIT_BRANDS = {
  major: "iso6",
  compatible: ["iso6", "cmfc", "iso5", "isom", "mp41"],
} as const;

/** `trex`, §8.8.3: sample entry 1, no defaults (every `trun` sets its own). */
function trex(trackId: number): Uint8Array {
  return fullBox(
    "trex",
    0,
    0,
    fields(20, (w) => w.u32(trackId).u32(1).u32(0).u32(0).u32(0)),
  );
}

/** The track's edit list when the options ask for one. */
function edit(t: Mp4Track, options: InitSegmentOptions): { edts?: Uint8Array } {
  const start = options.presentationStartSeconds;
  if (start === undefined) return {};
  const mediaTime = Math.max(0, Math.round(start * t.timescale));
  return { edts: editBox([{ durationMs: 0, mediaTime }]) };
}

/** Options of {@link encodeInitSegment}. */
export interface InitSegmentOptions {
  /**
   * Writes a `mehd` (§8.8.2, version 1) with this duration of all fragments,
   * in milliseconds; 0 for "not known yet". The init segment has the same
   * size whatever the value, so a recorder can write it with 0 first and
   * overwrite it in place when the file is complete (GStreamer reads a
   * fragmented file's duration from here). Without it, no `mehd`.
   */
  fragmentDurationMs?: number;
  /**
   * Every track's presentation starts this many seconds into its media: one
   * edit per track with segment_duration 0, which in a fragmented file's
   * init segment "provides the offset from media composition time to movie
   * presentation time" for all fragments (§8.6.6), as ffmpeg's MP4 muxer
   * writes it. Recordings give the first picture's composition offset, so
   * the first picture is shown at 0 and the audio before it (an AAC
   * encoder's priming at the start of a publish) falls before 0 while
   * keeping its place against the video. Left out (HLS), no edit list: MSE
   * ignores it and CMAF players take times from `tfdt` and `trun`.
   */
  presentationStartSeconds?: number;
}

/** `ftyp` + `moov` for fragments of `tracks` (from {@link mp4Tracks}). */
export function encodeInitSegment(
  tracks: readonly Mp4Track[],
  options: InitSegmentOptions = {},
): Uint8Array<ArrayBuffer> {
  const ftyp = fileType("ftyp", INIT_BRANDS.major, 0, INIT_BRANDS.compatible);
  const ms = options.fragmentDurationMs;
  const mehd = ms === undefined
    ? []
    : [fullBox("mehd", 1, 0, fields(8, (w) => writeU64(w, Math.round(ms))))];
  const moov = box(
    "moov",
    mvhd(0, tracks.length + 1),
    ...tracks.map((t) => trak(t, emptySampleTables(), edit(t, options))),
    box("mvex", ...mehd, ...tracks.map((t) => trex(t.id))),
  );
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp);
  out.set(moov, ftyp.length);
  return out;
}
