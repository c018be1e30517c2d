/**
 * Shared by the audio payload format tests: the ffmpeg captures of
 * tests/testdata/rtp_audio/, packet builders, and the fuzz contract of a
 * depacketizer.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../lib/errors.ts";
import type { Frame } from "../../lib/media/mod.ts";
import { decodeRtpPacket, type RtpPacket } from "../../lib/rtp/packet.ts";
import type { RtpPayloadPacket } from "../../lib/rtp/_audio.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { interleaved, overInterleaved } from "./_payload.ts";

const DIR = new URL("../testdata/rtp_audio/", import.meta.url);

/** A capture: RTP packets, RTCP datagrams, and the fmtp of its SDP. */
export interface Capture {
  rtp: RtpPacket[];
  rtcp: Uint8Array[];
  /** RTP datagrams as they came. */
  datagrams: Uint8Array[];
  rtpmap: string;
  fmtp: Record<string, string>;
}

/** Reads `<name>.rtp` and `<name>.sdp` (format in the folder's README). */
export function loadCapture(name: string): Capture {
  const bytes = Deno.readFileSync(new URL(`${name}.rtp`, DIR));
  const sdp = Deno.readTextFileSync(new URL(`${name}.sdp`, DIR));
  const out: Capture = {
    rtp: [],
    rtcp: [],
    datagrams: [],
    rtpmap: "",
    fmtp: {},
  };
  for (let at = 0; at < bytes.length;) {
    const channel = bytes[at]!;
    const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    const data = bytes.subarray(at + 3, at + 3 + length);
    at += 3 + length;
    if (channel === 0) {
      out.datagrams.push(data);
      out.rtp.push(decodeRtpPacket(data));
    } else out.rtcp.push(data);
  }
  out.rtpmap = /a=rtpmap:\d+ (\S+)/.exec(sdp)?.[1] ?? "";
  const fmtp = /a=fmtp:\d+ (.*)/.exec(sdp)?.[1] ?? "";
  for (const part of fmtp.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.fmtp[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** A packet with the fields the depacketizers read. */
export function pkt(
  sequenceNumber: number,
  timestamp: number,
  marker: boolean,
  payload: Uint8Array,
): RtpPayloadPacket {
  return { sequenceNumber, timestamp, marker, payload };
}

/** Every frame a fresh core makes of `packets`, `end()` included. */
export function depacketize(
  core: StageCore<RtpPayloadPacket, Frame>,
  packets: readonly RtpPayloadPacket[],
): Frame[] {
  const out = collect<Frame>();
  for (const p of packets) core.push(p, out);
  core.end?.(out);
  return out.items;
}

/** Frames as plain data for deepEqual: units as byte arrays. */
export function plain(frames: Frame[]): unknown[] {
  return frames.map((f) => ({ ...f, units: f.units.map((u) => [...u]) }));
}

function checkFrames(frames: Frame[]): void {
  for (const f of frames) {
    assert.ok(
      Number.isSafeInteger(f.dts) && Number.isSafeInteger(f.pts),
      "integer times",
    );
    assert.ok(
      f.units.length > 0 && f.units.every((u) => u instanceof Uint8Array),
    );
  }
}

/** Options of {@link checkDepacketizer}. */
export interface CheckDepacketizerOptions {
  /** Random and mutated runs of each kind. @default {300} */
  runs?: number;
  /**
   * The matching packetizer, datagrams out: then what the depacketizer reads
   * must come back through it (frames, not bytes: packet boundaries are the
   * sender's choice).
   */
  packetize?: (frames: Frame[]) => Uint8Array[];
}

/**
 * The stage contract for a depacketizer: the datagrams as one interleaved
 * byte stream (clean, split, re-packetized, random and mutated) through
 * decodeRtpPacket; then packet sequences with random headers and random or
 * mutated payloads. Output or a ProtocolError, never another throw; the input
 * is left unchanged.
 */
export function checkDepacketizer(
  makeCore: () => StageCore<RtpPayloadPacket, Frame>,
  fixtures: Uint8Array[],
  options: CheckDepacketizerOptions = {},
): void {
  const runs = options.runs ?? 300;
  const packetize = options.packetize;
  checkStageContract<Frame>(() => overInterleaved(makeCore()), {
    fixtures: [
      { name: "the first datagram", bytes: interleaved(fixtures.slice(0, 1)) },
      { name: "every datagram", bytes: interleaved(fixtures) },
    ],
    runs,
    check: checkFrames,
    ...(packetize === undefined ? {} : {
      encode: (frames: Frame[]) => interleaved(packetize(frames)),
      roundTrip: "items" as const,
    }),
  });
  const payloads = fixtures.map((d) => decodeRtpPacket(d).payload);
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.record({
      which: fc.nat(),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
      cut: fc.nat(),
    }).map(({ which, at, value, cut }) => {
      const p = payloads[which % payloads.length]!.slice();
      if (p.length > 0) p[at % p.length] = value;
      return p.subarray(
        0,
        p.length - (cut % 4 === 0 ? cut % (p.length + 1) : 0),
      );
    }),
  );
  const packet = fc.record({
    payload,
    marker: fc.boolean(),
    seqStep: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    tsStep: fc.oneof(
      fc.constant(0),
      fc.constant(1024),
      fc.integer({ min: 0, max: 0xffffffff }),
    ),
  });
  fc.assert(
    fc.property(fc.array(packet, { maxLength: 12 }), (list) => {
      const core = makeCore();
      const out = collect<Frame>();
      const copies = list.map((p) => p.payload.slice());
      let seq = 0xfff0;
      let ts = 0xffff_f000;
      try {
        for (const p of list) {
          seq = (seq + p.seqStep) & 0xffff;
          ts = (ts + p.tsStep) >>> 0;
          core.push(pkt(seq, ts, p.marker, p.payload), out);
        }
        core.end?.(out);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
      list.forEach((p, i) =>
        assert.deepEqual(p.payload, copies[i], "input modified")
      );
      checkFrames(out.items);
    }),
    { numRuns: runs },
  );
}

/** Bytes of bit fields `[value, bits]`, MSB first, zero-padded to a byte. */
export function bitFields(
  ...fields: [number, number][]
): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const [, n] of fields) total += n;
  const out = new Uint8Array(Math.ceil(total / 8));
  let bit = 0;
  for (const [value, n] of fields) {
    for (let i = n - 1; i >= 0; i--, bit++) {
      if (Math.floor(value / 2 ** i) % 2 === 1) {
        out[bit >>> 3]! |= 0x80 >>> (bit & 7);
      }
    }
  }
  return out;
}
