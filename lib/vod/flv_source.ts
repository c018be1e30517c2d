/**
 * FLV files (mediabunny has no FLV): one pass over the tag headers builds
 * an index (offset, time, video keyframe), Sluice's own tag demuxer turns
 * tags into tracks and frames, and a cursor starts at the indexed keyframe
 * before the position asked, after the file's sequence headers.
 *
 * @module
 */

import type { FileHandle } from "node:fs/promises";
import { FlvTagDemuxer } from "../flv/tag_demuxer.ts";
import { FLV_TAG_TYPE, type FlvTag } from "../flv/tag.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import {
  type VodCursor,
  type VodDirection,
  VodFormatError,
  type VodFrame,
  type VodSource,
} from "./source.ts";

/** FLV v10.1 §E.2: "FLV", version, flags, DataOffset. */
const FLV_SIGNATURE = [0x46, 0x4c, 0x56];
/** §E.4.1: type, DataSize (24), Timestamp (24) + TimestampExtended, StreamID (24). */
const TAG_HEADER_SIZE = 11;
/** Tags indexed at most: about 28 hours of 25 fps video with audio. */
const MAX_TAGS = 5_000_000;
/** Bytes of one tag at most (a 16 MiB DataSize is the field's own limit). */
const MAX_TAG_SIZE = 0xffffff;
/** Tags read at the start to find the sequence headers. */
const CONFIG_TAGS = 64;

interface TagEntry {
  offset: number;
  size: number;
  type: number;
  ms: number;
  key: boolean;
}

/** Opens an FLV file Sluice already confined. */
export async function openFlv(
  handle: FileHandle,
  size: number,
): Promise<VodSource> {
  const head = await readAt(handle, 0, 9);
  if (head.length < 9 || FLV_SIGNATURE.some((b, i) => head[i] !== b)) {
    throw new VodFormatError("not an FLV file");
  }
  const dataOffset = new DataView(head.buffer).getUint32(5);
  const tags = await scan(handle, size, dataOffset + 4);
  const config: FlvTag[] = [];
  const demuxer = new FlvTagDemuxer();
  const tracks = new Map<number, Track>();
  for (const t of tags.slice(0, CONFIG_TAGS)) {
    if (t.type === FLV_TAG_TYPE.SCRIPT) continue;
    const tag = await readTag(handle, t);
    let framed = false;
    demuxer.push(tag, {
      enqueue: (ev) => {
        if (ev.kind === "track") tracks.set(ev.track.id, ev.track);
        if (ev.kind === "frame") framed = true;
      },
    });
    if (!framed) config.push(tag);
  }
  if (tracks.size === 0) {
    throw new VodFormatError("no track Sluice can send in this FLV file");
  }
  const media = tags.filter((t) => t.type !== FLV_TAG_TYPE.SCRIPT);
  const first = media[0]?.ms ?? 0;
  const last = media.at(-1)?.ms ?? 0;
  return new FlvSource(handle, {
    tags: media,
    config,
    tracks: [...tracks.values()].sort((a, b) => a.id - b.id),
    baseMs: first,
    durationSeconds: (last - first) / 1000,
  });
}

