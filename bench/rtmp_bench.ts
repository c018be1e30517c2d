// bench/rtmp_bench.ts — ~4 MB of live audio and video per iteration, read in 64 KiB socket reads
import { ChunkDemuxer, ChunkDemuxerStream } from "../lib/rtmp/chunk_demuxer.ts";
import {
  ChunkMuxer,
  ChunkMuxerStream,
  encodeMessage,
} from "../lib/rtmp/chunk_muxer.ts";
import { chunksOf, rtmpChunkStream, rtmpMediaMessages } from "./_util.ts";

const messages = rtmpMediaMessages(4_000_000);
const payloadBytes = messages.reduce((n, m) => n + m.payload.length, 0);
const none = { enqueue() {} };

for (const chunkSize of [4096, 128]) {
  const wire = rtmpChunkStream(messages, chunkSize);
  const reads = chunksOf(wire, 64 * 1024);
  const group = `chunk demuxer ${
    (wire.length / 1e6).toFixed(2)
  } MB, chunk size ${chunkSize}`;
  Deno.bench({ group, name: "core", baseline: true }, () => {
    const demuxer = new ChunkDemuxer();
    for (const read of reads) demuxer.push(read, none);
  });
  Deno.bench({ group, name: "TransformStream" }, async () => {
    for await (
      const _ of ReadableStream.from(reads).pipeThrough(
        new ChunkDemuxerStream(),
      )
    );
  });
}

const group = `chunk muxer ${(payloadBytes / 1e6).toFixed(2)} MB`;
Deno.bench(
  { group, name: "ChunkMuxer, chunk size 4096", baseline: true },
  () => {
    const muxer = new ChunkMuxer({ chunkSize: 4096 });
    for (const m of messages) muxer.push(m, none);
  },
);
Deno.bench({ group, name: "ChunkMuxerStream, chunk size 4096" }, async () => {
  const stream = ReadableStream.from(messages).pipeThrough(
    new ChunkMuxerStream({ chunkSize: 4096 }),
  );
  for await (const _ of stream);
});
Deno.bench({ group, name: "encodeMessage, chunk size 4096" }, () => {
  for (const m of messages) encodeMessage(m, 4096);
});
Deno.bench({ group, name: "ChunkMuxer, chunk size 128" }, () => {
  const muxer = new ChunkMuxer();
  for (const m of messages) muxer.push(m, none);
});
Deno.bench({ group, name: "encodeMessage, chunk size 128" }, () => {
  for (const m of messages) encodeMessage(m, 128);
});
