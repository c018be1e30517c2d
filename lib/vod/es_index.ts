/**
 * The index of a raw H.264 or H.265 elementary stream, built in one pass
 * over its NAL units: where each access unit starts, which are keyframes
 * (IDR, or IRAP for H.265, with the parameter sets before them), the
 * stream's parameter sets and frame rate, and each picture's place in
 * presentation order from its picture order count.
 *
 * Access units are cut as ITU-T H.264 §7.4.1.2.3 and H.265 §7.4.2.4.4 say:
 * an access unit delimiter, a parameter set or prefix SEI after a picture's
 * slices, or a slice that starts a picture (first_mb_in_slice 0,
 * first_slice_segment_in_pic_flag 1) begins the next one.
 *
 * @module
 */

import { H264_NAL_TYPE } from "../codec/h264/nal.ts";
import { type H264Sps, parseSps } from "../codec/h264/sps.ts";
import { H265_NAL_TYPE, isH265Irap } from "../codec/h265/nal.ts";
import { type H265Sps, parseH265Sps } from "../codec/h265/sps.ts";
import { ProtocolError } from "../errors.ts";
import type { ParameterSets } from "../media/track.ts";
import {
  h264PocLsb,
  h265PocLsb,
  type H265PpsHead,
  h265PpsHead,
  h265VpsFrameRate,
} from "./es_headers.ts";
import type { NalHead } from "./es_scan.ts";

/** The codecs of raw elementary streams Sluice reads itself. */
export type EsCodec = "H264" | "H265";

/** Frames per second when the stream does not say (as ffmpeg assumes). */
export const DEFAULT_FRAME_RATE = 25;
/** Pictures a decoder may hold back for reordering (MaxDpbFrames ≤ 16). */
const MAX_REORDER = 16;

/** What {@link EsIndexer} found. */
export interface EsIndex {
  codec: EsCodec;
  /** Offset of each access unit's first start code, in decode order. */
  offsets: number[];
  /** Where the last access unit ends. */
  end: number;
  /** Indices of the access units a decoder can start at, ascending. */
  keys: number[];
  /** Each access unit's position in presentation order, in frames. */
  order: number[];
  /** Frames decoding runs ahead of presentation at most. */
  lead: number;
  frameRate: number;
  /** The first parameter sets of the stream (copies). */
  sets: ParameterSets;
}

/** Options of {@link EsIndexer}. */
export interface EsIndexerOptions {
  /**
   * Access units indexed at most (the rest of the file is left out): 22 h
   * at 25 fps, about 32 MiB of index. @default {2_000_000}
   */
  maxUnits?: number;
}

/** Builds an {@link EsIndex} from the NAL units of a stream, in order. */
export class EsIndexer {
  readonly #codec: EsCodec;
  readonly #max: number;
  readonly #offsets: number[] = [];
  readonly #keys: number[] = [];
  readonly #pocs: number[] = [];
  /** Access units where the picture order count starts again. */
  readonly #periods: number[] = [];
  readonly #sets: ParameterSets = { sps: [], pps: [] };
  readonly #pps = new Map<number, H265PpsHead>();
  #sps264: H264Sps | undefined;
  #sps265: H265Sps | undefined;
  #vpsRate: number | undefined;
  #end: number | undefined;
  // the access unit being read
  #at = -1;
  #vcl = false;
  #key = false;
  #poc = NaN;
  // picture order count state (H.264 §8.2.1.1, H.265 §8.3.1)
  #prevMsb = 0;
  #prevLsb = 0;

  constructor(codec: EsCodec, options: EsIndexerOptions = {}) {
    this.#codec = codec;
    this.#max = options.maxUnits ?? 2_000_000;
  }

