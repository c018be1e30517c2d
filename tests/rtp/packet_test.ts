import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRtpPacket,
  encodeRtpPacket,
  RTP_HEADER_SIZE,
  type RtpPacket,
  writeRtpHeader,
} from "../../lib/rtp/packet.ts";
import { hex } from "../_util/bytes.ts";
import { checkStageContract, wholeInput } from "../_util/stage_contract.ts";
import { readCapture } from "./_capture.ts";

// RFC 3550 §5.1: V=2|P|X|CC|M|PT | sequence | timestamp | SSRC | CSRCs | extension | payload | padding
const CASES: { name: string; wire: Uint8Array; packet: RtpPacket }[] = [
  {
    name: "a plain header and payload",
    wire: hex("80 60 1234 | 00010000 | deadbeef | 6742"),
    packet: {
      padding: 0,
      marker: false,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0x10000,
      ssrc: 0xdeadbeef,
      csrcs: [],
      payload: hex("6742"),
    },
  },
  {
    name: "the marker bit and two CSRCs",
    wire: hex("82 e0 ffff | ffffffff | 00000001 | 00000002 00000003 | 65"),
    packet: {
      padding: 0,
      marker: true,
      payloadType: 96,
      sequenceNumber: 0xffff,
      timestamp: 0xffffffff,
      ssrc: 1,
      csrcs: [2, 3],
      payload: hex("65"),
    },
  },
  {
    // §5.3.1: 16 bits defined by profile, 16 bits length in words; RFC 8285 one-byte form 0xBEDE
    name: "a header extension",
    wire: hex(
      "90 08 0001 | 00000000 | 00000001 | bede 0001 | 10 ab 00 00 | d5d5",
    ),
    packet: {
      padding: 0,
      extension: { profile: 0xbede, data: hex("10 ab 00 00") },
      marker: false,
      payloadType: 8,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 1,
      csrcs: [],
      payload: hex("d5d5"),
    },
  },
  {
    // §5.1 P: the last octet counts the padding octets, itself included
    name: "padding",
    wire: hex("a0 00 0002 | 00000000 | 00000001 | ff | 00 00 03"),
    packet: {
      padding: 3,
      marker: false,
      payloadType: 0,
      sequenceNumber: 2,
      timestamp: 0,
      ssrc: 1,
      csrcs: [],
      payload: hex("ff"),
    },
  },
];

for (const c of CASES) {
  Deno.test(`decodeRtpPacket decodes ${c.name}`, () => {
    assert.deepEqual(decodeRtpPacket(c.wire), c.packet);
  });
  Deno.test(`encodeRtpPacket encodes ${c.name} back to the fixture`, () => {
    assert.deepEqual(encodeRtpPacket(decodeRtpPacket(c.wire)), c.wire);
  });
}

const ERRORS = [
  {
    name: "fewer than 12 bytes",
    wire: hex("80 60 0001 00000000 000000"),
    code: "truncated",
  },
  {
    name: "version 1",
    wire: hex("40 60 0001 00000000 00000001"),
    code: "malformed",
  },
  {
    name: "version 0 (STUN or garbage on the port)",
    wire: hex("00 01 0000 2112a442 00000000"),
    code: "malformed",
  },
  {
    name: "a CSRC count past the end",
    wire: hex("83 60 0001 00000000 00000001 | 00000002"),
    code: "truncated",
  },
  {
    name: "no room for the extension header",
    wire: hex("90 60 0001 00000000 00000001 | bede"),
    code: "truncated",
  },
  {
    name: "an extension length past the end",
    wire: hex("90 60 0001 00000000 00000001 | bede 0002 | 00000000"),
    code: "truncated",
  },
  {
    name: "a padding count of 0",
    wire: hex("a0 60 0001 00000000 00000001 | 65 00"),
    code: "malformed",
  },
  {
    name: "padding larger than the payload",
    wire: hex("a0 60 0001 00000000 00000001 | 65 03"),
    code: "malformed",
  },
] as const;

for (const e of ERRORS) {
  Deno.test(`decodeRtpPacket rejects ${e.name}`, () => {
    assert.throws(() => decodeRtpPacket(e.wire), {
      name: "ProtocolError",
      protocol: "rtp",
      code: e.code,
    });
  });
}

