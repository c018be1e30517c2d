/** Helpers for the H.264/H.265 payload tests: packets, runs, and a fuzzer. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { ProtocolError } from "../../lib/errors.ts";
import type { Frame } from "../../lib/media/mod.ts";
import { decodeRtpPacket, type RtpPacket } from "../../lib/rtp/packet.ts";
import {
  encodeInterleaved,
  type InterleavedFrame,
  InterleavedFramer,
} from "../../lib/rtsp/interleaved.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect, hex } from "../_util/bytes.ts";

/** An RTP packet of payload type 96 whose payload is given in hex. */
export function rtp(
  sequenceNumber: number,
  timestamp: number,
  marker: boolean,
  payload: string | Uint8Array,
): RtpPacket {
  return {
    padding: 0,
    marker,
    payloadType: 96,
    sequenceNumber: sequenceNumber & 0xffff,
    timestamp: timestamp >>> 0,
    ssrc: 0x1234,
    csrcs: [],
    payload: typeof payload === "string" ? hex(payload) : payload,
  };
}

/** Pushes every packet, then ends; returns the frames. */
export function depacketize(
  core: StageCore<RtpPacket, Frame>,
  packets: RtpPacket[],
  end = true,
): Frame[] {
  const out = collect<Frame>();
  for (const p of packets) core.push(p, out);
  if (end) core.end?.(out);
  return out.items;
}

/** Runs every encoded packet through a stage core; returns the packets it made. */
export function packetize(
  core: StageCore<Frame, Uint8Array>,
  frames: Frame[],
): Uint8Array[] {
  const out = collect<Uint8Array>();
  for (const f of frames) core.push(f, out);
  return out.items;
}

/**
 * RTP packets as one RTSP TCP byte stream: `$` frames on channel 0 (RFC 2326
 * §10.12), the form a depacketizer's input takes before it is cut.
 */
export function interleaved(packets: Uint8Array[]): Uint8Array {
  return concat(packets.map((p) => encodeInterleaved(0, p)));
}

/**
 * A depacketizer behind the stages that feed it over RTSP/TCP: bytes through
 * {@link InterleavedFramer} and decodeRtpPacket, then `core`. This is how the
 * stage contract splits and mutates a packet sequence as bytes.
 */
export function overInterleaved<O>(
  core: StageCore<RtpPacket, O>,
): StageCore<Uint8Array, O> {
  const framer = new InterleavedFramer();
  return {
    push(chunk, out) {
      const frames = collect<InterleavedFrame>();
      framer.push(chunk, frames);
      for (const f of frames.items) core.push(decodeRtpPacket(f.payload), out);
    },
    end(out) {
      framer.end();
      core.end?.(out);
    },
  };
}

/** Units as arrays of numbers, for readable deepEqual failures. */
export function unitsOf(frame: Frame): number[][] {
  return frame.units.map((u) => [...u]);
}

/**
 * Feeds a fresh depacketizer a run of real packets with random edits (bytes
 * flipped, payloads cut or grown, packets dropped or repeated): it must give
 * frames or a ProtocolError, nothing else, and leave its input unchanged.
 */
export function fuzzDepacketizer(
  makeCore: () => StageCore<RtpPacket, Frame>,
  wires: Uint8Array[],
  runs = 300,
): void {
  const edit = fc.record({
    kind: fc.constantFrom("flip", "cut", "grow", "drop", "repeat"),
    packet: fc.nat(),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 10 }), (edits) => {
      let packets = wires.map((w) => w.slice());
      for (const e of edits) {
        const i = e.packet % packets.length;
        const p = packets[i]!;
        const at = 12 + (e.at % Math.max(1, p.length - 12));
        if (e.kind === "flip" && at < p.length) p[at] = e.value;
        else if (e.kind === "cut") packets[i] = p.subarray(0, at);
        else if (e.kind === "grow") {
          packets[i] = new Uint8Array([...p, e.value, 0, 0, 1, e.value]);
        } else if (e.kind === "drop" && packets.length > 1) {
          packets = packets.filter((_, k) => k !== i);
        } else if (e.kind === "repeat") packets.splice(i, 0, p);
      }
      const copies = packets.map((p) => p.slice());
      const core = makeCore();
      const out = collect<Frame>();
      try {
        for (const w of packets) core.push(decodeRtpPacket(w), out);
        core.end?.(out);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
      packets.forEach((p, k) =>
        assert.deepEqual(p, copies[k], "depacketizer modified its input")
      );
      for (const f of out.items) {
        assert.ok(f.units.length > 0 && f.units.every((u) => u.length > 0));
      }
    }),
    { numRuns: runs },
  );
}
