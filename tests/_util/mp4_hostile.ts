/**
 * MP4 files built box by box for the bad-input tests: one sound file (an
 * H.264 track of 2 s at 25 fps) and hostile variants of it whose box sizes,
 * sample counts and chunk offsets lie (ISO/IEC 14496-12 §4.2, §8.6.1.2,
 * §8.7.3 – §8.7.5).
 */
import {
  box,
  fields,
  fileType,
  fourCcBytes,
  fullBox,
  u32,
} from "../../lib/mp4/box.ts";
import { mp4Tracks, mvhd, trak } from "../../lib/mp4/movie.ts";
import type { Track } from "../../lib/media/track.ts";
import { concat } from "@std/bytes";
import { hex } from "./bytes.ts";

/** An SPS and PPS of x264 for 320x240 (High profile, level 1.3). */
const SPS = hex(
  "67 64 00 0d ac d9 41 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 99 60",
);
const PPS = hex("68 eb e3 cb 22 c0");
const SAMPLES = 50;
const SAMPLE_SIZE = 64;

/** The sample tables of the sound file, each replaceable. */
export interface SampleTables {
  stts: Uint8Array;
  stsc: Uint8Array;
  stsz: Uint8Array;
  stco: Uint8Array;
}

const TRACK: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  width: 320,
  height: 240,
  parameterSets: { sps: [SPS], pps: [PPS] },
};

/** `stts` with `count` entries claimed and one written (§8.6.1.2). */
export function stts(count = 1, samples = SAMPLES): Uint8Array {
  return fullBox("stts", 0, 0, u32(count), u32(samples), u32(3600));
}

/** `stsc`: `count` entries claimed, one chunk of every sample written (§8.7.4). */
export function stsc(count = 1, perChunk = SAMPLES): Uint8Array {
  return fullBox("stsc", 0, 0, u32(count), u32(1), u32(perChunk), u32(1));
}

/** `stsz` of `count` samples claimed, SAMPLES sizes written (§8.7.3.2). */
export function stsz(count = SAMPLES): Uint8Array {
  const sizes = fields(4 * SAMPLES, (w) => {
    for (let i = 0; i < SAMPLES; i++) w.u32(SAMPLE_SIZE);
  });
  return fullBox("stsz", 0, 0, u32(0), u32(count), sizes);
}

/** `stco` of `count` chunks claimed, one offset written (§8.7.5). */
export function stco(offset: number, count = 1): Uint8Array {
  return fullBox("stco", 0, 0, u32(count), u32(offset));
}

/** A sample: one length-prefixed IDR or non-IDR slice of SAMPLE_SIZE bytes. */
function sample(i: number): Uint8Array {
  const s = new Uint8Array(SAMPLE_SIZE);
  new DataView(s.buffer).setUint32(0, SAMPLE_SIZE - 4);
  s[4] = i % 25 === 0 ? 0x65 : 0x41;
  s[5] = 0x88;
  return s;
}

/**
 * `ftyp`, `moov` and `mdat` of the sound file; `tables` replaces sample
 * tables (an `stco` given as a function gets the first sample's offset).
 */
export function mp4File(
  tables: Partial<Omit<SampleTables, "stco">> & {
    stco?: (mdatData: number) => Uint8Array;
  } = {},
): Uint8Array {
  const ftyp = fileType("ftyp", "isom", 512, ["isom", "avc1"]);
  const t = mp4Tracks([TRACK])[0]!;
  const moovOf = (offset: number) =>
    box(
      "moov",
      mvhd(2000, 2),
      trak(t, [
        tables.stts ?? stts(),
        tables.stsc ?? stsc(),
        tables.stsz ?? stsz(),
        tables.stco?.(offset) ?? stco(offset),
      ], { duration: SAMPLES * 3600 }),
    );
  const moovSize = moovOf(0).length;
  const data = ftyp.length + moovSize + 8;
  const samples = Array.from({ length: SAMPLES }, (_, i) => sample(i));
  return concat([ftyp, moovOf(data), box("mdat", ...samples)]);
}

/** A box header with any size (32-bit, or 1 with a 64-bit `large`). */
function header(type: string, size: number, large?: bigint): Uint8Array {
  const h = new Uint8Array(large === undefined ? 8 : 16);
  const v = new DataView(h.buffer);
  v.setUint32(0, size);
  h.set(fourCcBytes(type), 4);
  if (large !== undefined) v.setBigUint64(8, large);
  return h;
}

/** Overwrites the 32-bit size of the first box `type` found in `file`. */
function resize(file: Uint8Array, type: string, size: number): Uint8Array {
  const out = file.slice();
  const code = fourCcBytes(type);
  for (let i = 4; i + 4 <= out.length; i++) {
    if (code.every((b, k) => out[i + k] === b)) {
      new DataView(out.buffer).setUint32(i - 4, size);
      return out;
    }
  }
  throw new Error(`no ${type} box`);
}

/** Each hostile file of the bad-input tests, by name. */
export function hostileMp4s(): Record<string, Uint8Array> {
  const good = mp4File();
  const ftyp = new DataView(good.buffer).getUint32(0);
  const moovAt = good.subarray(ftyp);
  const huge = 2 ** 31;
  return {
    "empty.mp4": new Uint8Array(0),
    "text.mp4": new TextEncoder().encode("this is not media\n".repeat(200)),
    "moov-larger-than-file.mp4": resize(good, "moov", 0x7ffffff0),
    "moov-smaller-than-header.mp4": resize(good, "moov", 4),
    "moov-size-64-overflow.mp4": concat([
      good.subarray(0, ftyp),
      header("moov", 1, 0xffffffffffffff00n),
      moovAt.subarray(8),
    ]),
    "size-0-before-moov.mp4": concat([
      good.subarray(0, ftyp),
      header("free", 0),
      moovAt,
    ]),
    "trak-overruns-moov.mp4": resize(good, "trak", 0x00ffffff),
    "stsz-2-31.mp4": mp4File({ stsz: stsz(huge) }),
    "stts-2-31.mp4": mp4File({ stts: stts(huge) }),
    "stts-2-31-samples.mp4": mp4File({ stts: stts(1, huge) }),
    "stsc-2-31.mp4": mp4File({ stsc: stsc(huge) }),
    "stco-2-31.mp4": mp4File({ stco: (o) => stco(o, huge) }),
    "stco-at-moov.mp4": mp4File({ stco: () => stco(ftyp) }),
    "stco-beyond-file.mp4": mp4File({ stco: () => stco(0x7ffffff0) }),
    "moov-truncated.mp4": good.subarray(0, ftyp + 200),
  };
}
