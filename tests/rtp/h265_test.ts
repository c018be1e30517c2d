import assert from "node:assert/strict";
import fc from "fast-check";
import type { Frame } from "../../lib/media/mod.ts";
import { decodeRtpPacket, encodeRtpPacket } from "../../lib/rtp/packet.ts";
import {
  H265Depacketizer,
  H265Packetizer,
  parseSpropH265,
} from "../../lib/rtp/h265.ts";
import { hex } from "../_util/bytes.ts";
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

// H.265 §7.3.1.2 NAL unit header: F | type (6) | LayerId (6) | TID+1 (3)
const VPS = "40 01 0c";
const SPS = "42 01 01";
const PPS = "44 01 c1";
const IDR = "26 01 af"; // IDR_W_RADL (19)

// RFC 7798 §4.4.1: a single NAL unit packet is the NAL unit
Deno.test("H265Depacketizer joins single NAL unit packets up to the marker bit", () => {
  const frames = depacketize(new H265Depacketizer({ trackId: 1 }), [
    rtp(1, 3000, false, VPS),
    rtp(2, 3000, false, SPS),
    rtp(3, 3000, false, PPS),
    rtp(4, 3000, true, IDR),
  ]);
  assert.deepEqual(frames, [{
    trackId: 1,
    dts: 3000,
    pts: 3000,
    keyframe: true,
    units: [hex(VPS), hex(SPS), hex(PPS), hex(IDR)],
  }]);
});

// §4.4.2 AP: payload header with type 48, then { 16-bit size | NAL unit }* (no DONL)
// §4.4.3 FU: payload header with type 49, FU header S|E|FuType, then a piece of the NAL unit without its header
Deno.test("H265Depacketizer reads an AP and FU start, middle and end", () => {
  const d = new H265Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, false, `60 01 | 0003 ${VPS} | 0003 ${SPS} | 0003 ${PPS}`),
    rtp(2, 0, false, "62 01 | 93 | af 01"),
    rtp(3, 0, false, "62 01 | 13 | 02"),
    rtp(4, 0, true, "62 01 | 53 | 03"),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[...hex(VPS)], [...hex(SPS)], [
    ...hex(PPS),
  ], [0x26, 0x01, 0xaf, 0x01, 0x02, 0x03]]]);
  assert.deepEqual(d.parameterSets, {
    vps: [hex(VPS)],
    sps: [hex(SPS)],
    pps: [hex(PPS)],
  });
});

Deno.test("H265Depacketizer takes a CRA as a keyframe and waits for an IRAP after loss", () => {
  const d = new H265Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, true, "2a 01 aa"), // CRA_NUT (21)
    rtp(2, 3000, true, "02 01 bb"), // TRAIL_R
    rtp(4, 6000, true, "02 01 cc"), // after a gap
    rtp(5, 9000, true, "20 01 dd"), // BLA_W_LP (16)
  ]);
  assert.deepEqual(frames.map((f) => [f.pts, f.keyframe]), [[0, true], [
    3000,
    false,
  ], [9000, true]]);
  assert.equal(d.droppedFrames, 1);
});

Deno.test("H265Depacketizer skips PACI packets and the unspecified types", () => {
  const d = new H265Depacketizer();
  const frames = depacketize(d, [
    rtp(1, 0, false, "64 01 00 00 26 01"),
    rtp(2, 0, false, "7e 01 00"),
    rtp(3, 0, true, IDR),
  ]);
  assert.deepEqual(frames.map(unitsOf), [[[...hex(IDR)]]]);
  assert.equal(d.skippedPackets, 2);
});

Deno.test("H265Depacketizer refuses decoding order numbers (sprop-max-don-diff > 0)", () => {
  assert.throws(() => new H265Depacketizer({ spropMaxDonDiff: 2 }), {
    name: "ProtocolError",
    protocol: "rtp",
    code: "unsupported",
  });
});

const MALFORMED = [
  { name: "a one-byte payload", payload: "26", code: "malformed" },
  { name: "an AP without units", payload: "60 01", code: "malformed" },
  {
    name: "an AP unit size past the end",
    payload: "60 01 0009 4001",
    code: "truncated",
  },
  { name: "an FU without its FU header", payload: "62 01", code: "malformed" },
] as const;

