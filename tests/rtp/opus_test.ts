import assert from "node:assert/strict";
import fc from "fast-check";
import {
  OpusDepacketizer,
  opusFmtp,
  opusPacketDuration,
  OpusPacketizer,
  opusRtpmap,
  parseOpusFmtp,
} from "../../lib/rtp/opus.ts";
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

const TRACK: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "OPUS",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
};

function frame(dts: number, packet: number[] | Uint8Array): Frame {
  return {
    trackId: 0,
    dts,
    pts: dts,
    keyframe: true,
    units: [Uint8Array.from(packet)],
  };
}

// RFC 6716 §3.1: TOC = config (5) | s (1) | c (2); Table 2 gives the frame size by config.
const DURATIONS = [
  {
    name: "SILK NB 10 ms (config 0), one frame",
    packet: "00 ff",
    samples: 480,
  },
  { name: "SILK WB 20 ms (config 9), stereo", packet: "4c ff", samples: 960 },
  { name: "SILK 60 ms (config 3)", packet: "18", samples: 2880 },
  {
    name: "Hybrid FB 20 ms (config 15), as ffmpeg's libopus sends",
    packet: "7c 87",
    samples: 960,
  },
  { name: "Hybrid SWB 10 ms (config 12)", packet: "60", samples: 480 },
  { name: "CELT 2.5 ms (config 16)", packet: "80", samples: 120 },
  {
    name: "CELT FB 20 ms, two frames (code 1)",
    packet: "f9 00 00",
    samples: 1920,
  },
  {
    name: "CELT FB 20 ms, two frames of different sizes (code 2)",
    packet: "fa 01 00",
    samples: 1920,
  },
  {
    name: "CELT 20 ms × 6 (code 3, M = 6): the 120 ms maximum",
    packet: "fb 06",
    samples: 5760,
  },
  {
    name: "CELT 2.5 ms × 48 (code 3, M = 48, padding flag)",
    packet: "83 70",
    samples: 5760,
  },
];
for (const c of DURATIONS) {
  Deno.test(`opusPacketDuration reads ${c.name}`, () => {
    assert.equal(opusPacketDuration(hex(c.packet)), c.samples);
  });
}

const BAD = [
  { name: "an empty packet", packet: "" },
  { name: "code 3 without its frame count byte", packet: "fb" },
  { name: "code 3 with 0 frames", packet: "fb 00" },
  { name: "more than 120 ms (7 × 20 ms)", packet: "fb 07" },
];
for (const c of BAD) {
  Deno.test(`opusPacketDuration rejects ${c.name}`, () => {
    assert.throws(() => opusPacketDuration(hex(c.packet)), {
      name: "ProtocolError",
      code: "malformed",
    });
  });
}

Deno.test("OpusDepacketizer makes one frame per packet, across the 32-bit wrap", () => {
  const frames = depacketize(new OpusDepacketizer({ trackId: 2 }), [
    pkt(1, 0xffff_fe00, true, hex("7c 01")),
    pkt(2, 0x1c0, false, hex("7c 02")),
    pkt(3, 0x580, false, hex("")), // empty: skipped
  ]);
  assert.deepEqual(
    plain(frames),
    plain([frame(0xffff_fe00, [0x7c, 1]), frame(0x1_0000_01c0, [0x7c, 2])]).map(
      (f) => ({ ...(f as object), trackId: 2 }),
    ),
  );
});

Deno.test("OpusDepacketizer rejects a payload that cannot be Opus", () => {
  assert.throws(
    () => depacketize(new OpusDepacketizer(), [pkt(1, 0, true, hex("fb 00"))]),
    {
      name: "ProtocolError",
      code: "malformed",
    },
  );
});

Deno.test("OpusDepacketizer reads ffmpeg's libopus stream", () => {
  const cap = loadCapture("opus_48k_stereo");
  assert.equal(cap.rtpmap, "opus/48000/2");
  assert.deepEqual(parseOpusFmtp(cap.fmtp), { channels: 2 });
  const frames = depacketize(new OpusDepacketizer(), cap.rtp);
  assert.equal(frames.length, cap.rtp.length);
  frames.forEach((f, i) => {
    assert.equal(f.dts - frames[0]!.dts, i * opusPacketDuration(f.units[0]!));
    assert.deepEqual(f.units[0], cap.rtp[i]!.payload);
  });
});

Deno.test("parseOpusFmtp, opusRtpmap and opusFmtp (RFC 7587 §7)", () => {
  assert.deepEqual(parseOpusFmtp({}), { channels: 1 });
  assert.deepEqual(parseOpusFmtp({ "Sprop-Stereo": "0", stereo: "1" }), {
    channels: 1,
  });
  assert.equal(opusRtpmap(), "opus/48000/2");
  assert.equal(opusFmtp(TRACK), "sprop-stereo=1;stereo=1");
  assert.equal(opusFmtp({ ...TRACK, channels: 1 }), "sprop-stereo=0;stereo=0");
});

Deno.test("OpusPacketizer writes one packet per frame, the marker on the first", () => {
  const p = new OpusPacketizer(TRACK, {
    ssrc: 0xaabbccdd,
    sequenceNumber: 10,
    timestampOffset: 1000,
  });
  const out = collect<Uint8Array>();
  p.push(frame(0, [0x7c, 1, 2]), out);
  p.push(frame(960, [0x7c, 3]), out);
  assert.deepEqual(out.items, [
    hex("80 e0 000a 000003e8 aabbccdd | 7c 01 02"),
    hex("80 60 000b 000007a8 aabbccdd | 7c 03"),
  ]);
});

Deno.test("OpusPacketizer rescales frames of another clock to 48 kHz", () => {
  const p = new OpusPacketizer({ ...TRACK, clockRate: 1000 }, {
    timestampOffset: 0,
  });
  const out = collect<Uint8Array>();
  p.push(frame(20, [0x7c]), out); // 20 ms
  assert.equal(decodeRtpPacket(out.items[0]!).timestamp, 960);
});

Deno.test("OpusPacketizer rejects a packet larger than maxPacketSize", () => {
  const p = new OpusPacketizer(TRACK, { maxPacketSize: 100 });
  assert.throws(() => p.push(frame(0, new Uint8Array(89)), collect()), {
    name: "ProtocolError",
    code: "limit",
  });
});

Deno.test("OpusPacketizer → OpusDepacketizer round-trips random packets", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 1000 }), {
        minLength: 1,
        maxLength: 10,
      }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (packets, timestampOffset) => {
        for (const op of packets) op[0] = 0x7c; // Hybrid FB 20 ms, one frame
        const p = new OpusPacketizer(TRACK, { timestampOffset });
        const out = collect<Uint8Array>();
        packets.forEach((op, i) => p.push(frame(i * 960, op), out));
        const frames = depacketize(
          new OpusDepacketizer(),
          out.items.map((b) => decodeRtpPacket(b)),
        );
        assert.deepEqual(
          frames.map((f) => [f.dts - timestampOffset, [...f.units[0]!]]),
          packets.map((op, i) => [i * 960, [...op]]),
        );
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("OpusDepacketizer keeps the stage contract on random and mutated packets", () => {
  checkDepacketizer(
    () => new OpusDepacketizer(),
    loadCapture("opus_48k_stereo").datagrams,
    {
      // RFC 7587 §4.2: one Opus packet per RTP packet
      packetize: (frames) =>
        packetize(new OpusPacketizer(TRACK, { timestampOffset: 0 }), frames),
    },
  );
});
