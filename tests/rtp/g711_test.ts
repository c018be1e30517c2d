import assert from "node:assert/strict";
import fc from "fast-check";
import {
  G711Depacketizer,
  G711Packetizer,
  g711PayloadType,
  g711Rtpmap,
} from "../../lib/rtp/g711.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import type { AudioTrack, Frame } from "../../lib/media/mod.ts";
import { collect, hex } from "../_util/bytes.ts";
import { packetize } from "./_payload.ts";
import {
  checkDepacketizer,
  depacketize,
  loadCapture,
  pkt,
  plain,
} from "./_audio_fixtures.ts";

const PCMU: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "PCMU",
  clockRate: 8000,
  sampleRate: 8000,
  channels: 1,
};
const PCMA: AudioTrack = { ...PCMU, codec: "PCMA" };

function frame(dts: number, samples: number[] | Uint8Array): Frame {
  return {
    trackId: 0,
    dts,
    pts: dts,
    keyframe: true,
    units: [Uint8Array.from(samples)],
  };
}

Deno.test("g711PayloadType gives the static types of RFC 3551 Table 4 for 8 kHz mono only", () => {
  assert.equal(g711PayloadType(PCMU), 0);
  assert.equal(g711PayloadType(PCMA), 8);
  assert.equal(g711PayloadType({ ...PCMA, channels: 2 }), undefined);
  assert.equal(
    g711PayloadType({ ...PCMU, clockRate: 16000, sampleRate: 16000 }),
    undefined,
  );
  assert.equal(g711Rtpmap(PCMU), "PCMU/8000");
  assert.equal(
    g711Rtpmap({ ...PCMA, clockRate: 16000, sampleRate: 16000, channels: 2 }),
    "PCMA/16000/2",
  );
});

Deno.test("G711Depacketizer makes one frame per packet at the packet's timestamp", () => {
  const frames = depacketize(new G711Depacketizer(), [
    pkt(1, 0xffff_ff60, true, hex("ff 7f")),
    pkt(2, 0, false, hex("00 80")),
    pkt(3, 160, false, hex("")),
  ]);
  assert.deepEqual(
    plain(frames),
    plain([frame(0xffff_ff60, [0xff, 0x7f]), frame(0x1_0000_0000, [0, 0x80])]),
  );
});

for (const name of ["pcmu_8k_mono", "pcma_8k_mono"]) {
  Deno.test(`G711Depacketizer reads ffmpeg's ${name} and G711Packetizer sends it back`, () => {
    const cap = loadCapture(name);
    const frames = depacketize(new G711Depacketizer(), cap.rtp);
    assert.equal(frames.length, cap.rtp.length);
    const all = Uint8Array.from(cap.rtp.flatMap((p) => [...p.payload]));
    assert.equal(all.length, 2400); // 0.3 s at 8 kHz
    const track = name.startsWith("pcmu") ? PCMU : PCMA;
    const p = new G711Packetizer(track, { timestampOffset: 0 });
    const out = collect<Uint8Array>();
    p.push(frame(0, all), out);
    const packets = out.items.map((b) => decodeRtpPacket(b));
    assert.equal(packets.length, 15); // 20 ms each
    assert.equal(packets[0]!.payloadType, track.codec === "PCMU" ? 0 : 8);
    const again = depacketize(new G711Depacketizer(), packets);
    assert.deepEqual(
      again.map((f) => f.dts),
      Array.from({ length: 15 }, (_, i) => i * 160),
    );
    assert.deepEqual(
      Uint8Array.from(again.flatMap((f) => [...f.units[0]!])),
      all,
    );
  });
}

Deno.test("G711Packetizer cuts at 20 ms, stamps each packet with its first sample, marks the first", () => {
  const p = new G711Packetizer(PCMA, {
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 100,
    packetMs: 1,
  });
  const out = collect<Uint8Array>();
  p.push(frame(0, new Uint8Array(20).fill(0xd5)), out);
  p.push(frame(20, new Uint8Array(3).fill(0x55)), out);
  // 1 ms at 8 kHz = 8 samples: 8 + 8 + 4, then 3
  assert.deepEqual(out.items, [
    hex(`80 88 0000 00000064 00000001 | ${"d5".repeat(8)}`),
    hex(`80 08 0001 0000006c 00000001 | ${"d5".repeat(8)}`),
    hex(`80 08 0002 00000074 00000001 | ${"d5".repeat(4)}`),
    hex(`80 08 0003 00000078 00000001 | 555555`),
  ]);
});

Deno.test("G711Packetizer cuts at maxPacketSize on whole samples of all channels", () => {
  const track = { ...PCMU, clockRate: 16000, sampleRate: 16000, channels: 2 };
  const p = new G711Packetizer(track, {
    maxPacketSize: 12 + 9,
    timestampOffset: 0,
  });
  const out = collect<Uint8Array>();
  p.push(frame(0, new Uint8Array(20)), out);
  const packets = out.items.map((b) => decodeRtpPacket(b));
  // 9 bytes of room: 4 stereo samples (8 bytes) per packet
  assert.deepEqual(
    packets.map((q) => [q.payloadType, q.timestamp, q.payload.length]),
    [
      [96, 0, 8],
      [96, 4, 8],
      [96, 8, 4],
    ],
  );
  assert.throws(() => p.push(frame(7, new Uint8Array(3)), collect()), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("G711Packetizer → G711Depacketizer round-trips random frames and packet sizes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.integer({ min: 20, max: 1500 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (frames, maxPacketSize, timestampOffset) => {
        const p = new G711Packetizer(PCMU, { maxPacketSize, timestampOffset });
        const out = collect<Uint8Array>();
        let dts = 0;
        const want: number[] = [];
        for (const f of frames) {
          p.push(frame(dts, f), out);
          want.push(...f);
          dts += f.length;
        }
        for (const b of out.items) assert.ok(b.length <= maxPacketSize);
        const got = depacketize(
          new G711Depacketizer(),
          out.items.map((b) => decodeRtpPacket(b)),
        );
        let next = timestampOffset;
        for (const f of got) { // contiguous: each packet starts where the last ended
          assert.equal(f.dts, next);
          next += f.units[0]!.length;
        }
        assert.deepEqual(got.flatMap((f) => [...f.units[0]!]), want);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("G711Depacketizer keeps the stage contract on random and mutated packets", () => {
  checkDepacketizer(
    () => new G711Depacketizer(),
    loadCapture("pcma_8k_mono").datagrams,
    {
      // one packet per frame: packets long enough for any frame read
      packetize: (frames) =>
        packetize(
          new G711Packetizer(PCMA, {
            timestampOffset: 0,
            packetMs: 1000,
            maxPacketSize: 9000,
          }),
          frames,
        ),
    },
  );
});
