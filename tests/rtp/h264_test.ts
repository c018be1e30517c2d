import assert from "node:assert/strict";
import fc from "fast-check";
import type { Frame, ParameterSets } from "../../lib/media/mod.ts";
import { decodeRtpPacket, encodeRtpPacket } from "../../lib/rtp/packet.ts";
import { ReorderBuffer } from "../../lib/rtp/reorder.ts";
import {
  H264Depacketizer,
  H264DepacketizerStream,
  H264Packetizer,
  H264PacketizerStream,
  parseSpropParameterSets,
} from "../../lib/rtp/h264.ts";
import { collect, hex } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { readCapture, readFramecrc } from "./_capture.ts";
import {
  depacketize,
  fuzzDepacketizer,
  interleaved,
  overInterleaved,
  packetize,
  rtp,
  unitsOf,
} from "./_payload.ts";

const SPS = "67 42 c0 1e 8c 8d 40";
const PPS = "68 ce 3c 80";

// RFC 6184 §5.6: a single NAL unit packet is the NAL unit
Deno.test("H264Depacketizer joins single NAL unit packets up to the marker bit", () => {
  const d = new H264Depacketizer({ trackId: 3 });
  const frames = depacketize(d, [
    rtp(1, 90000, false, SPS),
    rtp(2, 90000, false, PPS),
    rtp(3, 90000, true, "65 88 84 21"),
  ]);
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], {
    trackId: 3,
    dts: 90000,
    pts: 90000,
    keyframe: true,
    units: [hex(SPS), hex(PPS), hex("65 88 84 21")],
  });
});

// §5.7.1 STAP-A: F|NRI|24, then { 16-bit size | NAL unit }*
// §5.8 FU-A: FU indicator F|NRI|28, FU header S|E|R|type, then a piece of the NAL unit without its header
Deno.test("H264Depacketizer reads STAP-A and FU-A start, middle and end", () => {
  const frames = depacketize(new H264Depacketizer(), [
    rtp(10, 0, false, `78 | 0007 ${SPS} | 0004 ${PPS}`),
    rtp(11, 0, false, "7c | 85 | 88 84"),
    rtp(12, 0, false, "7c | 05 | 21 22"),
    rtp(13, 0, true, "7c | 45 | 23"),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[...hex(SPS)], [...hex(PPS)], [
    0x65,
    0x88,
    0x84,
    0x21,
    0x22,
    0x23,
  ]]]);
});

Deno.test("H264Depacketizer cuts access units at timestamp changes when the marker bit never comes", () => {
  const frames = depacketize(new H264Depacketizer(), [
    rtp(1, 0, false, "65 01"),
    rtp(2, 0, false, "65 02"),
    rtp(3, 3000, false, "41 03"),
    rtp(4, 6000, false, "41 04"),
  ]);
  assert.deepEqual(frames.map((f) => [f.pts, f.keyframe, f.units.length]), [
    [0, true, 2],
    [3000, false, 1],
    [6000, false, 1],
  ]);
});

Deno.test("H264Depacketizer unwraps RTP timestamps past 2^32", () => {
  const frames = depacketize(new H264Depacketizer(), [
    rtp(1, 0xffffff00, true, "65 01"),
    rtp(2, 0x100, true, "41 02"),
  ]);
  assert.deepEqual(frames.map((f) => f.pts), [0xffffff00, 0x100000100]);
});

Deno.test("H264Depacketizer drops a frame with a lost fragment and waits for the next IDR", () => {
  const d = new H264Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, true, "65 01"),
    rtp(2, 3000, false, "7c 81 aa"), // FU-A start of a non-IDR slice
    rtp(4, 3000, true, "7c 41 cc"), // 3 (the middle) is lost
    rtp(5, 6000, true, "41 02"), // complete, but its reference is gone
    rtp(6, 9000, true, "65 03"),
  ]);
  assert.deepEqual(frames.map((f) => f.pts), [0, 9000]);
  assert.equal(d.lostPackets, 1);
  assert.equal(d.droppedFrames, 2);
});

