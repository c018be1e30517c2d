/**
 * Input builders for the stage benchmarks, made once at module level.
 *
 * @module
 */
import { ChunkMuxer } from "../lib/rtmp/chunk_muxer.ts";
import { setChunkSize } from "../lib/rtmp/control.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../lib/rtmp/message.ts";

/** `bytes` cut into reads of `size` bytes, each its own buffer, as a socket hands them over. */
export function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    out.push(bytes.slice(at, at + size));
  }
  return out;
}

/** A small deterministic generator (numerical recipes LCG), so every run sees the same input. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () =>
    (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 0x100000000;
}

/**
 * Live media as an encoder sends it: 30 fps video of 10–60 KB per frame and
 * ~43 AAC frames a second of ~400 bytes, interleaved by timestamp, until
 * `totalBytes` of payload.
 */
export function rtmpMediaMessages(totalBytes: number): RtmpMessage[] {
  const random = lcg(1935);
  const out: RtmpMessage[] = [];
  let bytes = 0;
  let video = 0;
  let audio = 0;
  while (bytes < totalBytes) {
    const videoTs = Math.round(video * 1000 / 30);
    const audioTs = Math.round(audio * 1024 * 1000 / 44100);
    const isVideo = videoTs <= audioTs;
    const size = isVideo
      ? 10_000 + Math.floor(random() * 50_000)
      : 380 + Math.floor(random() * 40);
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i += 64) payload[i] = i & 0xff;
    out.push({
      chunkStreamId: isVideo ? CHUNK_STREAM.VIDEO : CHUNK_STREAM.AUDIO,
      typeId: isVideo ? MESSAGE_TYPE.VIDEO : MESSAGE_TYPE.AUDIO,
      timestamp: isVideo ? videoTs : audioTs,
      streamId: 1,
      payload,
    });
    if (isVideo) video++;
    else audio++;
    bytes += size;
  }
  return out;
}

/** The chunk stream a publisher sends for `messages`: Set Chunk Size first, then the chunks. */
export function rtmpChunkStream(
  messages: RtmpMessage[],
  chunkSize: number,
): Uint8Array {
  const muxer = new ChunkMuxer();
  const parts: Uint8Array[] = [];
  const sink = { enqueue: (b: Uint8Array) => void parts.push(b) };
  if (chunkSize !== 128) muxer.push(setChunkSize(chunkSize), sink);
  for (const m of messages) muxer.push(m, sink);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
