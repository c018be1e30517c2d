/**
 * Reading fragmented MP4 recordings back (ISO/IEC 14496-12 §8.8): the init
 * segment (`ftyp`+`moov`) as it is, each track's timescale, and every sample
 * of every whole fragment (`moof` followed by its complete `mdat`), with its
 * decode time, duration, composition offset, sync flag and place in the
 * file. A fragment cut short by a crash ends the list; box sizes that lie
 * stop the reading, never make it allocate or loop.
 *
 * @module
 */

import { boxChildren, fourCcAt } from "../mp4/box_read.ts";
import { readFull } from "./_read.ts";

/** One track of a recording. */
export interface Fmp4Track {
  id: number;
  timescale: number;
  kind: "video" | "audio" | "other";
}

/** One sample, with where its bytes are in the file. */
export interface Fmp4Sample {
  trackId: number;
  /** Decode time in the track's timescale. */
  dts: number;
  duration: number;
  /** pts − dts. */
  cto: number;
  keyframe: boolean;
  offset: number;
  size: number;
}

/** What a recording holds. */
export interface Fmp4Recording {
  /** `ftyp` and `moov`, as written. */
  init: Uint8Array;
  tracks: Fmp4Track[];
  samples: Fmp4Sample[];
}

/** A box larger than this is not read into memory (a `moov` or `moof` of ours is far smaller). */
const MAX_META_BOX = 16 * 1024 * 1024;
const MAX_BOXES = 1_000_000;
const MAX_SAMPLES_PER_RUN = 1_000_000;

/** Reads the init segment and every whole fragment's samples of `f`. */
export async function readFmp4(f: Deno.FsFile): Promise<Fmp4Recording> {
  const size = (await f.stat()).size;
  const head = new Uint8Array(16);
  const init: Uint8Array[] = [];
  const tracks: Fmp4Track[] = [];
  const trex = new Map<
    number,
    { duration: number; size: number; flags: number }
  >();
  const samples: Fmp4Sample[] = [];
  let pos = 0;
  let pendingMoof: { start: number; samples: Fmp4Sample[] } | undefined;
  for (let n = 0; n < MAX_BOXES && pos + 8 <= size; n++) {
    await f.seek(pos, Deno.SeekMode.Start);
    if (!await readFull(f, head.subarray(0, 8))) break;
    const view = new DataView(head.buffer);
    let boxSize = view.getUint32(0);
    const type = fourCcAt(head, 4);
    let header = 8;
    if (boxSize === 1) {
      if (!await readFull(f, head.subarray(8, 16))) break;
      boxSize = Number(view.getBigUint64(8));
      header = 16;
    } else if (boxSize === 0) boxSize = size - pos;
    if (boxSize < header || pos + boxSize > size) break; // cut short
    if (type === "ftyp" || type === "moov" || type === "moof") {
      if (boxSize > MAX_META_BOX) break;
      const body = new Uint8Array(boxSize);
      await f.seek(pos, Deno.SeekMode.Start);
      if (!await readFull(f, body)) break;
      if (type === "moof") {
        pendingMoof = { start: pos, samples: readMoof(body, pos, trex) };
      } else {
        init.push(body);
        if (type === "moov") readMoov(body, tracks, trex);
      }
    } else if (type === "mdat" && pendingMoof !== undefined) {
      // Samples count only once the mdat they point into is whole.
      const end = pos + boxSize;
      for (const s of pendingMoof.samples) {
        if (s.offset >= pos + header && s.offset + s.size <= end) {
          samples.push(s);
        }
      }
      pendingMoof = undefined;
    }
    pos += boxSize;
  }
  const all = new Uint8Array(init.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const b of init) {
    all.set(b, at);
    at += b.length;
  }
  return { init: all, tracks, samples };
}

/** The media length of an fMP4 recording, ms: the end of its longest track. */
export async function fmp4Duration(f: Deno.FsFile): Promise<number> {
  const r = await readFmp4(f);
  let ms = 0;
  for (const t of r.tracks) {
    let end = 0;
    for (const s of r.samples) {
      if (s.trackId === t.id) end = Math.max(end, s.dts + s.duration);
    }
    ms = Math.max(ms, Math.round((end * 1000) / t.timescale));
  }
  return ms;
}