Deno.test("H264Depacketizer drops a frame whose FU-A start is missing without a sequence gap", () => {
  const d = new H264Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, false, "7c 05 aa"),
    rtp(2, 0, true, "7c 45 bb"),
    rtp(3, 3000, true, "65 01"),
  ]);
  assert.deepEqual(frames.map((f) => f.pts), [3000]);
  assert.equal(d.droppedFrames, 1);
});

Deno.test("H264Depacketizer ignores duplicate and late packets", () => {
  const d = new H264Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, false, "65 01"),
    rtp(1, 0, false, "65 01"),
    rtp(2, 0, true, "65 02"),
    rtp(1, 0, true, "65 01"),
    rtp(3, 3000, true, "41 03"),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[0x65, 1], [0x65, 2]], [[0x41, 3]]]);
  assert.equal(d.skippedPackets, 2);
  assert.equal(d.lostPackets, 0);
});

Deno.test("H264Depacketizer.markLoss drops the access unit in progress", () => {
  const d = new H264Depacketizer();
  const out = collect<Frame>();
  d.push(rtp(1, 0, false, "65 01"), out);
  d.markLoss();
  d.push(rtp(2, 0, true, "65 02"), out);
  d.push(rtp(3, 3000, true, "65 03"), out);
  assert.deepEqual(out.items.map((f) => f.pts), [3000]);
});

Deno.test("H264Depacketizer drops frames before the first IDR unless told not to wait", () => {
  const packets = [rtp(1, 0, true, "41 01"), rtp(2, 3000, true, "65 02")];
  const waiting = new H264Depacketizer();
  assert.deepEqual(depacketize(waiting, packets).map((f) => f.pts), [3000]);
  assert.equal(waiting.droppedFrames, 1);
  assert.deepEqual(
    depacketize(new H264Depacketizer({ waitForKeyframe: false }), packets).map((
      f,
    ) => f.pts),
    [0, 3000],
  );
});

Deno.test("H264Depacketizer reports in-band SPS/PPS once per change and puts them before IDRs that lack them", () => {
  const seen: ParameterSets[] = [];
  const d = new H264Depacketizer({ onParameterSets: (s) => seen.push(s) });
  const frames = depacketize(d, [
    rtp(1, 0, false, `78 | 0007 ${SPS} | 0004 ${PPS}`),
    rtp(2, 0, true, "65 01"),
    rtp(3, 3000, true, "65 02"), // an IDR without SPS/PPS
    rtp(4, 6000, false, `78 | 0007 ${SPS} | 0004 ${PPS}`), // the same sets again
    rtp(5, 6000, true, "65 03"),
    rtp(6, 9000, false, `78 | 0007 ${SPS} | 0004 68ce3c81`), // a new PPS
    rtp(7, 9000, true, "65 04"),
  ]);
  assert.deepEqual(frames.map((f) => f.units.length), [3, 3, 3, 3]);
  assert.deepEqual(frames[1]!.units, [hex(SPS), hex(PPS), hex("65 02")]);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[1]!.pps, [hex("68ce3c81")]);
  assert.deepEqual(d.parameterSets, {
    sps: [hex(SPS)],
    pps: [hex("68ce3c81")],
  });
});

Deno.test("H264Depacketizer keeps SPS/PPS sent as an access unit of their own for the next IDR", () => {
  // a camera that sets the marker bit on its SPS/PPS packet
  const frames = depacketize(new H264Depacketizer(), [
    rtp(1, 0, true, `78 | 0007 ${SPS} | 0004 ${PPS}`),
    rtp(2, 3000, true, "65 01"),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[...hex(SPS)], [...hex(PPS)], [
    0x65,
    1,
  ]]]);
});

Deno.test("H264Depacketizer puts sprop parameter sets before the first IDR", () => {
  const parameterSets = parseSpropParameterSets("Z0LAHoyNQA==,aM48gA==");
  const frames = depacketize(new H264Depacketizer({ parameterSets }), [
    rtp(1, 0, false, "09 f0"),
    rtp(2, 0, true, "65 01"),
  ]);
  // after the access unit delimiter, before the slice
  assert.deepEqual(frames[0]!.units, [
    hex("09 f0"),
    hex(SPS),
    hex(PPS),
    hex("65 01"),
  ]);
});

