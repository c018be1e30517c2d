/**
 * MP4/MOV, fragmented MP4, Matroska/WebM, MPEG-TS, ADTS and MP3 files read
 * with mediabunny (a maintained pure-TypeScript demuxer with seeking), its
 * packets turned into the media model's frames.
 *
 * mediabunny hands out samples in decode order with presentation times;
 * frames also need decode times: each track's cursor looks a few samples
 * ahead and gives each sample the smallest presentation time not given yet,
 * moved back by the track's reordering delay, so `dts ≤ pts` and decode
 * times never step back.
 *
 * @module
 */

import {
  ALL_FORMATS,
  type EncodedPacket,
  EncodedPacketSink,
  Input,
  type InputTrack,
  StreamSource,
} from "mediabunny";
import type { FileHandle } from "node:fs/promises";
import type { Track } from "../media/track.ts";
import { trackCodec } from "./_codec.ts";
import {
  type VodCursor,
  type VodDirection,
  VodFormatError,
  type VodSource,
} from "./source.ts";
import {
  keyAtOrBefore,
  KeyCursor,
  LOOKAHEAD,
  MergeCursor,
  type OpenTrack,
  TrackWalk,
} from "./_mediabunny_cursors.ts";

/** Keyframes indexed at most: over two days of video with a keyframe every second. */
const MAX_KEYFRAMES = 200_000;
/** Bytes of the file the demuxer keeps cached (shared by all readers). */
const CACHE_BYTES = 4 * 1024 * 1024;

/** Opens `handle` (a file Sluice already confined) as a mediabunny source. */
export async function openMediabunny(
  handle: FileHandle,
  size: number,
): Promise<VodSource> {
  const input = new Input({
    formats: ALL_FORMATS,
    source: new StreamSource({
      getSize: () => size,
      read: async (start, end) => {
        const buf = new Uint8Array(Math.max(0, Math.min(end, size) - start));
        const { bytesRead } = await handle.read(buf, 0, buf.length, start);
        return buf.subarray(0, bytesRead);
      },
      maxCacheSize: CACHE_BYTES,
    }),
  });
  try {
    const format = await input.getFormat().catch(() => {
      throw new VodFormatError("not a media file Sluice can read");
    });
    const tracks: OpenTrack[] = [];
    const video = await input.getPrimaryVideoTrack();
    const audio = (await input.getAudioTracks())[0];
    for (const t of [video, audio]) {
      if (t === null || t === undefined) continue;
      const open = await openTrack(t, tracks.length);
      if (open !== undefined) tracks.push(open);
    }
    if (tracks.length === 0) {
      throw new VodFormatError(
        `no track Sluice can send in this ${format.name} file`,
      );
    }
    const base = Math.max(
      0,
      await input.getFirstTimestamp(tracks.map((t) => t.input)),
    );
    const end = await input.computeDuration(tracks.map((t) => t.input));
    return new MediabunnySource(input, tracks, base, end - base, format.name);
  } catch (e) {
    input.dispose();
    if (e instanceof VodFormatError) throw e;
    throw new VodFormatError(
      `cannot read the file: ${e instanceof Error ? e.message : e}`,
    );
  }
}

async function openTrack(
  t: InputTrack,
  id: number,
): Promise<OpenTrack | undefined> {
  const sink = new EncodedPacketSink(t);
  const first = await sink.getFirstKeyPacket();
  let description: Uint8Array | undefined;
  let kind: "video" | "audio";
  let extra = {};
  let codecString: string | undefined;
  if (t.isVideoTrack()) {
    kind = "video";
    const cfg = await t.getDecoderConfig();
    codecString = cfg?.codec;
    description = bytesOf(cfg?.description);
    extra = {
      width: await t.getCodedWidth(),
      height: await t.getCodedHeight(),
    };
  } else if (t.isAudioTrack()) {
    kind = "audio";
    const cfg = await t.getDecoderConfig();
    description = bytesOf(cfg?.description);
    extra = {
      sampleRate: await t.getSampleRate(),
      channels: await t.getNumberOfChannels(),
    };
  } else return undefined;
  const reader = trackCodec(id, {
    kind,
    codec: t.codec,
    ...(codecString !== undefined ? { codecString } : {}),
    ...(description !== undefined ? { description } : {}),
    ...extra,
  }, first?.data);
  if (reader === undefined) return undefined;
  return { input: t, sink, reader, delay: await reorderDelay(sink) };
}

