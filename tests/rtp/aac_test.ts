import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AacDepacketizer,
  aacFmtp,
  AacPacketizer,
  aacRtpmap,
  parseAacFmtp,
} from "../../lib/rtp/aac.ts";
import { decodeRtpPacket, encodeRtpPacket } from "../../lib/rtp/packet.ts";
import type { AudioTrack, Frame } from "../../lib/media/mod.ts";
import { collect, hex } from "../_util/bytes.ts";
import { packetize, rtp } from "./_payload.ts";
import {
  bitFields,
  checkDepacketizer,
  depacketize,
  loadCapture,
  pkt,
  plain,
} from "./_audio_fixtures.ts";

const TRACK: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 44100,
  sampleRate: 44100,
  channels: 2,
  config: hex("12 10"),
};

function frame(dts: number, au: number[] | Uint8Array, trackId = 0): Frame {
  return {
    trackId,
    dts,
    pts: dts,
    keyframe: true,
    units: [Uint8Array.from(au)],
  };
}

// RFC 3640 §3.3.6 (AAC-hbr): AU-headers-length (16 bits, in bits), then per
// AU 13 bits AU-size and 3 bits AU-Index (first) or AU-Index-delta (others).
const HBR_CASES = [
  {
    name: "one AU",
    packets: [pkt(1, 1000, true, hex("0010 | 0018 | aa bb cc"))],
    frames: [frame(1000, [0xaa, 0xbb, 0xcc])],
  },
  {
    name: "three AUs in one packet, each 1024 samples later",
    packets: [
      pkt(1, 1000, true, hex("0030 | 0018 0010 0020 | aabbcc ddee 11223344")),
    ],
    frames: [
      frame(1000, [0xaa, 0xbb, 0xcc]),
      frame(2024, [0xdd, 0xee]),
      frame(3048, [0x11, 0x22, 0x33, 0x44]),
    ],
  },
  {
    name:
      "an AU-Index-delta of 1 (interleaving): the second AU is two frames later",
    packets: [pkt(1, 0, true, hex("0020 | 0008 0009 | 01 02"))],
    frames: [frame(0, [1]), frame(2048, [2])],
  },
  {
    name:
      "an AU fragmented over three packets (§3.2.3: AU-size of the whole AU)",
    packets: [
      pkt(7, 500, false, hex("0010 | 0038 | 01 02 03")),
      pkt(8, 500, false, hex("0010 | 0038 | 04 05")),
      pkt(9, 500, true, hex("0010 | 0038 | 06 07")),
    ],
    frames: [frame(500, [1, 2, 3, 4, 5, 6, 7])],
  },
  {
    name: "fragments across the 16-bit sequence wrap",
    packets: [
      pkt(0xffff, 500, false, hex("0010 | 0020 | 01 02")),
      pkt(0, 500, true, hex("0010 | 0020 | 03 04")),
    ],
    frames: [frame(500, [1, 2, 3, 4])],
  },
  {
    name: "timestamps across the 32-bit wrap keep counting up",
    packets: [
      pkt(1, 0xffff_fc00, true, hex("0010 | 0008 | 01")),
      pkt(2, 0, true, hex("0010 | 0008 | 02")),
    ],
    frames: [frame(0xffff_fc00, [1]), frame(0x1_0000_0000, [2])],
  },
  {
    name: "INTEROP.md camera: an AU wrapped in ADTS",
    // ADTS: FFF1 | LC, 48 kHz, 2 ch | aac_frame_length 10 | fullness 0x7FF, then 3 bytes
    packets: [
      pkt(1, 0, true, hex("0010 | 0050 | fff1 4c80 015f fc | 21 0a 0b")),
    ],
    frames: [frame(0, [0x21, 0x0a, 0x0b])],
  },
  {
    name: "INTEROP.md camera: bare ADTS frames with no AU headers at all",
    packets: [
      pkt(
        1,
        0,
        true,
        hex("fff1 4c80 015f fc | 21 0a 0b | fff1 4c80 013f fc | 21 0c"),
      ),
    ],
    frames: [frame(0, [0x21, 0x0a, 0x0b]), frame(1024, [0x21, 0x0c])],
  },
];