Deno.test("Hikvision-style camera: Annex-B start codes inside a single NAL unit packet are split", () => {
  const frames = depacketize(new H264Depacketizer(), [
    rtp(1, 0, true, `${SPS} 00000001 ${PPS} 000001 65 88 84`),
    rtp(2, 3000, true, "00000001 41 9a 02"),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[...hex(SPS)], [...hex(PPS)], [
    0x65,
    0x88,
    0x84,
  ]], [[0x41, 0x9a, 0x02]]]);
});

Deno.test("H264Depacketizer refuses the interleaved-mode types and skips reserved ones", () => {
  for (const type of ["19", "1a", "1b", "1d"]) { // STAP-B, MTAP16, MTAP24, FU-B
    assert.throws(
      () =>
        depacketize(new H264Depacketizer(), [rtp(1, 0, true, `${type} 00 00`)]),
      {
        name: "ProtocolError",
        protocol: "rtp",
        code: "unsupported",
      },
    );
  }
  const d = new H264Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, false, "00 01"),
    rtp(2, 0, false, "1e 01"),
    rtp(3, 0, true, "1f 01"),
  ]);
  assert.deepEqual(frames, []);
  assert.equal(d.skippedPackets, 3);
});

const MALFORMED = [
  { name: "an empty payload", payload: "", code: "malformed" },
  { name: "a STAP-A without units", payload: "78", code: "malformed" },
  {
    name: "a STAP-A unit size past the end",
    payload: "78 0005 6742",
    code: "truncated",
  },
  { name: "a STAP-A unit of size 0", payload: "78 0000", code: "truncated" },
  {
    name: "a STAP-A with a dangling size byte",
    payload: "78 0002 6742 00",
    code: "truncated",
  },
  { name: "an FU-A without its FU header", payload: "7c", code: "malformed" },
] as const;

for (const m of MALFORMED) {
  Deno.test(`H264Depacketizer rejects ${m.name}`, () => {
    assert.throws(
      () => depacketize(new H264Depacketizer(), [rtp(1, 0, true, m.payload)]),
      {
        name: "ProtocolError",
        code: m.code,
      },
    );
  });
}

/** One access unit: an IDR slice of `size` bytes in FU-A packets of 1400 bytes. */
function bigIdr(size: number): Uint8Array[] {
  const nal = new Uint8Array(size).fill(0x5a);
  nal[0] = 0x65;
  return packetize(
    new H264Packetizer({ sequenceNumber: 0, timestampOffset: 0 }),
    [
      { trackId: 0, dts: 0, pts: 0, keyframe: true, units: [nal] },
    ],
  );
}

Deno.test("H264Depacketizer assembles a 2 MB keyframe (28 MP camera) whole", () => {
  const frames = depacketize(
    new H264Depacketizer(),
    bigIdr(2_000_000).map(decodeRtpPacket),
  );
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.units[0]!.length, 2_000_000);
});

Deno.test("H264Depacketizer rejects an access unit over maxFrameSize", () => {
  assert.throws(
    () =>
      depacketize(
        new H264Depacketizer({ maxFrameSize: 100_000 }),
        bigIdr(200_000).map(decodeRtpPacket),
      ),
    {
      name: "ProtocolError",
      code: "limit",
    },
  );
  const many = Array.from({ length: 5 }, (_, i) => rtp(i, 0, i === 4, "41 01"));
  assert.throws(
    () => depacketize(new H264Depacketizer({ maxUnits: 4 }), many),
    { name: "ProtocolError", code: "limit" },
  );
});

Deno.test("parseSpropParameterSets reads ffmpeg's sprop-parameter-sets, with or without start codes", () => {
  // ffmpeg -c:v libx264 -flags +global_header -f rtp (tests/testdata/rtp/README.md)
  const sets = parseSpropParameterSets(
    "Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA=",
  );
  assert.equal(sets.sps.length, 1);
  assert.deepEqual(sets.pps, [hex("68 ef 82 5c b0")]);
  // a camera that base64-encodes "00 00 00 01 SPS 00 00 00 01 PPS" as one value
  const annexB = btoa(
    String.fromCharCode(0, 0, 0, 1, ...hex(SPS), 0, 0, 0, 1, ...hex(PPS)),
  );
  assert.deepEqual(parseSpropParameterSets(annexB), {
    sps: [hex(SPS)],
    pps: [hex(PPS)],
  });
  assert.throws(() => parseSpropParameterSets("Z0L!!"), {
    name: "ProtocolError",
    code: "malformed",
  });
});

