/**
 * The wall clock of a fragmented file: `prft`, the ProducerReferenceTimeBox
 * (ISO/IEC 14496-12 §8.16.5), placed before a `moof`, says which UTC time
 * (an NTP timestamp) belongs to a media time of a reference track.
 * Recordings write one before every fragment, so a copy cut by a crash or
 * moved out of the recordings folder still tells when it was recorded.
 *
 * ```
 * prft  version 1, flags 24 | reference_track_ID (32)
 *       | ntp_timestamp (64: seconds since 1900 | fraction) | media_time (64)
 * ```
 *
 * Reading goes the other way: from the start of a file (`ftyp`, `moov`,
 * then a `prft` before the first `moof`), the UTC time of presentation
 * time 0, with the reference track's timescale from its `mdhd` and the
 * start of its edit list, if any. Sizes that lie end the reading with no
 * answer, never an allocation or a loop.
 *
 * @module
 */

import { fields, fullBox, writeU64 } from "./box.ts";
import { boxChildren, fourCcAt } from "./box_read.ts";
import { msToNtp, ntpToMs } from "../rtp/ntp.ts";

const PRFT_SIZE = 32;
/** Most top-level boxes looked at before giving up on a `prft`. */
const MAX_TOP_BOXES = 64;

/** One producer reference time. */
export interface ProducerTime {
  /** track_ID in the file. */
  referenceTrackId: number;
  /** UTC, ms since the Unix epoch (sub-millisecond fractions kept). */
  utcMs: number;
  /** The reference track's media time at `utcMs`, in its timescale. */
  mediaTime: number;
}

/**
 * flags 24 (8 | 16): the UTC times of all `prft` boxes of the track follow
 * one clock, with a small, steady offset from when the media happened — as
 * ffmpeg writes them with `-write_prft wallclock`.
 */
const PRFT_FLAGS = 24;

/** A `prft` box (version 1, flags 24, as ffmpeg's MP4 muxer writes it). */
export function encodePrft(t: ProducerTime): Uint8Array<ArrayBuffer> {
  const { ntpSeconds, ntpFraction } = msToNtp(t.utcMs);
  return fullBox(
    "prft",
    1,
    PRFT_FLAGS,
    fields(PRFT_SIZE - 12, (w) => {
      w.u32(t.referenceTrackId).u32(ntpSeconds).u32(ntpFraction);
      writeU64(w, t.mediaTime);
    }),
  );
}

/** The fields of a `prft` box body (after its 8-byte header), or undefined. */
export function decodePrft(body: Uint8Array): ProducerTime | undefined {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const version = body[0];
  if (body.length < (version === 1 ? 24 : 20)) return undefined;
  const mediaTime = version === 1
    ? view.getUint32(16) * 2 ** 32 + view.getUint32(20)
    : view.getUint32(16);
  return {
    referenceTrackId: view.getUint32(4),
    utcMs: ntpToMs(view.getUint32(8), view.getUint32(12)),
    mediaTime,
  };
}

/**
 * The UTC time (ms since the Unix epoch) of presentation time 0 of a
 * fragmented file whose first bytes are `head`: from the first `prft`
 * before the first `moof`, the reference track's timescale and the media
 * time where its edit list starts it. Undefined when `head` has no such
 * `prft` (a file Sluice did not record) or does not hold the boxes whole.
 */
export function wallClockStart(head: Uint8Array): number | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const tracks = new Map<number, { timescale: number; start: number }>();
  let pos = 0;
  for (let n = 0; n < MAX_TOP_BOXES && pos + 8 <= head.length; n++) {
    const size = view.getUint32(pos);
    const type = fourCcAt(head, pos + 4);
    if (size < 8 || pos + size > head.length) return undefined;
    if (type === "moov") readTracks(head, pos + 8, pos + size, tracks);
    if (type === "moof" || type === "mdat") return undefined;
    if (type === "prft") {
      const p = decodePrft(head.subarray(pos + 8, pos + size));
      const t = p === undefined ? undefined : tracks.get(p.referenceTrackId);
      if (p === undefined || t === undefined) return undefined;
      return p.utcMs + ((t.start - p.mediaTime) * 1000) / t.timescale;
    }
    pos += size;
  }
  return undefined;
}

/** track_ID → timescale and the first edit's media time (0 without one). */
function readTracks(
  b: Uint8Array,
  start: number,
  end: number,
  out: Map<number, { timescale: number; start: number }>,
): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const [type, s, e] of boxChildren(b, start, end)) {
    if (type !== "trak") continue;
    let id = 0;
    let timescale = 0;
    let mediaStart = 0;
    for (const [tt, ts, te] of boxChildren(b, s, e)) {
      if (tt === "tkhd" && te - ts >= 24) {
        id = view.getUint32(ts + (b[ts] === 1 ? 20 : 12));
      } else if (tt === "edts") {
        mediaStart = firstMediaTime(b, ts, te);
      } else if (tt === "mdia") {
        for (const [mt, ms, me] of boxChildren(b, ts, te)) {
          if (mt === "mdhd" && me - ms >= 24) {
            timescale = view.getUint32(ms + (b[ms] === 1 ? 20 : 12));
          }
        }
      }
    }
    if (id > 0 && timescale > 0) out.set(id, { timescale, start: mediaStart });
  }
}

/** media_time of the first non-empty edit of an `edts` (§8.6.6), 0 without one. */
function firstMediaTime(b: Uint8Array, start: number, end: number): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const [type, s, e] of boxChildren(b, start, end)) {
    if (type !== "elst" || e - s < 8) continue;
    const v1 = b[s] === 1;
    const entry = v1 ? 20 : 12;
    const count = view.getUint32(s + 4);
    for (let i = 0; i < count && s + 8 + (i + 1) * entry <= e; i++) {
      const p = s + 8 + i * entry + (v1 ? 8 : 4);
      const time = v1
        ? view.getInt32(p) * 2 ** 32 + view.getUint32(p + 4)
        : view.getInt32(p);
      if (time >= 0) return time;
    }
  }
  return 0;
}
