/**
 * Edit lists (ISO/IEC 14496-12 §8.6.5 `edts`, §8.6.6 `elst`): how a
 * track's media timeline maps onto the movie's presentation timeline.
 * Written as version 1 (64-bit durations and media times) by the
 * progressive file and the recordings' init segments alike.
 *
 * @module
 */

import { box, fields, fullBox, u32, writeU64 } from "./box.ts";

/** One edit: `durationMs` of presentation from `mediaTime` on (−1: an empty edit). */
export interface Mp4Edit {
  /** segment_duration in the movie timescale (ms); 0 in a fragmented file's init segment (§8.6.6). */
  durationMs: number;
  /** media_time in the track's timescale; −1 for an empty edit (nothing shown). */
  mediaTime: number;
}

/** `edts` holding one `elst` with `edits`, each at media_rate 1. */
export function editBox(edits: readonly Mp4Edit[]): Uint8Array {
  const elst = fullBox(
    "elst",
    1,
    0,
    u32(edits.length),
    fields(20 * edits.length, (w) => {
      for (const e of edits) {
        writeU64(w, e.durationMs);
        if (e.mediaTime < 0) w.u32(0xffffffff).u32(0xffffffff);
        else writeU64(w, e.mediaTime);
        w.u16(1).u16(0); // media_rate 1.0
      }
    }),
  );
  return box("edts", elst);
}