// RFC 6184 §5.6, §5.7.1, §5.8 from the sending side
Deno.test("H264Packetizer sends a NAL unit that fits as a single NAL unit packet with the marker bit", () => {
  const p = new H264Packetizer({
    ssrc: 0x11223344,
    sequenceNumber: 7,
    timestampOffset: 0,
    payloadType: 97,
  });
  const packets = packetize(p, [{
    trackId: 0,
    dts: 3000,
    pts: 3000,
    keyframe: false,
    units: [hex("41 9a 02")],
  }]);
  assert.deepEqual(packets, [
    hex("80 e1 0007 | 00000bb8 | 11223344 | 41 9a 02"),
  ]);
  assert.equal(p.sequenceNumber, 8);
  assert.equal(p.packetCount, 1);
  assert.equal(p.octetCount, 3);
  assert.equal(p.lastTimestamp, 3000);
});

Deno.test("H264Packetizer aggregates SPS and PPS into a STAP-A and fragments a big IDR into FU-A", () => {
  const p = new H264Packetizer({
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
    maxPacketSize: 12 + 10,
  });
  const idr = hex("65 01 02 03 04 05 06 07 08 09 0a 0b 0c");
  const packets = packetize(p, [{
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [hex("67 42 00"), hex("68 ce"), idr],
  }]);
  const payloads = packets.map((w) => [...decodeRtpPacket(w).payload]);
  assert.deepEqual(payloads, [
    [...hex("78 | 0003 674200 | 0002 68ce")], // NRI 3 from the SPS
    [...hex("7c | 85 | 01 02 03 04 05 06 07 08")],
    [...hex("7c | 45 | 09 0a 0b 0c")],
  ]);
  assert.deepEqual(packets.map((w) => decodeRtpPacket(w).marker), [
    false,
    false,
    true,
  ]);
  assert.ok(packets.every((w) => w.length <= 22));
});

Deno.test("H264Packetizer continues sequence numbers across frames and wraps them", () => {
  const p = new H264Packetizer({
    sequenceNumber: 65535,
    timestampOffset: 0xffffff00,
    clockRate: 1000,
  });
  const frames: Frame[] = [0, 40].map((pts) => ({
    trackId: 0,
    dts: pts,
    pts,
    keyframe: false,
    units: [hex("41 01")],
  }));
  const packets = packetize(p, frames).map(decodeRtpPacket);
  assert.deepEqual(packets.map((x) => x.sequenceNumber), [65535, 0]);
  assert.deepEqual(packets.map((x) => x.timestamp), [
    0xffffff00,
    (0xffffff00 + 3600) >>> 0,
  ]); // 40 ms at 90 kHz
});

Deno.test("H264Packetizer puts known parameter sets before keyframes that lack them (RTMP sources)", () => {
  const p = new H264Packetizer({
    parameterSets: { sps: [hex(SPS)], pps: [hex(PPS)] },
    aggregate: false,
  });
  const packets = packetize(p, [
    { trackId: 0, dts: 0, pts: 0, keyframe: true, units: [hex("65 01")] },
    { trackId: 0, dts: 0, pts: 3000, keyframe: false, units: [hex("41 02")] },
  ]);
  assert.deepEqual(packets.map((w) => [...decodeRtpPacket(w).payload]), [
    [...hex(SPS)],
    [...hex(PPS)],
    [0x65, 1],
    [0x41, 2],
  ]);
});

Deno.test("H264Packetizer rejects a maxPacketSize without room for an FU-A", () => {
  assert.throws(() => new H264Packetizer({ maxPacketSize: 15 }), RangeError);
  assert.throws(() => new H264Packetizer({ maxPacketSize: 70000 }), RangeError);
  assert.throws(() => new H264Packetizer({ payloadType: 128 }), RangeError);
});

