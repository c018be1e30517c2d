// FLV stages. File: 1 000 video tags × 4 KB + 1 000 audio tags × 200 B ≈ 4.3 MB
// read in 64 KiB chunks. Tags: 1 000 H.264 frames of 3 NAL units, ≈ 4 KB each.
import { concat } from "@std/bytes";
import {
  encodeFlvTag,
  FlvDemuxer,
  FlvDemuxerStream,
  flvHeader,
} from "../lib/flv/file.ts";
import type { FlvTag } from "../lib/flv/tag.ts";
import { FlvTagDemuxer } from "../lib/flv/tag_demuxer.ts";
import { videoSequenceHeader, videoTagBody } from "../lib/flv/tag_muxer.ts";
import type { Frame, VideoTrack } from "../lib/media/mod.ts";

const FRAMES = 1000;
const sink = { enqueue() {} };

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    out.push(bytes.subarray(i, i + size));
  }
  return out;
}

const track: VideoTrack = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: {
    sps: [new Uint8Array([0x67, 0x42, 0x00, 0x0b, 0xed, 0x05, 0x89, 0xc8])],
    pps: [new Uint8Array([0x68, 0xce, 0x38, 0x80])],
  },
};
const frames: Frame[] = Array.from({ length: FRAMES }, (_, i) => ({
  trackId: 0,
  dts: i * 3600,
  pts: i * 3600 + 7200,
  keyframe: i % 50 === 0,
  units: [
    new Uint8Array(2).fill(0x09),
    new Uint8Array(20).fill(0x06),
    new Uint8Array(3960).fill(i % 50 ? 0x41 : 0x65),
  ],
}));
const videoTags: FlvTag[] = [
  { type: 9, timestamp: 0, data: videoSequenceHeader(track) },
  ...frames.map((f) => ({
    type: 9 as const,
    timestamp: f.dts / 90,
    data: videoTagBody(track, f),
  })),
];
const fileTags: FlvTag[] = [];
for (let i = 0; i < FRAMES; i++) {
  fileTags.push(videoTags[i + 1]!);
  fileTags.push({
    type: 8,
    timestamp: i * 40,
    data: new Uint8Array(200).fill(0xaf),
  });
}
const file = concat([flvHeader(true, true), ...fileTags.map(encodeFlvTag)]);
const reads = chunksOf(file, 64 * 1024); // as a socket reads

const fileGroup = `FLV file demux ${(file.length / 1e6).toFixed(1)} MB`;
Deno.bench({ group: fileGroup, name: "core", baseline: true }, () => {
  const demuxer = new FlvDemuxer();
  for (const read of reads) demuxer.push(read, sink);
  demuxer.end();
});
Deno.bench({ group: fileGroup, name: "TransformStream" }, async () => {
  for await (
    const _ of ReadableStream.from(reads).pipeThrough(new FlvDemuxerStream())
  );
});

const tagBytes = videoTags.reduce((n, t) => n + t.data.length, 0);
Deno.bench({
  group: `FLV tag demux ${FRAMES} frames, ${(tagBytes / 1e6).toFixed(1)} MB`,
  name: "body → Frame",
}, () => {
  const demuxer = new FlvTagDemuxer();
  for (const tag of videoTags) demuxer.push(tag, sink);
});

Deno.bench({
  group: `FLV tag mux ${FRAMES} frames, ${(tagBytes / 1e6).toFixed(1)} MB`,
  name: "Frame → body",
}, () => {
  for (const frame of frames) videoTagBody(track, frame);
});