for (const c of HBR_CASES) {
  Deno.test(`AacDepacketizer reads ${c.name}`, () => {
    assert.deepEqual(
      plain(depacketize(new AacDepacketizer({ clockRate: 44100 }), c.packets)),
      plain(c.frames),
    );
  });
}

Deno.test("AacDepacketizer reads AAC-lbr (RFC 3640 §3.3.5: 6-bit sizes, 2-bit indices)", () => {
  const fmtp = parseAacFmtp({ mode: "AAC-lbr", config: "1210" });
  assert.equal(fmtp.sizeLength, 6);
  assert.equal(fmtp.indexLength, 2);
  assert.equal(fmtp.indexDeltaLength, 2);
  // AU-headers-length 16 | size 3, index 0 | size 2, delta 0
  const packets = [pkt(1, 0, true, hex("0010 | 0c 08 | aabbcc ddee"))];
  assert.deepEqual(
    plain(depacketize(new AacDepacketizer(fmtp), packets)),
    plain([frame(0, [0xaa, 0xbb, 0xcc]), frame(1024, [0xdd, 0xee])]),
  );
});

Deno.test("AacDepacketizer reads CTS-delta and DTS-delta (RFC 3640 §3.2.1.1)", () => {
  const options = {
    sizeLength: 13,
    indexLength: 3,
    indexDeltaLength: 3,
    ctsDeltaLength: 8,
    dtsDeltaLength: 8,
  };
  // first: size 1, index 0, CTS-flag 0, DTS-flag 1, DTS-delta 10; second: size 1, delta 0, CTS-flag 1, CTS-delta -5, DTS-flag 0
  const headers = bitFields(
    [1, 13],
    [0, 3],
    [0, 1],
    [1, 1],
    [10, 8],
    [1, 13],
    [0, 3],
    [1, 1],
    [0xfb, 8],
    [0, 1],
  );
  const length = 13 + 3 + 1 + 1 + 8 + 13 + 3 + 1 + 8 + 1;
  const payload = Uint8Array.from([
    length >> 8,
    length & 0xff,
    ...headers,
    0x01,
    0x02,
  ]);
  const frames = depacketize(new AacDepacketizer(options), [
    pkt(1, 100, true, payload),
  ]);
  assert.deepEqual(frames.map((f) => [f.dts, f.pts]), [[90, 100], [95, 95]]);
});

Deno.test("AacDepacketizer reads a generic stream without AU headers (all lengths 0)", () => {
  const fmtp = parseAacFmtp({ mode: "generic", config: "1210" });
  const frames = depacketize(new AacDepacketizer(fmtp), [
    pkt(1, 0, true, hex("01 02 03")),
  ]);
  assert.deepEqual(plain(frames), plain([frame(0, [1, 2, 3])]));
});

Deno.test("AacDepacketizer skips the Auxiliary Section (RFC 3640 §3.2.2)", () => {
  // auxiliary-data-size (8 bits) = 12 bits of data: 20 bits → 3 bytes
  const frames = depacketize(
    new AacDepacketizer({ auxiliaryDataSizeLength: 8 }),
    [
      pkt(1, 0, true, hex("0010 | 0010 | 0c ab c0 | 01 02")),
    ],
  );
  assert.deepEqual(plain(frames), plain([frame(0, [1, 2])]));
});

Deno.test("AacDepacketizer drops a fragmented AU with a sequence gap and counts it", () => {
  const d = new AacDepacketizer();
  const frames = depacketize(d, [
    pkt(1, 0, false, hex("0010 | 0020 | 01 02")),
    pkt(3, 0, true, hex("0010 | 0020 | 03 04")), // packet 2 was lost
    pkt(4, 1024, true, hex("0010 | 0008 | 05")),
  ]);
  assert.deepEqual(plain(frames), plain([frame(1024, [5])]));
  assert.equal(d.droppedFrames, 2); // the start, and the lone end that was short at the marker
});

Deno.test("AacDepacketizer drops a fragment cut short by a new timestamp", () => {
  const d = new AacDepacketizer();
  const frames = depacketize(d, [
    pkt(1, 0, false, hex("0010 | 0020 | 01 02")),
    pkt(2, 1024, true, hex("0010 | 0008 | 05")),
  ]);
  assert.deepEqual(plain(frames), plain([frame(1024, [5])]));
  assert.equal(d.droppedFrames, 1);
});