/** NAL units without zero bytes (so no start code can appear), first byte a given type. */
function nalArb(types: number[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(
    fc.constantFrom(...types),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 4000 }),
    fc.nat(),
  )
    .map(([type, nri, size, seed]) => {
      const nal = new Uint8Array(1 + size);
      nal[0] = (nri << 5) | type;
      for (let i = 1; i < nal.length; i++) nal[i] = 1 + ((seed + i * 7) % 255);
      return nal;
    });
}

Deno.test("H264Packetizer → H264Depacketizer returns the frames for any NAL sizes and packet sizes (property)", () => {
  const frameArb = fc.tuple(
    nalArb([1, 5]),
    fc.array(nalArb([1, 6, 9, 12]), { maxLength: 5 }),
    fc.boolean(),
  );
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 16, max: 1500 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff }),
      (specs, maxPacketSize, aggregate, sequenceNumber) => {
        const frames: Frame[] = specs.map(([first, rest, atEnd], i) => {
          const units = atEnd ? [...rest, first] : [first, ...rest];
          const keyframe = units.some((u) => (u[0]! & 0x1f) === 5);
          return { trackId: 0, dts: i * 3000, pts: i * 3000, keyframe, units };
        });
        const packetizer = new H264Packetizer({
          maxPacketSize,
          aggregate,
          sequenceNumber,
          timestampOffset: 0,
        });
        const wires = packetize(packetizer, frames);
        assert.ok(wires.every((w) => w.length <= maxPacketSize));
        const got = depacketize(
          new H264Depacketizer({ waitForKeyframe: false }),
          wires.map(decodeRtpPacket),
        );
        assert.deepEqual(
          got.map((f) => [f.pts, f.keyframe, unitsOf(f)]),
          frames.map((f) => [f.pts, f.keyframe, unitsOf(f)]),
        );
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("H264Depacketizer gives frames or ProtocolErrors for mutated real packets (fuzz)", () => {
  fuzzDepacketizer(
    () => new H264Depacketizer(),
    readCapture("h264_bf2.rtp").slice(0, 24),
  );
});

Deno.test("H264Depacketizer keeps the stage contract over interleaved RTP, H264Packetizer re-encoding what it reads", () => {
  const bf0 = readCapture("h264_bf0.rtp");
  checkStageContract(
    () => overInterleaved(new H264Depacketizer({ waitForKeyframe: false })),
    {
      fixtures: [
        {
          // RFC 6184 §5.7.1 STAP-A, §5.8 FU-A start, middle and end
          name: "STAP-A with SPS and PPS, then an IDR slice in three FU-As",
          bytes: interleaved([
            rtp(10, 0, false, `78 | 0007 ${SPS} | 0004 ${PPS}`),
            rtp(11, 0, false, "7c | 85 | 88 84"),
            rtp(12, 0, false, "7c | 05 | 21 22"),
            rtp(13, 0, true, "7c | 45 | 23"),
          ].map(encodeRtpPacket)),
          expect: [{
            trackId: 0,
            dts: 0,
            pts: 0,
            keyframe: true,
            units: [hex(SPS), hex(PPS), hex("65 88 84 21 22 23")],
          }],
        },
        // tests/testdata/rtp/README.md: the first two frames (5 packets), and all 50
        {
          name: "ffmpeg -bf 0: the first two frames",
          bytes: interleaved(bf0.slice(0, 5)),
        },
        { name: "ffmpeg -bf 0: whole capture", bytes: interleaved(bf0) },
      ],
      check: (frames) =>
        assert.ok(frames.every((f) => f.units.every((u) => u.length > 0))),
      // Packet boundaries are the sender's choice (§5.7, §5.8): frames come
      // back, bytes do not.
      encode: (frames) =>
        interleaved(packetize(
          new H264Packetizer({
            sequenceNumber: 0,
            timestampOffset: 0,
            maxPacketSize: 300,
          }),
          frames,
        )),
      roundTrip: "items",
    },
  );
});

// tests/testdata/rtp/README.md: ffmpeg libx264 -bf 2 -g 25, 320x240, 50 frames, 600-byte packets
const CAPTURE = readCapture("h264_bf2.rtp");

Deno.test("ffmpeg capture: H264Depacketizer gives ffmpeg's 50 frames, keyframes with SPS/PPS", () => {
  const d = new H264Depacketizer();
  const frames = depacketize(d, CAPTURE.map(decodeRtpPacket));
  const ref = readFramecrc("h264_bf2.framecrc");
  assert.equal(frames.length, ref.lines.length);
  const t0 = frames[0]!.pts;
  frames.forEach((f, i) => {
    const line = ref.lines[i]!;
    assert.equal((f.pts - t0) / (90000 / ref.rate), line.pts);
    // Annex-B sizes: each unit with a 3- or 4-byte start code
    const bytes = f.units.reduce((n, u) => n + u.length, 0);
    assert.ok(
      line.size >= bytes + 3 * f.units.length &&
        line.size <= bytes + 4 * f.units.length,
      `frame ${i}`,
    );
  });
  assert.deepEqual(frames.flatMap((f, i) => f.keyframe ? [i] : []), [0, 25]);
  assert.ok(
    frames.filter((f) => f.keyframe).every((f) =>
      (f.units[0]![0]! & 0x1f) === 7 || (f.units[1]![0]! & 0x1f) === 7
    ),
  );
  assert.equal(d.parameterSets?.sps.length, 1);
  assert.equal(d.droppedFrames + d.lostPackets + d.skippedPackets, 0);
  // the same encoder settings with a global header give the same sets in the SDP
  assert.deepEqual(
    d.parameterSets,
    parseSpropParameterSets("Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA="),
  );
});

Deno.test("ffmpeg capture: depacketize → packetize → depacketize keeps every frame", () => {
  const frames = depacketize(
    new H264Depacketizer(),
    CAPTURE.map(decodeRtpPacket),
  );
  const wires = packetize(new H264Packetizer({ maxPacketSize: 300 }), frames);
  const again = depacketize(new H264Depacketizer(), wires.map(decodeRtpPacket));
  const rel = (fs: Frame[]) =>
    fs.map((f) => [f.pts - fs[0]!.pts, f.keyframe, unitsOf(f)]);
  assert.deepEqual(rel(again), rel(frames));
});

Deno.test("ffmpeg capture: one lost packet drops frames up to the next keyframe, nothing else", () => {
  const all = depacketize(new H264Depacketizer(), CAPTURE.map(decodeRtpPacket));
  const d = new H264Depacketizer();
  const frames = depacketize(
    d,
    CAPTURE.filter((_, i) => i !== 30).map(decodeRtpPacket),
  );
  const kept = all.filter((f) => frames.some((g) => g.pts === f.pts));
  assert.deepEqual(frames, kept);
  assert.equal(frames.filter((f) => f.pts >= all[25]!.pts).length, 25); // the second GOP is whole
  assert.equal(d.droppedFrames, 50 - frames.length);
  assert.equal(d.lostPackets, 1);
});

Deno.test("ffmpeg capture: swapped UDP packets through a ReorderBuffer give every frame", () => {
  const swapped = CAPTURE.map(decodeRtpPacket);
  for (let i = 1; i + 1 < swapped.length; i += 3) {
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
  }
  const reorder = new ReorderBuffer();
  const ordered = collect<ReturnType<typeof decodeRtpPacket>>();
  for (const p of swapped) reorder.push(p, ordered);
  reorder.end(ordered);
  const frames = depacketize(new H264Depacketizer(), ordered.items);
  assert.equal(frames.length, 50);
  assert.equal(reorder.lost, 0);
});

Deno.test("H264DepacketizerStream and H264PacketizerStream run as TransformStreams", async () => {
  const frames: Frame[] = [];
  await ReadableStream.from([{
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [hex("65 01 02")],
  }])
    .pipeThrough(new H264PacketizerStream({ maxPacketSize: 16 }))
    .pipeThrough(
      new TransformStream({
        transform: (w, c) => c.enqueue(decodeRtpPacket(w)),
      }),
    )
    .pipeThrough(new H264DepacketizerStream())
    .pipeTo(new WritableStream({ write: (f) => void frames.push(f) }));
  assert.deepEqual(frames.map(unitsOf), [[[0x65, 1, 2]]]);
});
