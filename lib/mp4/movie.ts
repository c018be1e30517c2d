/**
 * The movie box and what it holds (ISO/IEC 14496-12 §8.2–§8.7): `mvhd`, and
 * per track `trak`/`tkhd`/`mdia`/`mdhd`/`hdlr`/`minf` (`vmhd` or `smhd`)/
 * `dinf`/`stbl` with the sample entry. Shared by the fragmented init segment
 * (empty sample tables) and the progressive file (full ones).
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { ProtocolError } from "../errors.ts";
import { parseVp9KeyframeSize } from "../codec/vp9/vpcc.ts";
import { box, fields, fullBox, u32, UNITY_MATRIX, writeU64 } from "./box.ts";
import { videoSampleEntry } from "./video_entry.ts";
import { audioSampleEntry } from "./audio_entry.ts";

/** Timescale of `mvhd` and `tkhd` durations: milliseconds. */
export const MOVIE_TIMESCALE = 1000;
/** ISO 639-2/T "und", packed as three 5-bit letters (§8.4.2.3). */
const LANGUAGE_UND = 0x55c4;

/** A track as the movie describes it. */
export interface Mp4Track {
  /** The media model's track. */
  track: Track;
  /** track_ID in the file: 1, 2, … in the order tracks were given. */
  id: number;
  /** Media timescale: the track's clock rate. */
  timescale: number;
  /** The sample entry (`avc1`, `mp4a`, …). */
  entry: Uint8Array;
  width: number;
  height: number;
}

/** Describes `tracks` as MP4 tracks 1, 2, …; throws a `ProtocolError` for a track it cannot write. */
export function mp4Tracks(tracks: readonly Track[]): Mp4Track[] {
  return tracks.map((track, i) => {
    if (track.kind === "video") {
      const v = videoSampleEntry(track);
      return { track, id: i + 1, timescale: track.clockRate, ...v };
    }
    return {
      track,
      id: i + 1,
      timescale: track.clockRate,
      entry: audioSampleEntry(track),
      width: 0,
      height: 0,
    };
  });
}

/**
 * `t` with the picture size of `frame` when the track has none and the frame
 * gives one: FLV and RTP carry no VP9 size, a VP9 keyframe's uncompressed
 * header does. Otherwise `t` itself.
 */
export function sizedFrom(t: Mp4Track, frame: Frame): Mp4Track {
  const track = t.track;
  if (
    track.kind !== "video" || track.codec !== "VP9" || t.width > 0 ||
    !frame.keyframe || frame.units[0] === undefined
  ) return t;
  let size;
  try {
    size = parseVp9KeyframeSize(frame.units[0]);
  } catch (e) {
    if (e instanceof ProtocolError) return t; // not readable: the size stays unknown
    throw e;
  }
  if (size === undefined) return t;
  const sized = { ...track, ...size };
  return { ...t, track: sized, ...videoSampleEntry(sized) };
}

/** A version 1 box when a 32-bit duration does not hold `duration`. */
function versionFor(duration: number): 0 | 1 {
  return duration > 0xffffffff ? 1 : 0;
}

/** `mvhd`, §8.2.2. */
export function mvhd(durationMs: number, nextTrackId: number): Uint8Array {
  const v = versionFor(durationMs);
  return fullBox(
    "mvhd",
    v,
    0,
    fields((v ? 28 : 16) + 80, (w) => {
      if (v) {
        writeU64(w, 0); // creation_time
        writeU64(w, 0); // modification_time
        w.u32(MOVIE_TIMESCALE);
        writeU64(w, durationMs);
      } else {
        w.u32(0).u32(0).u32(MOVIE_TIMESCALE).u32(durationMs);
      }
      w.u32(0x00010000).u16(0x0100).u16(0); // rate 1.0, volume 1.0, reserved
      w.u32(0).u32(0);
      for (const m of UNITY_MATRIX) w.u32(m);
      for (let i = 0; i < 6; i++) w.u32(0); // pre_defined
      w.u32(nextTrackId);
    }),
  );
}