Deno.test("AacDepacketizer drops an unfinished fragment at end()", () => {
  const d = new AacDepacketizer();
  assert.deepEqual(
    depacketize(d, [pkt(1, 0, false, hex("0010 | 0020 | 01 02"))]),
    [],
  );
  assert.equal(d.droppedFrames, 1);
});

Deno.test("AacDepacketizer keeps copies of waiting fragments, not views of reused buffers", () => {
  const d = new AacDepacketizer();
  const out = collect<Frame>();
  const buf = hex("0010 | 0020 | 01 02");
  d.push(pkt(1, 0, false, buf), out);
  buf.fill(0xee); // the socket reuses its buffer
  d.push(pkt(2, 0, true, hex("0010 | 0020 | 03 04")), out);
  assert.deepEqual(plain(out.items), plain([frame(0, [1, 2, 3, 4])]));
});

const BAD = [
  { name: "a 1-byte payload", payload: "00", code: "truncated" },
  {
    name: "AU headers longer than the payload",
    payload: "0040 | 0008",
    code: "truncated",
  },
  { name: "AU-headers-length 0", payload: "0000 | 01", code: "malformed" },
  {
    name: "AU-headers-length cutting a header",
    payload: "000c | 0008 | 01",
    code: "malformed",
  },
  {
    name: "AUs longer than the data",
    payload: "0020 | 0010 0010 | 01 02 03",
    code: "truncated",
  },
];
for (const c of BAD) {
  Deno.test(`AacDepacketizer rejects ${c.name}`, () => {
    assert.throws(
      () =>
        depacketize(new AacDepacketizer(), [pkt(1, 0, true, hex(c.payload))]),
      {
        name: "ProtocolError",
        code: c.code,
      },
    );
  });
}

Deno.test("AacDepacketizer rejects an AU-size over maxFrameSize", () => {
  assert.throws(
    () =>
      depacketize(new AacDepacketizer({ maxFrameSize: 4 }), [
        pkt(1, 0, true, hex("0010 | 0028 | 0102030405")),
      ]),
    { name: "ProtocolError", code: "limit" },
  );
});

Deno.test("parseAacFmtp reads ffmpeg's fmtp and its config", () => {
  const fmtp = parseAacFmtp({
    "profile-level-id": "1",
    mode: "AAC-hbr",
    sizelength: "13",
    indexlength: "3",
    indexdeltalength: "3",
    config: "121056E500",
  });
  assert.equal(fmtp.sizeLength, 13);
  assert.equal(fmtp.sampleRate, 44100);
  assert.equal(fmtp.channels, 2);
  assert.equal(fmtp.frameLength, 1024);
  assert.deepEqual(fmtp.config, hex("12 10 56 e5 00"));
});

Deno.test("parseAacFmtp takes parameter names in any case", () => {
  const fmtp = parseAacFmtp({
    Mode: "AAC-hbr",
    SizeLength: "13",
    IndexLength: "3",
    IndexDeltaLength: "3",
    Config: "1190",
  });
  assert.equal(fmtp.sizeLength, 13);
  assert.equal(fmtp.sampleRate, 48000);
});

Deno.test("parseAacFmtp gives the output rate and AU duration of HE-AAC (explicit SBR)", () => {
  // 00101 | 0110 (24 kHz) | 0010 | 0011 (48 kHz) | 00010 | 000
  const fmtp = parseAacFmtp({ mode: "AAC-hbr", config: "2b118800" });
  assert.equal(fmtp.sampleRate, 48000);
  assert.equal(fmtp.coreSampleRate, 24000);
  const frames = depacketize(
    new AacDepacketizer({ ...fmtp, clockRate: 48000 }),
    [pkt(1, 0, true, hex("0020 | 0008 0008 | 01 02"))],
  );
  assert.deepEqual(frames.map((f) => f.dts), [0, 2048]);
});

Deno.test("parseAacFmtp rejects a config that is not hex", () => {
  assert.throws(() => parseAacFmtp({ mode: "AAC-hbr", config: "12x0" }), {
    name: "ProtocolError",
    protocol: "sdp",
  });
  assert.throws(() => parseAacFmtp({ mode: "AAC-hbr", sizelength: "-1" }), {
    name: "ProtocolError",
  });
});