function readMoov(
  b: Uint8Array,
  tracks: Fmp4Track[],
  trex: Map<number, { duration: number; size: number; flags: number }>,
): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const [type, s, e] of boxChildren(b, 8, b.length)) {
    if (type === "trak") {
      const t: Fmp4Track = { id: 0, timescale: 0, kind: "other" };
      for (const [tt, ts, te] of boxChildren(b, s, e)) {
        if (tt === "tkhd" && te - ts >= 24) {
          t.id = view.getUint32(ts + (b[ts] === 1 ? 20 : 12));
        } else if (tt === "mdia") {
          for (const [mt, ms, me] of boxChildren(b, ts, te)) {
            if (mt === "mdhd" && me - ms >= 24) {
              t.timescale = view.getUint32(ms + (b[ms] === 1 ? 20 : 12));
            } else if (mt === "hdlr" && me - ms >= 12) {
              const h = fourCcAt(b, ms + 8);
              t.kind = h === "vide"
                ? "video"
                : h === "soun"
                ? "audio"
                : "other";
            }
          }
        }
      }
      if (t.id > 0 && t.timescale > 0) tracks.push(t);
    } else if (type === "mvex") {
      for (const [xt, xs, xe] of boxChildren(b, s, e)) {
        if (xt !== "trex" || xe - xs < 24) continue;
        trex.set(view.getUint32(xs + 4), {
          duration: view.getUint32(xs + 12),
          size: view.getUint32(xs + 16),
          flags: view.getUint32(xs + 20),
        });
      }
    }
  }
}

function readMoof(
  b: Uint8Array,
  moofStart: number,
  trex: Map<number, { duration: number; size: number; flags: number }>,
): Fmp4Sample[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Fmp4Sample[] = [];
  for (const [type, s, e] of boxChildren(b, 8, b.length)) {
    if (type !== "traf") continue;
    let trackId = 0;
    let base = moofStart;
    let defDuration = 0;
    let defSize = 0;
    let defFlags = 0;
    let dts = 0;
    for (const [tt, ts, te] of boxChildren(b, s, e)) {
      if (tt === "tfhd" && te - ts >= 8) {
        const flags = view.getUint32(ts) & 0xffffff;
        trackId = view.getUint32(ts + 4);
        const d = trex.get(trackId);
        defDuration = d?.duration ?? 0;
        defSize = d?.size ?? 0;
        defFlags = d?.flags ?? 0;
        let p = ts + 8;
        if (flags & 0x1) {
          base = Number(view.getBigUint64(p));
          p += 8;
        }
        if (flags & 0x2) p += 4;
        if (flags & 0x8) defDuration = view.getUint32((p += 4) - 4);
        if (flags & 0x10) defSize = view.getUint32((p += 4) - 4);
        if (flags & 0x20) defFlags = view.getUint32((p += 4) - 4);
      } else if (tt === "tfdt" && te - ts >= 8) {
        dts = b[ts] === 1
          ? Number(view.getBigUint64(ts + 4))
          : view.getUint32(ts + 4);
      } else if (tt === "trun" && te - ts >= 8) {
        const version = b[ts]!;
        const flags = view.getUint32(ts) & 0xffffff;
        const count = view.getUint32(ts + 4);
        let p = ts + 8;
        let offset = base;
        if (flags & 0x1) offset = base + view.getInt32((p += 4) - 4);
        let firstFlags: number | undefined;
        if (flags & 0x4) firstFlags = view.getUint32((p += 4) - 4);
        const per = 4 * [0x100, 0x200, 0x400, 0x800]
          .filter((f) => flags & f).length;
        if (count > MAX_SAMPLES_PER_RUN || p + count * per > te) break;
        for (let i = 0; i < count; i++) {
          const duration = flags & 0x100
            ? view.getUint32((p += 4) - 4)
            : defDuration;
          const size = flags & 0x200 ? view.getUint32((p += 4) - 4) : defSize;
          let sflags = flags & 0x400 ? view.getUint32((p += 4) - 4) : defFlags;
          if (i === 0 && firstFlags !== undefined) sflags = firstFlags;
          const cto = flags & 0x800
            ? (version === 0
              ? view.getUint32((p += 4) - 4)
              : view.getInt32((p += 4) - 4))
            : 0;
          out.push({
            trackId,
            dts,
            duration,
            cto,
            keyframe: (sflags & 0x10000) === 0,
            offset,
            size,
          });
          dts += duration;
          offset += size;
        }
      }
    }
  }
  return out;
}
