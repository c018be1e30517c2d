/**
 * Frames as MP4 samples: the bytes (H.264/H.265 NAL units behind 4-byte
 * lengths, ISO/IEC 14496-15 §4.3; other codecs as they are), and the sample
 * flags of `trun` and `trex` (ISO/IEC 14496-12 §8.8.3.1).
 *
 * @module
 */

import { equals } from "@std/bytes";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";

/**
 * sample_flags, §8.8.3.1: is_leading (2) | sample_depends_on (2) |
 * sample_is_depended_on (2) | sample_has_redundancy (2) | padding (3) |
 * sample_is_non_sync_sample (1) | degradation_priority (16), after 4 reserved bits.
 */
export const SAMPLE_FLAGS = {
  /** depends_on 2 (an I picture, or audio), sync. */
  SYNC: 0x02000000,
  /** depends_on 1 (predicted), non-sync. */
  NON_SYNC: 0x01010000,
} as const;

/** The sample flags of a frame. */
export function sampleFlags(frame: Frame): number {
  return frame.keyframe ? SAMPLE_FLAGS.SYNC : SAMPLE_FLAGS.NON_SYNC;
}

/** What a sample is made of. */
export interface SampleParts {
  /** Pieces in order, views of the frame. */
  units: Uint8Array[];
  /** Each unit goes behind a 4-byte big-endian length. */
  prefixed: boolean;
  /** Bytes of the sample. */
  size: number;
}

/** Turns a track's frames into sample bytes. */
export class SampleFormat {
  readonly #nal: boolean;
  readonly #av1: boolean;
  /** Parameter sets in the sample entry: in-band copies of them are left out. */
  readonly #sets: Uint8Array[];

  constructor(track: Track) {
    this.#nal = track.codec === "H264" || track.codec === "H265";
    this.#av1 = track.codec === "AV1";
    const sets = track.kind === "video" ? track.parameterSets : undefined;
    this.#sets = sets === undefined
      ? []
      : [...(sets.vps ?? []), ...sets.sps, ...sets.pps];
  }

  /** The pieces of `frame`'s sample. */
  parts(frame: Frame): SampleParts {
    if (this.#nal) {
      const units = this.#sets.length === 0
        ? frame.units
        : frame.units.filter((u) => !this.#sets.some((s) => equals(s, u)));
      let size = 0;
      for (const u of units) size += 4 + u.length;
      return { units, prefixed: true, size };
    }
    let units = frame.units;
    if (this.#av1 && units.length === 1) {
      // AV1 binding §2.4: samples carry no temporal delimiter OBU (type 2)
      const u = units[0]!;
      if (u.length >= 2 && u[0] === 0x12 && u[1] === 0) units = [u.subarray(2)];
    }
    let size = 0;
    for (const u of units) size += u.length;
    return { units, prefixed: false, size };
  }
}

/** Writes `parts` at `at` in `out`; returns the position after them. */
export function writeParts(
  parts: SampleParts,
  out: Uint8Array,
  view: DataView,
  at: number,
): number {
  for (const u of parts.units) {
    if (parts.prefixed) {
      view.setUint32(at, u.length);
      at += 4;
    }
    out.set(u, at);
    at += u.length;
  }
  return at;
}
