/**
 * Raw H.264 and H.265 elementary streams (Annex B: `.h264`, `.264`, `.avc`,
 * `.h265`, `.265`, `.hevc`) as files on demand; mediabunny reads none.
 * One pass over the file in pieces builds an {@link EsIndex}; a cursor
 * reads one access unit at a time from the keyframe before the position
 * asked, times each at the stream's frame rate (the SPS or VPS timing
 * info, else 25 fps) in presentation order.
 *
 * @module
 */

import { concat } from "@std/bytes";
import type { FileHandle } from "node:fs/promises";
import { H264_NAL_TYPE, h264NalType } from "../codec/h264/nal.ts";
import { H265_NAL_TYPE, h265NalType } from "../codec/h265/nal.ts";
import type { Frame } from "../media/frame.ts";
import type { ParameterSets, Track } from "../media/track.ts";
import { type SampleReader, trackCodec } from "./_codec.ts";
import { type EsCodec, type EsIndex, EsIndexer } from "./es_index.ts";
import { AnnexBScanner } from "./es_scan.ts";
import {
  type VodCursor,
  type VodDirection,
  VodFormatError,
  type VodFrame,
  type VodSource,
} from "./source.ts";

/** Bytes read per step of the scan. */
const SCAN_BYTES = 1024 * 1024;
/** Largest access unit sent; a larger one is skipped (no start codes in it). */
const MAX_UNIT_BYTES = 16 * 1024 * 1024;
const VIDEO_CLOCK = 90000;
const START_CODE = Uint8Array.of(0, 0, 0, 1);

const EXTENSIONS: Record<string, EsCodec> = {
  h264: "H264",
  "264": "H264",
  avc: "H264",
  h265: "H265",
  "265": "H265",
  hevc: "H265",
};

/** The codec of a raw elementary stream named `path`, by its extension. */
export function esCodecOf(path: string): EsCodec | undefined {
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return undefined;
  return EXTENSIONS[path.slice(dot + 1).toLowerCase()];
}

/** Opens a confined file of `size` bytes as a raw `codec` elementary stream. */
export async function openEs(
  handle: FileHandle,
  size: number,
  codec: EsCodec,
): Promise<VodSource> {
  const scanner = new AnnexBScanner();
  const indexer = new EsIndexer(codec);
  const push = indexer.push.bind(indexer);
  const buf = new Uint8Array(Math.min(SCAN_BYTES, Math.max(1, size)));
  while (scanner.position < size) {
    const { bytesRead } = await handle.read(
      buf,
      0,
      buf.length,
      scanner.position,
    );
    if (bytesRead === 0) break;
    scanner.push(buf.subarray(0, bytesRead), push);
  }
  scanner.end(push);
  const index = indexer.finish(scanner.position);
  const name = codec === "H264" ? "H.264" : "H.265";
  if (index.offsets.length === 0 || index.keys.length === 0) {
    throw new VodFormatError(`no ${name} keyframe in this file`);
  }
  const reader = trackCodec(0, {
    kind: "video",
    codec: codec === "H264" ? "avc" : "hevc",
  }, annexB(index.sets));
  if (reader === undefined) {
    throw new VodFormatError(`no ${name} parameter sets in this file`);
  }
  return new EsSource(handle, index, reader, `${name} elementary stream`);
}

/** Parameter sets as one Annex B access unit. */
function annexB(sets: ParameterSets): Uint8Array {
  const units = [...sets.vps ?? [], ...sets.sps, ...sets.pps];
  return concat(units.flatMap((u) => [START_CODE, u]));
}

class EsSource implements VodSource {
  readonly #handle: FileHandle;
  readonly #index: EsIndex;
  readonly #reader: SampleReader;
  readonly #isKey: Uint8Array;
  readonly tracks: readonly Track[];
  readonly durationSeconds: number;
  readonly leadSeconds: number;
  readonly format: string;