function bytesOf(
  d: AllowSharedBufferSource | undefined,
): Uint8Array | undefined {
  if (d === undefined) return undefined;
  if (d instanceof Uint8Array) return d;
  if (ArrayBuffer.isView(d)) {
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  return new Uint8Array(d);
}

/** How far decode order runs ahead of presentation order at the track's start. */
async function reorderDelay(sink: EncodedPacketSink): Promise<number> {
  const pts: number[] = [];
  let p = await sink.getFirstPacket();
  while (p !== null && pts.length < 4 * LOOKAHEAD) {
    pts.push(p.timestamp);
    p = await sink.getNextPacket(p);
  }
  const sorted = [...pts].sort((a, b) => a - b);
  let delay = 0;
  for (let i = 0; i < pts.length; i++) {
    delay = Math.max(delay, sorted[i]! - pts[i]!);
  }
  return delay;
}

class MediabunnySource implements VodSource {
  readonly #input: Input;
  readonly #tracks: OpenTrack[];
  readonly #base: number;
  readonly tracks: readonly Track[];
  readonly durationSeconds: number;
  readonly leadSeconds: number;
  readonly format: string;

  constructor(
    input: Input,
    tracks: OpenTrack[],
    base: number,
    duration: number,
    format: string,
  ) {
    this.#input = input;
    this.#tracks = tracks;
    this.#base = base;
    this.tracks = tracks.map((t) => t.reader.track);
    this.durationSeconds = Math.max(0, duration);
    this.format = format;
    this.leadSeconds = Math.max(0, ...tracks.map((t) => t.delay));
  }

  async cursor(
    seconds: number,
    direction: VodDirection = "all",
  ): Promise<VodCursor> {
    const at = Math.min(Math.max(0, seconds), this.durationSeconds);
    const video = this.#tracks.find((t) => t.reader.track.kind === "video");
    let start = at;
    let key: EncodedPacket | null = null;
    if (video !== undefined) {
      key = await keyAtOrBefore(video, at + this.#base) ??
        await video.sink.getFirstKeyPacket();
      if (key !== null) start = Math.max(0, key.timestamp - this.#base);
    }
    if (direction !== "all") {
      if (video === undefined || key === null) {
        throw new VodFormatError("no video keyframes to skip through");
      }
      return new KeyCursor(video, key, this.#base, start, direction);
    }
    const walks: TrackWalk[] = [];
    for (const t of this.#tracks) {
      const first = t === video && key !== null
        ? key
        : await t.sink.getPacket(start + this.#base) ??
          await t.sink.getFirstPacket();
      if (first !== null) walks.push(new TrackWalk(t, first, this.#base));
    }
    return new MergeCursor(walks, start);
  }

  async keyframes(): Promise<number[]> {
    const video = this.#tracks.find((t) => t.reader.track.kind === "video");
    if (video === undefined) return [];
    const out: number[] = [];
    const meta = { metadataOnly: true };
    let p = await video.sink.getFirstKeyPacket(meta);
    while (p !== null && out.length < MAX_KEYFRAMES) {
      out.push(Math.max(0, p.timestamp - this.#base));
      const next = await video.sink.getNextKeyPacket(p, meta);
      if (next !== null && next.timestamp <= p.timestamp) break; // a demuxer that cannot move on
      p = next;
    }
    return out;
  }

  close(): void {
    this.#input.dispose();
  }
}