Deno.test("aacFmtp and aacRtpmap describe what AacPacketizer sends", () => {
  assert.equal(
    aacFmtp(TRACK),
    "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210",
  );
  const { config: _, ...noConfig } = TRACK;
  assert.equal(
    aacFmtp({ ...noConfig, sampleRate: 48000, clockRate: 48000 }).endsWith(
      "config=1190",
    ),
    true,
  );
  assert.equal(aacRtpmap(TRACK), "MPEG4-GENERIC/44100/2");
});

Deno.test("AacPacketizer writes one AU per packet with the AAC-hbr header", () => {
  const p = new AacPacketizer(TRACK, {
    ssrc: 0x01020304,
    sequenceNumber: 0xffff,
    timestampOffset: 0xffff_ff00,
  });
  const out = collect<Uint8Array>();
  p.push(frame(0, [0xaa, 0xbb, 0xcc]), out);
  p.push(frame(1024, [0xdd]), out);
  // RFC 3550 header: V=2, M=1, PT=96, seq, ts, ssrc | AU-headers-length 16 | size 3, index 0
  assert.deepEqual(out.items, [
    hex("80 e0 ffff ffffff00 01020304 | 0010 | 0018 | aabbcc"),
    hex("80 e0 0000 00000300 01020304 | 0010 | 0008 | dd"),
  ]);
  assert.equal(p.sequenceNumber, 1);
  assert.equal(p.packetCount, 2);
  assert.equal(p.octetCount, 4 + 3 + 4 + 1);
  assert.equal(p.lastTimestamp, 0x300);
});

Deno.test("AacPacketizer fragments an AU larger than maxPacketSize", () => {
  const p = new AacPacketizer(TRACK, {
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
    maxPacketSize: 20,
  });
  const out = collect<Uint8Array>();
  p.push(frame(0, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), out);
  // 20 - 12 header - 4 AU header section = 4 bytes of AU per packet; marker on the last
  assert.deepEqual(out.items, [
    hex("80 60 0000 00000000 00000001 | 0010 | 0050 | 01020304"),
    hex("80 60 0001 00000000 00000001 | 0010 | 0050 | 05060708"),
    hex("80 e0 0002 00000000 00000001 | 0010 | 0050 | 090a"),
  ]);
});

Deno.test("AacPacketizer rejects an AU over 8191 bytes", () => {
  const p = new AacPacketizer(TRACK);
  assert.throws(() => p.push(frame(0, new Uint8Array(8192)), collect()), {
    name: "ProtocolError",
    code: "limit",
  });
});

Deno.test("AacDepacketizer reads ffmpeg's AAC-hbr with several AUs per packet", () => {
  const cap = loadCapture("aac_hbr_44k_stereo");
  assert.equal(cap.rtpmap, "MPEG4-GENERIC/44100/2");
  const fmtp = parseAacFmtp(cap.fmtp);
  const frames = depacketize(
    new AacDepacketizer({ ...fmtp, clockRate: 44100, trackId: 3 }),
    cap.rtp,
  );
  assert.equal(frames.length, 42); // 8 + 6 + 7 + 7 + 7 + 7 AU headers
  assert.equal(frames[0]!.dts, cap.rtp[0]!.timestamp);
  frames.forEach((f, i) => {
    assert.equal(f.dts - frames[0]!.dts, i * 1024);
    assert.equal(f.trackId, 3);
  });
  assert.deepEqual([...frames[0]!.units[0]!.subarray(0, 7)], [
    0xde,
    0x02,
    0x00,
    0x4c,
    0x61,
    0x76,
    0x63,
  ]); // "Lavc" fill
});

Deno.test("AacDepacketizer joins ffmpeg's fragmented AUs", () => {
  const cap = loadCapture("aac_hbr_fragmented");
  const d = new AacDepacketizer({
    ...parseAacFmtp(cap.fmtp),
    clockRate: 48000,
  });
  const frames = depacketize(d, cap.rtp);
  const ends = cap.rtp.filter((p) => p.marker);
  assert.equal(frames.length, ends.length);
  frames.forEach((f, i) => {
    const size = (ends[i]!.payload[2]! << 5) | (ends[i]!.payload[3]! >> 3);
    assert.equal(f.units[0]!.length, size);
    assert.equal(f.dts, ends[i]!.timestamp);
  });
  assert.equal(d.droppedFrames, 0);
});

