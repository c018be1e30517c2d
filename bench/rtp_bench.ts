// RTP stages. Input: 300 H.264 frames (10 s at 30 fps, an IDR of 60 KB with
// SPS/PPS every second, P frames of 10–30 KB) ≈ 6.4 MB of NAL units, which
// the packetizer cuts into ≈ 4 800 RTP packets of at most 1 400 bytes.
import { decodeRtpPacket, type RtpPacket } from "../lib/rtp/packet.ts";
import {
  H264Depacketizer,
  H264DepacketizerStream,
  H264Packetizer,
  H264PacketizerStream,
} from "../lib/rtp/h264.ts";
import { ReorderBuffer } from "../lib/rtp/reorder.ts";
import type { Frame } from "../lib/media/mod.ts";

const sink = { enqueue() {} };

/** A small deterministic generator (numerical recipes LCG). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () =>
    (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 0x100000000;
}

/** A NAL unit of `size` bytes, header `header`, without zero bytes (so no start codes). */
function nal(header: number, size: number, random: () => number): Uint8Array {
  const u = new Uint8Array(size);
  u[0] = header;
  for (let i = 1; i < size; i++) u[i] = 1 + Math.floor(random() * 255);
  return u;
}

const random = lcg(6184);
const sps = new Uint8Array([
  0x67,
  0x64,
  0x00,
  0x1f,
  0xac,
  0xd9,
  0x40,
  0x50,
  0x05,
  0xbb,
  0x01,
  0x10,
]);
const pps = new Uint8Array([0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0]);
const frames: Frame[] = Array.from({ length: 300 }, (_, i) => {
  const keyframe = i % 30 === 0;
  const units = keyframe
    ? [sps, pps, nal(0x65, 60_000, random)]
    : [nal(0x41, 10_000 + Math.floor(random() * 20_000), random)];
  return { trackId: 0, dts: i * 3000, pts: i * 3000, keyframe, units };
});
const frameBytes = frames.reduce(
  (n, f) => n + f.units.reduce((m, u) => m + u.length, 0),
  0,
);

const wires: Uint8Array[] = [];
{
  const packetizer = new H264Packetizer({
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
  });
  for (const f of frames) {
    packetizer.push(f, { enqueue: (p) => void wires.push(p) });
  }
}
const packets: RtpPacket[] = wires.map(decodeRtpPacket);
const wireBytes = wires.reduce((n, w) => n + w.length, 0);
const mb = (n: number) => (n / 1e6).toFixed(1);

const depacketize = `H.264 depacketize ${packets.length} packets, ${
  mb(wireBytes)
} MB`;
Deno.bench({ group: depacketize, name: "core", baseline: true }, () => {
  const d = new H264Depacketizer();
  for (const p of packets) d.push(p, sink);
});
Deno.bench({ group: depacketize, name: "decodeRtpPacket + core" }, () => {
  const d = new H264Depacketizer();
  for (const w of wires) d.push(decodeRtpPacket(w), sink);
});
Deno.bench({ group: depacketize, name: "ReorderBuffer + core" }, () => {
  const r = new ReorderBuffer();
  const d = new H264Depacketizer();
  const out = { enqueue: (p: RtpPacket) => d.push(p, sink) };
  for (const p of packets) r.push(p, out);
});
Deno.bench({ group: depacketize, name: "TransformStream" }, async () => {
  for await (
    const _ of ReadableStream.from(packets).pipeThrough(
      new H264DepacketizerStream(),
    )
  );
});

const packetize = `H.264 packetize ${frames.length} frames, ${
  mb(frameBytes)
} MB → ${packets.length} packets`;
Deno.bench({ group: packetize, name: "core", baseline: true }, () => {
  const p = new H264Packetizer({
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
  });
  for (const f of frames) p.push(f, sink);
});
Deno.bench({ group: packetize, name: "TransformStream" }, async () => {
  for await (
    const _ of ReadableStream.from(frames).pipeThrough(
      new H264PacketizerStream(),
    )
  );
});

Deno.bench({
  group: "RTP header",
  name: `decodeRtpPacket × ${wires.length}`,
  baseline: true,
}, () => {
  for (const w of wires) decodeRtpPacket(w);
});