Deno.test("decodeRtpPacket returns views of its input", () => {
  const wire = CASES[0]!.wire;
  const p = decodeRtpPacket(wire);
  assert.equal(p.payload.buffer, wire.buffer);
  assert.equal(p.payload.byteOffset, RTP_HEADER_SIZE);
});

Deno.test("writeRtpHeader writes what encodeRtpPacket writes for a plain header", () => {
  const fields = {
    marker: true,
    payloadType: 97,
    sequenceNumber: 65535,
    timestamp: 0xfffffffe,
    ssrc: 0x80000001,
  };
  const buf = new Uint8Array(16);
  assert.equal(writeRtpHeader(buf, 4, fields), 16);
  const encoded = encodeRtpPacket({
    ...fields,
    padding: 0,
    csrcs: [],
    payload: new Uint8Array(0),
  });
  assert.deepEqual(buf.subarray(4), encoded);
});

Deno.test("writeRtpHeader wraps timestamps beyond 32 bits", () => {
  const buf = new Uint8Array(12);
  writeRtpHeader(buf, 0, {
    marker: false,
    payloadType: 96,
    sequenceNumber: 0,
    timestamp: 2 ** 32 + 5,
    ssrc: 1,
  });
  assert.equal(decodeRtpPacket(buf).timestamp, 5);
});

Deno.test("encodeRtpPacket refuses 16 CSRCs and extension data that is not whole words", () => {
  const base: RtpPacket = {
    padding: 0,
    marker: false,
    payloadType: 0,
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 0,
    csrcs: [],
    payload: new Uint8Array(0),
  };
  assert.throws(
    () => encodeRtpPacket({ ...base, csrcs: new Array(16).fill(1) }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeRtpPacket({
        ...base,
        extension: { profile: 1, data: new Uint8Array(3) },
      }),
    RangeError,
  );
});

const packetArb: fc.Arbitrary<RtpPacket> = fc.record({
  padding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.nat({ max: 0xffffffff }),
  ssrc: fc.nat({ max: 0xffffffff }),
  csrcs: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 15 }),
  payload: fc.uint8Array({ maxLength: 64 }),
  extension: fc.option(
    fc.record({
      profile: fc.integer({ min: 0, max: 0xffff }),
      data: fc.integer({ min: 0, max: 4 }).map((n) =>
        new Uint8Array(4 * n).fill(n)
      ),
    }),
    { nil: undefined },
  ),
}).map(({ extension, ...rest }) =>
  extension === undefined
    ? { ...rest }
    : { ...rest, extension: { ...extension } }
);

Deno.test("encodeRtpPacket → decodeRtpPacket returns the packet (property)", () => {
  fc.assert(
    fc.property(packetArb, (p) => {
      assert.deepEqual(decodeRtpPacket(encodeRtpPacket(p)), p);
    }),
    { numRuns: 500 },
  );
});

Deno.test("decodeRtpPacket keeps the stage contract, encodeRtpPacket returning every fixture", () => {
  checkStageContract(wholeInput((b) => [decodeRtpPacket(b)]), {
    fixtures: [
      ...CASES.map((c) => ({
        name: c.name,
        bytes: c.wire,
        expect: [c.packet],
      })),
      ...readCapture("h264_bf2.rtp").slice(0, 8).map((bytes, i) => ({
        name: `ffmpeg H.264 packet ${i}`,
        bytes,
      })),
    ],
    // RFC 3550 §5.1 leaves one encoding per packet, but padding octets before
    // the count are "ignored": decoded packets keep only their number, and
    // encodeRtpPacket writes zeros there (the fixtures' padding is zeros).
    encode: (packets) => encodeRtpPacket(packets[0]!),
  });
});

Deno.test("decodeRtpPacket → encodeRtpPacket returns every packet of the ffmpeg captures", () => {
  for (const name of ["h264_bf2.rtp", "h264_bf0.rtp", "h265_bf2.rtp"]) {
    for (const wire of readCapture(name)) {
      assert.deepEqual(encodeRtpPacket(decodeRtpPacket(wire)), wire);
    }
  }
});