async function readAt(
  handle: FileHandle,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** Walks the tag headers; a cut or garbled tail ends the index there. */
async function scan(
  handle: FileHandle,
  size: number,
  start: number,
): Promise<TagEntry[]> {
  const tags: TagEntry[] = [];
  let pos = start;
  while (pos + TAG_HEADER_SIZE <= size && tags.length < MAX_TAGS) {
    const h = await readAt(handle, pos, TAG_HEADER_SIZE + 1);
    if (h.length < TAG_HEADER_SIZE + 1) break;
    const type = h[0]! & 0x1f;
    const dataSize = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
    const ms = ((h[7]! << 24) | (h[4]! << 16) | (h[5]! << 8) | h[6]!) >>> 0;
    if (dataSize > MAX_TAG_SIZE || pos + TAG_HEADER_SIZE + dataSize > size) {
      break;
    }
    if (
      type === FLV_TAG_TYPE.AUDIO || type === FLV_TAG_TYPE.VIDEO ||
      type === FLV_TAG_TYPE.SCRIPT
    ) {
      // FrameType is the high nibble of the first body byte (§E.4.3.1),
      // in the Enhanced RTMP header too (its bit 7 is IsExHeader)
      const key = type === FLV_TAG_TYPE.VIDEO && dataSize > 0 &&
        ((h[11]! >> 4) & 0x7) === 1;
      tags.push({
        offset: pos + TAG_HEADER_SIZE,
        size: dataSize,
        type,
        ms,
        key,
      });
    }
    pos += TAG_HEADER_SIZE + dataSize + 4;
  }
  return tags;
}

async function readTag(handle: FileHandle, t: TagEntry): Promise<FlvTag> {
  const data = await readAt(handle, t.offset, t.size);
  return { type: t.type as FlvTag["type"], timestamp: t.ms, data };
}

interface FlvIndex {
  tags: TagEntry[];
  config: FlvTag[];
  tracks: Track[];
  baseMs: number;
  durationSeconds: number;
}

class FlvSource implements VodSource {
  readonly #handle: FileHandle;
  readonly #index: FlvIndex;
  readonly tracks: readonly Track[];
  readonly durationSeconds: number;
  readonly format = "FLV";
  readonly leadSeconds = 0;

  constructor(handle: FileHandle, index: FlvIndex) {
    this.#handle = handle;
    this.#index = index;
    this.tracks = index.tracks;
    this.durationSeconds = index.durationSeconds;
  }

  cursor(seconds: number, direction: VodDirection = "all"): Promise<VodCursor> {
    const { tags, baseMs } = this.#index;
    const at = Math.min(Math.max(0, seconds), this.durationSeconds) * 1000 +
      baseMs;
    const hasVideo = this.tracks.some((t) => t.kind === "video");
    let i = 0;
    for (let j = 0; j < tags.length; j++) {
      const t = tags[j]!;
      if (t.ms > at) break;
      if (!hasVideo || t.key) i = j;
    }
    if (direction !== "all" && !hasVideo) {
      return Promise.reject(
        new VodFormatError("no video keyframes to skip through"),
      );
    }
    const demuxer = new FlvTagDemuxer();
    for (const c of this.#index.config) demuxer.push(c, { enqueue() {} });
    const startSeconds = Math.max(0, ((tags[i]?.ms ?? baseMs) - baseMs) / 1000);
    return Promise.resolve(
      new FlvCursor(this.#handle, this.#index, demuxer, i, {
        direction,
        startSeconds,
      }),
    );
  }

  keyframes(): Promise<number[]> {
    const { tags, baseMs } = this.#index;
    if (!this.tracks.some((t) => t.kind === "video")) {
      return Promise.resolve([]);
    }
    const out: number[] = [];
    for (const t of tags) {
      if (t.key) out.push(Math.max(0, (t.ms - baseMs) / 1000));
    }
    return Promise.resolve(out);
  }

  close(): void {
    void this.#handle.close().catch(() => {});
  }
}

class FlvCursor implements VodCursor {
  readonly #handle: FileHandle;
  readonly #index: FlvIndex;
  readonly #demuxer: FlvTagDemuxer;
  readonly #direction: VodDirection;
  #i: number;
  readonly startSeconds: number;

  constructor(
    handle: FileHandle,
    index: FlvIndex,
    demuxer: FlvTagDemuxer,
    i: number,
    o: { direction: VodDirection; startSeconds: number },
  ) {
    this.#handle = handle;
    this.#index = index;
    this.#demuxer = demuxer;
    this.#i = i;
    this.#direction = o.direction;
    this.startSeconds = o.startSeconds;
  }

  async next(): Promise<VodFrame | undefined> {
    const { tags, baseMs } = this.#index;
    const step = this.#direction === "reverse" ? -1 : 1;
    while (this.#i >= 0 && this.#i < tags.length) {
      const t = tags[this.#i]!;
      this.#i += step;
      if (this.#direction !== "all" && !t.key) continue;
      const frame = this.#frameOf(await readTag(this.#handle, t));
      if (frame === undefined) continue;
      const track = this.#index.tracks.find((x) => x.id === frame.trackId);
      const rate = track?.clockRate ?? 1000;
      const shift = Math.round((baseMs / 1000) * rate);
      const out: Frame = {
        ...frame,
        dts: frame.dts - shift,
        pts: frame.pts - shift,
      };
      if (this.#direction !== "all") out.dts = out.pts;
      return { frame: out, seconds: Math.max(0, out.pts / rate) };
    }
    return undefined;
  }

  #frameOf(tag: FlvTag): Frame | undefined {
    let frame: Frame | undefined;
    try {
      this.#demuxer.push(tag, {
        enqueue: (ev) => {
          if (ev.kind === "frame" && frame === undefined) frame = ev.frame;
        },
      });
    } catch {
      return undefined; // a broken tag is skipped, as a publisher's would be
    }
    return frame;
  }
}
