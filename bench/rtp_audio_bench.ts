// Audio RTP payload formats. AAC at 44.1 kHz, AUs of 340–420 bytes (≈ 128 kb/s
// stereo): 1 000 packets of one AU each (≈ 0.4 MB, as live senders and Sluice
// send it), 1 000 packets of 8 AUs (≈ 3 MB, as ffmpeg aggregates), and
// 1 000 frames to packetize. Packets per second = 1 000 ÷ time.
import {
  AacDepacketizer,
  AacDepacketizerStream,
  AacPacketizer,
  AacPacketizerStream,
} from "../lib/rtp/aac.ts";
import { decodeRtpPacket, type RtpPacket } from "../lib/rtp/packet.ts";
import type { AudioTrack, Frame } from "../lib/media/mod.ts";

const PACKETS = 1000;
const sink = { enqueue() {} };

const track: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 44100,
  sampleRate: 44100,
  channels: 2,
  config: new Uint8Array([0x12, 0x10]),
};

/** A small deterministic generator, so every run sees the same input. */
let seed = 3640;
function random(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 0x100000000;
}

function au(): Uint8Array {
  const bytes = new Uint8Array(340 + Math.floor(random() * 80));
  bytes[0] = 0x21; // a CPE, as AAC LC stereo starts
  for (let i = 1; i < bytes.length; i += 16) bytes[i] = i & 0xff;
  return bytes;
}

const frames: Frame[] = Array.from({ length: PACKETS }, (_, i) => ({
  trackId: 1,
  dts: i * 1024,
  pts: i * 1024,
  keyframe: true,
  units: [au()],
}));

function packetize(input: Frame[]): RtpPacket[] {
  const packets: RtpPacket[] = [];
  const p = new AacPacketizer(track, {
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
  });
  for (const f of input) {
    p.push(f, { enqueue: (b) => void packets.push(decodeRtpPacket(b)) });
  }
  return packets;
}

/** RFC 3640 AAC-hbr packets of 8 AUs: AU-headers-length, 8 headers, 8 AUs. */
function aggregated(): RtpPacket[] {
  const out: RtpPacket[] = [];
  for (let n = 0; n < PACKETS; n++) {
    const aus = Array.from({ length: 8 }, au);
    const size = aus.reduce((s, a) => s + a.length, 0);
    const payload = new Uint8Array(2 + 16 + size);
    payload[1] = 8 * 16;
    let at = 18;
    aus.forEach((a, i) => {
      payload[2 + 2 * i] = a.length >> 5;
      payload[3 + 2 * i] = (a.length << 3) & 0xff;
      payload.set(a, at);
      at += a.length;
    });
    out.push({
      padding: 0,
      marker: true,
      payloadType: 97,
      sequenceNumber: n & 0xffff,
      timestamp: n * 8192,
      ssrc: 1,
      csrcs: [],
      payload,
    });
  }
  return out;
}

const single = packetize(frames);
const eight = aggregated();
const singleBytes = single.reduce((s, p) => s + p.payload.length, 0);
const eightBytes = eight.reduce((s, p) => s + p.payload.length, 0);

const depacketizeGroup = `AAC depacketize 1 000 packets, 1 AU each (${
  (singleBytes / 1e6).toFixed(2)
} MB)`;
Deno.bench({ group: depacketizeGroup, name: "core", baseline: true }, () => {
  const d = new AacDepacketizer({ clockRate: 44100 });
  for (const p of single) d.push(p, sink);
});
Deno.bench({ group: depacketizeGroup, name: "TransformStream" }, async () => {
  const stream = ReadableStream.from(single).pipeThrough(
    new AacDepacketizerStream({ clockRate: 44100 }),
  );
  for await (const _ of stream);
});

const eightGroup = `AAC depacketize 1 000 packets, 8 AUs each (${
  (eightBytes / 1e6).toFixed(2)
} MB)`;
Deno.bench({ group: eightGroup, name: "core", baseline: true }, () => {
  const d = new AacDepacketizer({ clockRate: 44100 });
  for (const p of eight) d.push(p, sink);
});

const packetizeGroup = `AAC packetize 1 000 frames (${
  (singleBytes / 1e6).toFixed(2)
} MB)`;
Deno.bench({ group: packetizeGroup, name: "core", baseline: true }, () => {
  const p = new AacPacketizer(track, { ssrc: 1 });
  for (const f of frames) p.push(f, sink);
});
Deno.bench({ group: packetizeGroup, name: "TransformStream" }, async () => {
  const stream = ReadableStream.from(frames).pipeThrough(
    new AacPacketizerStream(track, { ssrc: 1 }),
  );
  for await (const _ of stream);
});
Deno.bench({
  group: packetizeGroup,
  name: "core, fragmented at 200-byte packets",
}, () => {
  const p = new AacPacketizer(track, { ssrc: 1, maxPacketSize: 200 });
  for (const f of frames) p.push(f, sink);
});
