import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRtcp,
  encodeRtcp,
  msToNtp,
  NTP_UNIX_OFFSET_SECONDS,
  ntpMiddle32,
  ntpToMs,
  type RtcpPacket,
  type RtcpSenderReport,
  SDES_ITEM,
} from "../../lib/rtp/rtcp.ts";
import { hex } from "../_util/bytes.ts";
import { checkStageContract, wholeInput } from "../_util/stage_contract.ts";

// RFC 3550 §6.4.1 SR: header (RC 1, PT 200, length 12) | SSRC | NTP msw lsw | RTP ts | packets | octets
// | report block: SSRC | fraction lost, cumulative lost (24 bits) | highest seq | jitter | LSR | DLSR
const SR = hex(
  `81 c8 000c | 11223344 | e8f1a2b3 80000000 | 00015f90 | 00000064 | 0000c350
  | 55667788 | 40 ffffff | 00010005 | 0000000a | a2b38000 | 00010000`,
);
// §6.5 SDES: header (SC 1, PT 202, length 3) | SSRC | CNAME (1), 4 bytes "host" | null, pad to 32 bits
const SDES = hex("81 ca 0003 | 11223344 | 01 04 686f7374 | 00 00");
// §6.4.2 RR without report blocks, as receivers send before any packet arrives
const RR = hex("80 c9 0001 | 11223344");
// §6.6 BYE: header (SC 1, PT 203, length 2) | SSRC | length 3, "bye"
const BYE = hex("81 cb 0002 | 11223344 | 03 627965");
// §6.7 APP: subtype 0, SSRC, name "test": kept raw
const APP = hex("80 cc 0002 | 11223344 | 74657374");
// RFC 4585 §6.3.1 PLI: PSFB (206), FMT 1, sender SSRC, media SSRC: an unknown type, kept raw
const PLI = hex("81 ce 0002 | 11223344 | 55667788");

const SR_PACKET: RtcpPacket = {
  kind: "sr",
  ssrc: 0x11223344,
  ntpSeconds: 0xe8f1a2b3,
  ntpFraction: 0x80000000,
  rtpTimestamp: 90000,
  packetCount: 100,
  octetCount: 50000,
  reports: [{
    ssrc: 0x55667788,
    fractionLost: 64,
    cumulativeLost: -1,
    highestSequence: 0x10005,
    jitter: 10,
    lastSenderReport: 0xa2b38000,
    delaySinceLastSenderReport: 0x10000,
  }],
};

const CASES: { name: string; wire: Uint8Array; packets: RtcpPacket[] }[] = [
  {
    name: "a sender report and a CNAME in one compound packet",
    wire: new Uint8Array([...SR, ...SDES]),
    packets: [SR_PACKET, {
      kind: "sdes",
      chunks: [{
        ssrc: 0x11223344,
        items: [{ type: SDES_ITEM.CNAME, text: "host" }],
      }],
    }],
  },
  {
    name: "an empty receiver report",
    wire: RR,
    packets: [{ kind: "rr", ssrc: 0x11223344, reports: [] }],
  },
  {
    name: "a goodbye with a reason",
    wire: BYE,
    packets: [{ kind: "bye", ssrcs: [0x11223344], reason: "bye" }],
  },
  {
    name: "APP and PLI packets, raw",
    wire: new Uint8Array([...RR, ...APP, ...PLI]),
    packets: [
      { kind: "rr", ssrc: 0x11223344, reports: [] },
      {
        kind: "raw",
        packetType: 204,
        count: 0,
        body: hex("11223344 74657374"),
      },
      {
        kind: "raw",
        packetType: 206,
        count: 1,
        body: hex("11223344 55667788"),
      },
    ],
  },
];

for (const c of CASES) {
  Deno.test(`decodeRtcp decodes ${c.name}`, () => {
    assert.deepEqual(decodeRtcp(c.wire), c.packets);
  });
  Deno.test(`encodeRtcp encodes ${c.name} back to the fixture`, () => {
    assert.deepEqual(encodeRtcp(c.packets), c.wire);
  });
}

Deno.test("decodeRtcp reads padding off the last packet (§6.4.1 P bit)", () => {
  const padded = hex("a0 c9 0002 | 11223344 | 00 00 00 04");
  assert.deepEqual(decodeRtcp(padded), [{
    kind: "rr",
    ssrc: 0x11223344,
    reports: [],
  }]);
});

Deno.test("decodeRtcp takes an SDES chunk that ends at the packet end without a null item", () => {
  const wire = hex("81 ca 0002 | 11223344 | 01 02 6869");
  assert.deepEqual(decodeRtcp(wire), [{
    kind: "sdes",
    chunks: [{ ssrc: 0x11223344, items: [{ type: 1, text: "hi" }] }],
  }]);
});

const ERRORS = [
  { name: "fewer than 4 bytes", wire: hex("80 c9 00"), code: "truncated" },
  { name: "version 1", wire: hex("40 c9 0001 11223344"), code: "malformed" },
  {
    name: "a length past the end",
    wire: hex("80 c9 0002 11223344"),
    code: "truncated",
  },
  {
    name: "bytes after the last packet",
    wire: hex("80 c9 0001 11223344 80"),
    code: "truncated",
  },
  {
    name: "an SR shorter than its report count",
    wire: hex(
      "81 c8 0006 11223344 00000000 00000000 00000000 00000000 00000000",
    ),
    code: "malformed",
  },
  {
    name: "an RR shorter than its report count",
    wire: hex("82 c9 0001 11223344"),
    code: "malformed",
  },
  {
    name: "padding larger than the packet",
    wire: hex("a0 c9 0001 11223309"),
    code: "malformed",
  },
  {
    // §6.4.1 P: the count "will be a multiple of four"; 3 would leave a 7-byte
    // RR body that no word-sized field or encodeRtcp can carry
    name: "a padding count that is not a multiple of four",
    wire: hex("a0 c9 0002 11223344 00 00 00 03"),
    code: "malformed",
  },
  {
    name: "an SDES item past the end",
    wire: hex("81 ca 0002 11223344 01 09 6869"),
    code: "truncated",
  },
  {
    name: "more SDES chunks than bytes",
    wire: hex("82 ca 0002 11223344 00000000"),
    code: "truncated",
  },
  {
    name: "a BYE reason past the end",
    wire: hex("81 cb 0002 11223344 09 627965"),
    code: "truncated",
  },
  {
    name: "a BYE shorter than its source count",
    wire: hex("83 cb 0002 11223344 55667788"),
    code: "malformed",
  },
] as const;