for (const m of MALFORMED) {
  Deno.test(`H265Depacketizer rejects ${m.name}`, () => {
    assert.throws(
      () => depacketize(new H265Depacketizer(), [rtp(1, 0, true, m.payload)]),
      { name: "ProtocolError", code: m.code },
    );
  });
}

// ffmpeg -c:v libx265 -flags +global_header -f rtp (tests/testdata/rtp/README.md)
const SPROP = {
  vps: "QAEMAf//AWAAAAMAkAAAAwAAAwA8lZAJ",
  sps: "QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWSSTK8BaAgAAAwACAAADADIQ",
  pps: "RAHBcrRiQA==",
};

Deno.test("parseSpropH265 reads ffmpeg's sprop-vps, sprop-sps and sprop-pps", () => {
  const sets = parseSpropH265(SPROP);
  assert.deepEqual([sets.vps?.length, sets.sps.length, sets.pps.length], [
    1,
    1,
    1,
  ]);
  assert.deepEqual(sets.pps, [hex("44 01 c1 72 b4 62 40")]);
  assert.deepEqual(parseSpropH265({}), { vps: [], sps: [], pps: [] });
  assert.throws(() => parseSpropH265({ sps: "QgE*" }), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("H265Packetizer aggregates parameter sets into an AP and fragments a big slice into FU", () => {
  const p = new H265Packetizer({
    ssrc: 1,
    sequenceNumber: 0,
    timestampOffset: 0,
    maxPacketSize: 12 + 18,
  });
  const slice = hex(
    "26 01 | 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14",
  );
  const packets = packetize(p, [{
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [hex(VPS), hex(SPS), hex(PPS), slice],
  }]);
  assert.deepEqual(packets.map((w) => [...decodeRtpPacket(w).payload]), [
    [...hex(`60 01 | 0003 ${VPS} | 0003 ${SPS} | 0003 ${PPS}`)],
    [...hex("62 01 | 93 | 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f")],
    [...hex("62 01 | 53 | 10 11 12 13 14")],
  ]);
  assert.deepEqual(packets.map((w) => decodeRtpPacket(w).marker), [
    false,
    false,
    true,
  ]);
});

Deno.test("H265Packetizer gives an AP the lowest LayerId and TID of its units (§4.4.2)", () => {
  const p = new H265Packetizer({ maxPacketSize: 100 });
  // LayerId 1 / TID+1 3, and LayerId 0 / TID+1 2; F set on the first
  const [ap] = packetize(p, [{
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: false,
    units: [hex("83 0b 00"), hex("02 02 00")],
  }]);
  assert.deepEqual([...decodeRtpPacket(ap!).payload.subarray(0, 2)], [
    0x80 | (48 << 1),
    0x02,
  ]);
});

/** H.265 NAL units without zero bytes, first of a given type. */
function nalArb(types: number[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(
    fc.constantFrom(...types),
    fc.integer({ min: 1, max: 7 }),
    fc.integer({ min: 0, max: 4000 }),
    fc.nat(),
  )
    .map(([type, tid, size, seed]) => {
      const nal = new Uint8Array(2 + size);
      nal[0] = type << 1;
      nal[1] = tid;
      for (let i = 2; i < nal.length; i++) nal[i] = 1 + ((seed + i * 13) % 255);
      return nal;
    });
}

Deno.test("H265Packetizer → H265Depacketizer returns the frames for any NAL sizes and packet sizes (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          nalArb([1, 19, 21]),
          fc.array(nalArb([0, 1, 35, 39, 40]), { maxLength: 5 }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      fc.integer({ min: 18, max: 1500 }),
      fc.boolean(),
      (specs, maxPacketSize, aggregate) => {
        const frames: Frame[] = specs.map(([first, rest], i) => {
          const keyframe = (first[0]! >> 1) !== 1;
          return {
            trackId: 0,
            dts: i * 3000,
            pts: i * 3000,
            keyframe,
            units: [first, ...rest],
          };
        });
        const wires = packetize(
          new H265Packetizer({ maxPacketSize, aggregate, timestampOffset: 0 }),
          frames,
        );
        assert.ok(wires.every((w) => w.length <= maxPacketSize));
        const got = depacketize(
          new H265Depacketizer({ waitForKeyframe: false }),
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

// tests/testdata/rtp/README.md: ffmpeg libx265 bframes=2 keyint=25, 320x240, 50 frames
const CAPTURE = readCapture("h265_bf2.rtp");

Deno.test("H265Depacketizer gives frames or ProtocolErrors for mutated real packets (fuzz)", () => {
  fuzzDepacketizer(() => new H265Depacketizer(), CAPTURE.slice(0, 24));
});

Deno.test("H265Depacketizer keeps the stage contract over interleaved RTP, H265Packetizer re-encoding what it reads", () => {
  checkStageContract(
    () => overInterleaved(new H265Depacketizer({ waitForKeyframe: false })),
    {
      fixtures: [
        {
          // RFC 7798 §4.4.2 AP, §4.4.3 FU start, middle and end
          name: "an AP with VPS, SPS and PPS, then an IDR slice in three FUs",
          bytes: interleaved([
            rtp(1, 0, false, `60 01 | 0003 ${VPS} | 0003 ${SPS} | 0003 ${PPS}`),
            rtp(2, 0, false, "62 01 | 93 | af 01"),
            rtp(3, 0, false, "62 01 | 13 | 02"),
            rtp(4, 0, true, "62 01 | 53 | 03"),
          ].map(encodeRtpPacket)),
          expect: [{
            trackId: 0,
            dts: 0,
            pts: 0,
            keyframe: true,
            units: [hex(VPS), hex(SPS), hex(PPS), hex("26 01 af 01 02 03")],
          }],
        },
        // tests/testdata/rtp/README.md: the first keyframe (7 packets), and all 50 frames
        {
          name: "ffmpeg libx265: the first keyframe",
          bytes: interleaved(CAPTURE.slice(0, 7)),
        },
        { name: "ffmpeg libx265: whole capture", bytes: interleaved(CAPTURE) },
      ],
      maxSplitAll: 5000, // the first keyframe is 4781 bytes
      // Packet boundaries are the sender's choice (§4.4): frames come back,
      // bytes do not.
      encode: (frames) =>
        interleaved(packetize(
          new H265Packetizer({
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

Deno.test("ffmpeg capture: H265Depacketizer gives ffmpeg's 50 frames with VPS/SPS/PPS on keyframes", () => {
  const d = new H265Depacketizer();
  const frames = depacketize(d, CAPTURE.map(decodeRtpPacket));
  const ref = readFramecrc("h265_bf2.framecrc");
  assert.equal(frames.length, ref.lines.length);
  const t0 = frames[0]!.pts;
  frames.forEach((f, i) =>
    assert.equal((f.pts - t0) / (90000 / ref.rate), ref.lines[i]!.pts)
  );
  const keyframes = frames.filter((f) => f.keyframe);
  assert.ok(keyframes.length >= 2);
  for (const k of keyframes) {
    assert.deepEqual(k.units.slice(0, 3).map((u) => (u[0]! >> 1) & 0x3f), [
      32,
      33,
      34,
    ]);
  }
  assert.deepEqual(d.parameterSets, parseSpropH265(SPROP));
  assert.equal(d.droppedFrames + d.lostPackets + d.skippedPackets, 0);
});

Deno.test("ffmpeg capture: H.265 depacketize → packetize → depacketize keeps every frame", () => {
  const frames = depacketize(
    new H265Depacketizer(),
    CAPTURE.map(decodeRtpPacket),
  );
  const again = depacketize(
    new H265Depacketizer(),
    packetize(new H265Packetizer({ maxPacketSize: 200 }), frames).map(
      decodeRtpPacket,
    ),
  );
  const rel = (fs: Frame[]) =>
    fs.map((f) => [f.pts - fs[0]!.pts, f.keyframe, unitsOf(f)]);
  assert.deepEqual(rel(again), rel(frames));
});