  constructor(
    handle: FileHandle,
    index: EsIndex,
    reader: SampleReader,
    format: string,
  ) {
    this.#handle = handle;
    this.#index = index;
    this.#reader = reader;
    this.#isKey = new Uint8Array(index.offsets.length);
    for (const k of index.keys) this.#isKey[k] = 1;
    this.tracks = [reader.track];
    this.durationSeconds = index.offsets.length / index.frameRate;
    this.leadSeconds = index.lead / index.frameRate;
    this.format = format;
  }

  cursor(seconds: number, direction: VodDirection = "all"): Promise<VodCursor> {
    const { keys, order, frameRate } = this.#index;
    const at = Math.min(Math.max(0, seconds), this.durationSeconds) *
        frameRate + 1e-6;
    let j = 0; // the last keyframe presented at or before `at`
    for (let k = 0; k < keys.length; k++) {
      if (order[keys[k]!]! <= at) j = k;
    }
    return Promise.resolve(
      new EsCursor(this, j, direction, order[keys[j]!]! / frameRate),
    );
  }

  keyframes(): Promise<number[]> {
    const { keys, order, frameRate } = this.#index;
    const out = keys.map((k) => order[k]! / frameRate);
    return Promise.resolve(out.sort((a, b) => a - b));
  }

  /** Access unit `i` as a frame, or `undefined` when it sends nothing. */
  async frame(i: number, keyOnly: boolean): Promise<VodFrame | undefined> {
    const { offsets, end, order, lead, frameRate, sets } = this.#index;
    const from = offsets[i]!;
    const length = (offsets[i + 1] ?? end) - from;
    if (length <= 0 || length > MAX_UNIT_BYTES) return undefined;
    const bytes = new Uint8Array(length);
    const { bytesRead } = await this.#handle.read(bytes, 0, length, from);
    let units = this.#reader.units(bytes.subarray(0, bytesRead));
    if (units === undefined) return undefined;
    const key = this.#isKey[i] === 1;
    if (key && !units.some((u) => isSps(this.#index.codec, u))) {
      // a keyframe starts a reader: its parameter sets go with it
      units = [...sets.vps ?? [], ...sets.sps, ...sets.pps, ...units];
    }
    const seconds = order[i]! / frameRate;
    const pts = Math.round(seconds * VIDEO_CLOCK);
    const frame: Frame = {
      trackId: 0,
      pts,
      dts: keyOnly ? pts : Math.round(((i - lead) / frameRate) * VIDEO_CLOCK),
      keyframe: key,
      units,
    };
    return { frame, seconds };
  }

  get index(): EsIndex {
    return this.#index;
  }

  close(): void {
    void this.#handle.close().catch(() => {});
  }
}

/** Whether a NAL unit is a sequence parameter set. */
function isSps(codec: EsCodec, u: Uint8Array): boolean {
  return codec === "H264"
    ? h264NalType(u) === H264_NAL_TYPE.SPS
    : h265NalType(u) === H265_NAL_TYPE.SPS;
}

class EsCursor implements VodCursor {
  readonly #source: EsSource;
  readonly #direction: VodDirection;
  /** Next access unit (`all`) or next entry of the keyframe list. */
  #next: number;
  readonly startSeconds: number;

  constructor(
    source: EsSource,
    key: number,
    direction: VodDirection,
    startSeconds: number,
  ) {
    this.#source = source;
    this.#direction = direction;
    this.#next = direction === "all" ? source.index.keys[key]! : key;
    this.startSeconds = startSeconds;
  }

  async next(): Promise<VodFrame | undefined> {
    const { keys, offsets } = this.#source.index;
    for (;;) {
      if (this.#direction === "all") {
        if (this.#next >= offsets.length) return undefined;
        const f = await this.#source.frame(this.#next++, false);
        if (f !== undefined) return f;
        continue;
      }
      if (this.#next < 0 || this.#next >= keys.length) return undefined;
      const i = keys[this.#next]!;
      this.#next += this.#direction === "reverse" ? -1 : 1;
      const f = await this.#source.frame(i, true);
      if (f !== undefined) return f;
    }
  }
}