for (const e of ERRORS) {
  Deno.test(`decodeRtcp rejects ${e.name}`, () => {
    assert.throws(() => decodeRtcp(e.wire), {
      name: "ProtocolError",
      protocol: "rtp",
      code: e.code,
    });
  });
}

Deno.test("encodeRtcp refuses 32 report blocks and long SDES text", () => {
  const reports = new Array(32).fill(
    (SR_PACKET as RtcpSenderReport).reports[0],
  );
  assert.throws(
    () => encodeRtcp([{ kind: "rr", ssrc: 1, reports }]),
    RangeError,
  );
  const text = "x".repeat(256);
  assert.throws(
    () =>
      encodeRtcp([{
        kind: "sdes",
        chunks: [{ ssrc: 1, items: [{ type: 1, text }] }],
      }]),
    RangeError,
  );
});

Deno.test("msToNtp and ntpToMs convert between Unix milliseconds and NTP (RFC 3550 §4)", () => {
  assert.deepEqual(msToNtp(0), {
    ntpSeconds: NTP_UNIX_OFFSET_SECONDS,
    ntpFraction: 0,
  });
  assert.deepEqual(msToNtp(1500), {
    ntpSeconds: NTP_UNIX_OFFSET_SECONDS + 1,
    ntpFraction: 0x80000000,
  });
  const now = 1_763_700_000_123;
  const ntp = msToNtp(now);
  assert.ok(Math.abs(ntpToMs(ntp.ntpSeconds, ntp.ntpFraction) - now) < 0.001);
  // after 7 February 2036 the seconds wrap (era 1)
  const later = Date.UTC(2040, 0, 1);
  const wrapped = msToNtp(later);
  assert.ok(wrapped.ntpSeconds < 0x80000000);
  assert.equal(ntpToMs(wrapped.ntpSeconds, wrapped.ntpFraction), later);
});

Deno.test("ntpMiddle32 gives the LSR a receiver echoes", () => {
  assert.equal(ntpMiddle32(0xe8f1a2b3, 0x80000000), 0xa2b38000);
});

const u32 = fc.nat({ max: 0xffffffff });
const block = fc.record({
  ssrc: u32,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSequence: u32,
  jitter: u32,
  lastSenderReport: u32,
  delaySinceLastSenderReport: u32,
}).map((b) => ({ ...b }));
const words = fc.integer({ min: 1, max: 3 }).map((n) =>
  new Uint8Array(4 * n).fill(n)
);
const text = fc.string({ maxLength: 40 });
const packetArb: fc.Arbitrary<RtcpPacket> = fc.oneof(
  fc.record({
    ssrc: u32,
    ntpSeconds: u32,
    ntpFraction: u32,
    rtpTimestamp: u32,
    packetCount: u32,
    octetCount: u32,
    reports: fc.array(block, { maxLength: 4 }),
  }).map((p) => ({ kind: "sr" as const, ...p })),
  fc.record({
    ssrc: u32,
    reports: fc.array(block, { maxLength: 4 }),
    extension: fc.option(words, { nil: undefined }),
  })
    .map(({ extension, ...p }) => ({
      kind: "rr" as const,
      ...p,
      ...(extension ? { extension } : {}),
    })),
  fc.array(
    fc.record({
      ssrc: u32,
      items: fc.array(
        fc.record({ type: fc.integer({ min: 1, max: 8 }), text }).map((i) => ({
          ...i,
        })),
        { maxLength: 3 },
      ),
    }).map((c) => ({ ...c })),
    { maxLength: 3 },
  ).map((chunks) => ({ kind: "sdes" as const, chunks })),
  fc.record({
    ssrcs: fc.array(u32, { maxLength: 3 }),
    reason: fc.option(text, { nil: undefined }),
  })
    .map(({ reason, ssrcs }) => ({
      kind: "bye" as const,
      ssrcs,
      ...(reason === undefined ? {} : { reason }),
    })),
  fc.record({
    packetType: fc.integer({ min: 204, max: 210 }),
    count: fc.integer({ min: 0, max: 31 }),
    body: words,
  })
    .map((p) => ({ kind: "raw" as const, ...p })),
);

Deno.test("encodeRtcp → decodeRtcp returns the packets (property)", () => {
  fc.assert(
    fc.property(
      fc.array(packetArb, { minLength: 1, maxLength: 4 }),
      (packets) => {
        assert.deepEqual(decodeRtcp(encodeRtcp(packets)), packets);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("decodeRtcp keeps the stage contract, encodeRtcp returning every fixture", () => {
  checkStageContract(wholeInput(decodeRtcp), {
    fixtures: CASES.map((c) => ({
      name: c.name,
      bytes: c.wire,
      expect: c.packets,
    })),
    // RFC 3550 §6.1: the fixtures carry no padding and zero-filled SDES and
    // BYE tails, as encodeRtcp writes them, so they come back byte for byte.
    encode: encodeRtcp,
  });
});