Deno.test("AacPacketizer → AacDepacketizer returns ffmpeg's AUs", () => {
  const cap = loadCapture("aac_hbr_fragmented");
  const frames = depacketize(
    new AacDepacketizer({ ...parseAacFmtp(cap.fmtp), clockRate: 48000 }),
    cap.rtp,
  );
  const track = { ...TRACK, clockRate: 48000, sampleRate: 48000 };
  const p = new AacPacketizer(track, { maxPacketSize: 200 });
  const out = collect<Uint8Array>();
  for (const f of frames) {
    p.push(
      { ...f, dts: f.dts - frames[0]!.dts, pts: f.pts - frames[0]!.pts },
      out,
    );
  }
  const again = depacketize(
    new AacDepacketizer({ clockRate: 48000 }),
    out.items.map((b) => decodeRtpPacket(b)),
  );
  assert.deepEqual(
    again.map((f) => [f.dts - again[0]!.dts, [...f.units[0]!]]),
    frames.map((f) => [f.dts - frames[0]!.dts, [...f.units[0]!]]),
  );
});

Deno.test("AacPacketizer → AacDepacketizer round-trips random AUs at random packet sizes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.integer({ min: 24, max: 1500 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (aus, maxPacketSize, timestampOffset) => {
        for (const au of aus) au[0] = 0x21; // a raw AU never starts with an ADTS syncword here
        const p = new AacPacketizer(TRACK, { maxPacketSize, timestampOffset });
        const out = collect<Uint8Array>();
        aus.forEach((au, i) => p.push(frame(i * 1024, au), out));
        for (const b of out.items) assert.ok(b.length <= maxPacketSize);
        const d = new AacDepacketizer({ clockRate: 44100 });
        const frames = depacketize(d, out.items.map((b) => decodeRtpPacket(b)));
        assert.deepEqual(
          frames.map((f) => [f.dts - timestampOffset, [...f.units[0]!]]),
          aus.map((au, i) => [i * 1024, [...au]]),
        );
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("AacDepacketizer keeps the stage contract on random and mutated packets", () => {
  const fixtures = [
    ...loadCapture("aac_hbr_44k_stereo").datagrams,
    ...loadCapture("aac_hbr_fragmented").datagrams.slice(0, 10),
  ];
  checkDepacketizer(() => new AacDepacketizer({ clockRate: 44100 }), fixtures, {
    // RFC 3640 §3.2.3: AUs may share a packet or be fragmented; AacPacketizer
    // sends one per packet, so the AUs come back, not the packets
    packetize: (frames) =>
      packetize(new AacPacketizer(TRACK, { timestampOffset: 0 }), frames),
  });
  // §3.3.5 AAC-lbr: AU-headers-length 16 | size 3, index 0 | size 2, delta 0
  checkDepacketizer(
    () => new AacDepacketizer(parseAacFmtp({ mode: "AAC-lbr" })),
    [encodeRtpPacket(rtp(1, 0, true, "0010 | 0c 08 | aabbcc ddee"))],
    { runs: 100 },
  );
  // §3.2.1: size 2 (13 bits), index 0 (3), CTS-flag 0, DTS-flag 0, RAP-flag 1,
  // stream-state 0 (2) = 21 bits; §3.2.2: auxiliary-data-size 0 (4 bits)
  const exotic = Uint8Array.from([
    0x00,
    21,
    ...bitFields([2, 13], [0, 3], [0, 1], [0, 1], [1, 1], [0, 2]),
    ...bitFields([0, 4]),
    0x01,
    0x02,
  ]);
  checkDepacketizer(
    () =>
      new AacDepacketizer({
        ctsDeltaLength: 7,
        dtsDeltaLength: 5,
        randomAccessIndication: true,
        streamStateIndication: 2,
        auxiliaryDataSizeLength: 4,
      }),
    [encodeRtpPacket(rtp(1, 0, true, exotic))],
    { runs: 100 },
  );
});
