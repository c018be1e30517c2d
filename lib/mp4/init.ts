/**
 * The CMAF header (init segment) of a fragmented MP4: `ftyp` then `moov`
 * with empty sample tables and `mvex`/`trex` (ISO/IEC 14496-12 §8.8.1,
 * §8.8.3; ISO/IEC 23000-19 §7.3).
 *
 * @module
 */

import { box, fields, fileType, fullBox } from "./box.ts";
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

/** `ftyp` + `moov` for fragments of `tracks` (from {@link mp4Tracks}). */
export function encodeInitSegment(
  tracks: readonly Mp4Track[],
): Uint8Array<ArrayBuffer> {
  const ftyp = fileType("ftyp", INIT_BRANDS.major, 0, INIT_BRANDS.compatible);
  const moov = box(
    "moov",
    mvhd(0, tracks.length + 1),
    ...tracks.map((t) => trak(t, emptySampleTables())),
    box("mvex", ...tracks.map((t) => trex(t.id))),
  );
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp);
  out.set(moov, ftyp.length);
  return out;
}