/** `tkhd`, §8.3.2: enabled, in movie and in preview. */
function tkhd(t: Mp4Track, durationMs: number): Uint8Array {
  const v = versionFor(durationMs);
  const audio = t.track.kind === "audio";
  return fullBox(
    "tkhd",
    v,
    0x000007,
    fields((v ? 32 : 20) + 60, (w) => {
      if (v) {
        writeU64(w, 0);
        writeU64(w, 0);
        w.u32(t.id).u32(0);
        writeU64(w, durationMs);
      } else {
        w.u32(0).u32(0).u32(t.id).u32(0).u32(durationMs);
      }
      w.u32(0).u32(0); // reserved
      w.u16(0).u16(audio ? 1 : 0); // layer, alternate_group
      w.u16(audio ? 0x0100 : 0).u16(0); // volume, reserved
      for (const m of UNITY_MATRIX) w.u32(m);
      w.u32(t.width * 0x10000).u32(t.height * 0x10000); // 16.16
    }),
  );
}

/** `mdhd`, §8.4.2. */
function mdhd(t: Mp4Track, duration: number): Uint8Array {
  const v = versionFor(duration);
  return fullBox(
    "mdhd",
    v,
    0,
    fields(v ? 32 : 20, (w) => {
      if (v) {
        writeU64(w, 0);
        writeU64(w, 0);
        w.u32(t.timescale);
        writeU64(w, duration);
      } else {
        w.u32(0).u32(0).u32(t.timescale).u32(duration);
      }
      w.u16(LANGUAGE_UND).u16(0);
    }),
  );
}

/** `hdlr`, §8.4.3. */
function hdlr(video: boolean): Uint8Array {
  const name = new TextEncoder().encode(
    video ? "VideoHandler\0" : "SoundHandler\0",
  );
  return fullBox(
    "hdlr",
    0,
    0,
    fields(20, (w) => {
      w.u32(0).u32(video ? 0x76696465 : 0x736f756e); // pre_defined, 'vide' | 'soun'
      w.u32(0).u32(0).u32(0);
    }),
    name,
  );
}

/** `dinf` with a `dref` of one self-contained `url ` (§8.7.2). */
function dinf(): Uint8Array {
  return box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
}

/** The sample table boxes after `stsd`: empty ones for a fragmented file (§8.8.1). */
export function emptySampleTables(): Uint8Array[] {
  return [
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0), u32(0)),
    fullBox("stco", 0, 0, u32(0)),
  ];
}

/** Options of {@link trak}. */
export interface TrakOptions {
  /** Media duration in the track's timescale. @default {0} */
  duration?: number;
  /** An `edts` box for the track. */
  edts?: Uint8Array;
}

/** `trak` of `t` with the sample tables `tables` (the boxes after `stsd`). */
export function trak(
  t: Mp4Track,
  tables: readonly Uint8Array[],
  options: TrakOptions = {},
): Uint8Array {
  const duration = options.duration ?? 0;
  const durationMs = Math.round((duration * MOVIE_TIMESCALE) / t.timescale);
  const video = t.track.kind === "video";
  const header = video
    ? fullBox("vmhd", 0, 1, new Uint8Array(8)) // graphicsmode copy, opcolor 0
    : fullBox("smhd", 0, 0, new Uint8Array(4)); // balance 0, reserved
  const stsd = fullBox("stsd", 0, 0, u32(1), t.entry);
  const stbl = box("stbl", stsd, ...tables);
  const minf = box("minf", header, dinf(), stbl);
  const mdia = box("mdia", mdhd(t, duration), hdlr(video), minf);
  return options.edts === undefined
    ? box("trak", tkhd(t, durationMs), mdia)
    : box("trak", tkhd(t, durationMs), options.edts, mdia);
}
