/**
 * Movie fragments (ISO/IEC 14496-12 §8.8): one `moof` + `mdat` per CMAF
 * chunk, written into one exact allocation so each media byte is copied
 * once. Also the segment's `styp` (§8.16.2) and an optional `sidx` (§8.16.3).
 *
 * ```
 * moof
 *   mfhd  sequence_number (32)
 *   traf  (per track with samples)
 *     tfhd  flags 0x020000 default-base-is-moof | track_ID (32)
 *     tfdt  version 1 | baseMediaDecodeTime (64)
 *     trun  version 1, flags 0x000f01 | sample_count (32) | data_offset (s32)
 *           | { duration (32) | size (32) | flags (32) | composition offset (s32) }*
 * mdat  the samples, track by track in traf order
 * ```
 *
 * @module
 */

import { fields, fileType, fullBox, writeU64 } from "./box.ts";
import { type SampleParts, writeParts } from "./sample.ts";
import { mp4Error } from "./_error.ts";

/** tfhd flags: offsets count from the start of the moof (§8.8.7.1). */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
/** trun flags: data-offset, duration, size, flags and composition offset present (§8.8.8.1). */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
const MFHD_SIZE = 16;
const TRAF_FIXED_SIZE = 8 + 16 + 20 + 20; // traf, tfhd, tfdt v1, trun up to data_offset
const TRUN_ENTRY_SIZE = 16;
const MDAT_HEADER_SIZE = 8;

/** One sample of a run. */
export interface RunSample {
  duration: number;
  /** {@link SAMPLE_FLAGS} value. */
  flags: number;
  compositionOffset: number;
  parts: SampleParts;
}

/** The samples of one track in a fragment. */
export interface FragmentRun {
  trackId: number;
  /** Decode time of the first sample, in the track's timescale. */
  baseDecodeTime: number;
  samples: readonly RunSample[];
}

/** `moof` + `mdat` of `runs` (tracks without samples are left out). */
export function encodeFragment(
  sequence: number,
  runs: readonly FragmentRun[],
): Uint8Array<ArrayBuffer> {
  const used = runs.filter((r) => r.samples.length > 0);
  let moofSize = 8 + MFHD_SIZE;
  let mdatSize = MDAT_HEADER_SIZE;
  for (const r of used) {
    moofSize += TRAF_FIXED_SIZE + TRUN_ENTRY_SIZE * r.samples.length;
    for (const s of r.samples) mdatSize += s.parts.size;
  }
  if (mdatSize > 0xffffffff) {
    throw mp4Error("write fragment", "limit", `${mdatSize} bytes of media`);
  }
  const out = new Uint8Array(moofSize + mdatSize);
  const view = new DataView(out.buffer);
  const w = new FieldWriter(view);
  w.box(moofSize, "moof");
  w.box(MFHD_SIZE, "mfhd").u32(0).u32(sequence >>> 0);
  let dataOffset = moofSize + MDAT_HEADER_SIZE;
  for (const r of used) {
    const n = r.samples.length;
    w.box(TRAF_FIXED_SIZE + TRUN_ENTRY_SIZE * n, "traf");
    w.box(16, "tfhd").u32(TFHD_DEFAULT_BASE_IS_MOOF).u32(r.trackId);
    w.box(20, "tfdt").u32(0x01000000);
    w.u64(r.baseDecodeTime);
    w.box(20 + TRUN_ENTRY_SIZE * n, "trun").u32(0x01000000 | TRUN_FLAGS);
    w.u32(n).u32(dataOffset);
    for (const s of r.samples) {
      w.u32(s.duration).u32(s.parts.size).u32(s.flags);
      view.setInt32(w.pos, s.compositionOffset);
      w.pos += 4;
      dataOffset += s.parts.size;
    }
  }
  w.box(mdatSize, "mdat");
  let at = w.pos;
  for (const r of used) {
    for (const s of r.samples) at = writeParts(s.parts, out, view, at);
  }
  return out;
}

/** Writes fields at a moving position of a DataView. */
class FieldWriter {
  readonly #view: DataView;
  pos = 0;
  constructor(view: DataView) {
    this.#view = view;
  }
  u32(v: number): this {
    this.#view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }
  u64(v: number): this {
    if (v < 0 || !Number.isSafeInteger(v)) {
      throw new RangeError(`Cannot write ${v} as a 64-bit decode time`);
    }
    return this.u32(Math.floor(v / 2 ** 32)).u32(v >>> 0);
  }
  box(size: number, type: string): this {
    this.u32(size);
    for (let i = 0; i < 4; i++) {
      this.#view.setUint8(this.pos++, type.charCodeAt(i));
    }
    return this;
  }
}

/** `styp` of a CMAF segment (ISO/IEC 23000-19 §7.3.2.3): `msdh`/`msix` for DASH and HLS readers. */
export function encodeStyp(): Uint8Array<ArrayBuffer> {
  return fileType("styp", "msdh", 0, ["msdh", "msix", "cmfs", "iso6"]);
}

/** One reference of a `sidx`: a fragment (or segment) of the indexed track. */
export interface SidxReference {
  /** Bytes from the start of this fragment to the next. */
  size: number;
  /** Duration in the `sidx` timescale. */
  duration: number;
  /** It starts with a sync sample (SAP type 1). */
  startsWithSap: boolean;
}

/**
 * `sidx` version 1 (§8.16.3): `earliestPresentationTime` of the first
 * reference, the references in order; `firstOffset` bytes from the end of
 * the `sidx` to the first.
 */
export function encodeSidx(
  referenceId: number,
  timescale: number,
  earliestPresentationTime: number,
  references: readonly SidxReference[],
  firstOffset = 0,
): Uint8Array<ArrayBuffer> {
  if (references.length > 0xffff) {
    throw mp4Error("write sidx", "limit", `${references.length} references`);
  }
  return fullBox(
    "sidx",
    1,
    0,
    fields(28 + 12 * references.length, (w) => {
      w.u32(referenceId).u32(timescale);
      writeU64(w, earliestPresentationTime);
      writeU64(w, firstOffset);
      w.u16(0).u16(references.length);
      for (const r of references) {
        if (r.size > 0x7fffffff) {
          throw mp4Error("write sidx", "limit", `reference of ${r.size} bytes`);
        }
        w.u32(r.size); // reference_type 0: media
        w.u32(r.duration);
        w.u32(r.startsWithSap ? 0x90000000 : 0); // starts_with_SAP, SAP_type 1
      }
    }),
  );
}