  /** Takes the next NAL unit of the stream. */
  push(nal: NalHead): void {
    if (this.#end !== undefined || nal.head.length === 0) return;
    const start = Math.max(0, nal.offset - 3);
    if (this.#codec === "H264") this.#h264(nal, start);
    else this.#h265(nal, start);
  }

  #h264(nal: NalHead, start: number): void {
    const h = nal.head;
    const type = h[0]! & 0x1f;
    if (type >= H264_NAL_TYPE.SLICE && type <= H264_NAL_TYPE.IDR) {
      if ((h[1] ?? 0) & 0x80 || !this.#vcl) { // first_mb_in_slice is ue(0)
        this.#begin(start, true);
        if (this.#end !== undefined) return;
        const idr = type === H264_NAL_TYPE.IDR;
        this.#key = idr;
        const sps = this.#sps264;
        const lsb = sps === undefined ? undefined : h264PocLsb(h, sps);
        if (idr) this.#reset();
        if (lsb !== undefined && sps !== undefined) {
          this.#poc = this.#pocOf(
            lsb,
            2 ** sps.log2MaxPocLsb,
            (h[0]! >> 5) !== 0,
          );
        }
      }
      return;
    }
    if (
      type === H264_NAL_TYPE.AUD || type === H264_NAL_TYPE.SPS ||
      type === H264_NAL_TYPE.PPS || type === H264_NAL_TYPE.SEI ||
      (type >= 14 && type <= 18)
    ) this.#begin(start, false);
    if (type === H264_NAL_TYPE.SPS && nal.whole) {
      if (this.#sets.sps.length === 0) this.#sets.sps.push(h.slice());
      this.#sps264 ??= parsed(() => parseSps(h));
    }
    if (
      type === H264_NAL_TYPE.PPS && nal.whole && this.#sets.pps.length === 0
    ) {
      this.#sets.pps.push(h.slice());
    }
  }

  #h265(nal: NalHead, start: number): void {
    const h = nal.head;
    const type = (h[0]! >> 1) & 0x3f;
    if (type < H265_NAL_TYPE.VPS) {
      if (type > H265_NAL_TYPE.RSV_IRAP_23) return; // reserved non-IRAP VCL
      if ((h[2] ?? 0) & 0x80 || !this.#vcl) { // first_slice_segment_in_pic_flag
        this.#begin(start, true);
        if (this.#end !== undefined) return;
        this.#key = isH265Irap(type);
        const sps = this.#sps265;
        const lsb = sps?.log2MaxPocLsb === undefined
          ? undefined
          : h265PocLsb(h, { ...sps, log2MaxPocLsb: sps.log2MaxPocLsb }, (id) =>
            this.#pps.get(id));
        // IDR and BLA start over; so does the stream's first picture
        const fresh = (type >= H265_NAL_TYPE.BLA_W_LP &&
          type <= H265_NAL_TYPE.IDR_N_LP) ||
          this.#offsets.length === 0;
        if (fresh) this.#reset();
        if (lsb !== undefined && sps?.log2MaxPocLsb !== undefined) {
          const tid0 = (h[1]! & 7) === 1 && !(type <= 14 && type % 2 === 0) &&
            (type < 6 || type > 9); // not sub-layer non-reference, RADL, RASL
          this.#poc = fresh
            ? this.#pocOf(lsb, Infinity, true)
            : this.#pocOf(lsb, 2 ** sps.log2MaxPocLsb, tid0);
        }
      }
      return;
    }
    if (
      (type >= H265_NAL_TYPE.VPS && type <= H265_NAL_TYPE.AUD) ||
      type === H265_NAL_TYPE.PREFIX_SEI || (type >= 41 && type <= 44) ||
      (type >= 48 && type <= 55)
    ) this.#begin(start, false);
    if (!nal.whole) return;
    if (type === H265_NAL_TYPE.VPS && this.#sets.vps === undefined) {
      this.#sets.vps = [h.slice()];
      this.#vpsRate = h265VpsFrameRate(h);
    }
    if (type === H265_NAL_TYPE.SPS && this.#sets.sps.length === 0) {
      this.#sets.sps.push(h.slice());
      this.#sps265 = parsed(() => parseH265Sps(h));
    }
    if (type === H265_NAL_TYPE.PPS) {
      if (this.#sets.pps.length === 0) this.#sets.pps.push(h.slice());
      const head = h265PpsHead(h);
      if (head !== undefined && head.ppsId < 64) {
        this.#pps.set(head.ppsId, head);
      }
    }
  }

  /** A picture's POC from its LSB (H.264 §8.2.1.1, H.265 §8.3.1). */
  #pocOf(lsb: number, max: number, reference: boolean): number {
    let msb = this.#prevMsb;
    if (lsb < this.#prevLsb && this.#prevLsb - lsb >= max / 2) msb += max;
    else if (lsb > this.#prevLsb && lsb - this.#prevLsb > max / 2) msb -= max;
    if (reference) {
      this.#prevMsb = msb;
      this.#prevLsb = lsb;
    }
    return msb + lsb;
  }

  #reset(): void {
    this.#prevMsb = 0;
    this.#prevLsb = 0;
    this.#periods.push(this.#offsets.length);
  }

  /** Ends the access unit being read if it has a picture; `vcl`: a picture's first slice follows. */
  #begin(start: number, vcl: boolean): void {
    if (this.#vcl) this.#close();
    if (this.#at < 0 || this.#vcl) this.#at = start;
    if (this.#end !== undefined) return;
    if (vcl) {
      this.#vcl = true;
      this.#poc = NaN;
    }
  }

  #close(): void {
    if (this.#offsets.length >= this.#max) {
      this.#end = this.#at;
      return;
    }
    if (this.#key) this.#keys.push(this.#offsets.length);
    this.#offsets.push(this.#at);
    this.#pocs.push(this.#poc);
    this.#vcl = false;
    this.#key = false;
    this.#at = -1;
  }

  /** The index of the stream, which ends at byte `end`. */
  finish(end: number): EsIndex {
    if (this.#vcl && this.#end === undefined) this.#close();
    const n = this.#offsets.length;
    const order = presentationOrder(this.#pocs, this.#periods);
    let lead = 0;
    for (let i = 0; i < n; i++) lead = Math.max(lead, i - order[i]!);
    const rate = this.#codec === "H264"
      ? this.#sps264?.frameRate
      : this.#sps265?.frameRate ?? this.#vpsRate;
    return {
      codec: this.#codec,
      offsets: this.#offsets,
      end: this.#end ?? end,
      keys: this.#keys,
      order,
      lead,
      frameRate: rate !== undefined && rate >= 1 && rate <= 300
        ? rate
        : DEFAULT_FRAME_RATE,
      sets: this.#sets,
    };
  }
}

/**
 * Each picture's rank in presentation order: by POC within each period
 * (between POC resets); a period with a POC unknown, or reordered further
 * than a decoder could, keeps decode order.
 */
export function presentationOrder(
  pocs: readonly number[],
  periods: readonly number[],
): number[] {
  const order = pocs.map((_, i) => i);
  const starts = [...new Set([0, ...periods])]
    .filter((p) => p < pocs.length)
    .sort((a, b) => a - b);
  for (let p = 0; p < starts.length; p++) {
    const from = starts[p]!;
    const to = starts[p + 1] ?? pocs.length;
    const idx: number[] = [];
    for (let i = from; i < to; i++) idx.push(i);
    if (idx.some((i) => Number.isNaN(pocs[i]!))) continue;
    idx.sort((a, b) => pocs[a]! - pocs[b]! || a - b);
    if (idx.some((i, rank) => Math.abs(from + rank - i) > MAX_REORDER)) {
      continue;
    }
    idx.forEach((i, rank) => order[i] = from + rank);
  }
  return order;
}

function parsed<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}
