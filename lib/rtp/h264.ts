/**
 * The H.264 RTP payload format, RFC 6184, non-interleaved mode
 * (packetization-mode 0 and 1): single NAL unit packets (types 1–23),
 * STAP-A (24) and FU-A (28). The interleaved-mode types STAP-B, MTAP16,
 * MTAP24 and FU-B are an `unsupported` error; the reserved types 0, 30 and
 * 31 are skipped.
 *
 * ```
 * NAL unit header, H.264 §7.3.1:  |F|NRI|  Type   |
 * STAP-A, §5.7.1:   | F|NRI|24 | size (16) | NAL unit | size (16) | NAL unit | …
 * FU-A, §5.8:       | F|NRI|28 | S|E|R|Type | piece of one NAL unit (without its header)
 * ```
 *
 * @module
 */

import { H264_NAL_TYPE } from "../codec/h264/nal.ts";
import { StageStream } from "../stage.ts";
import type { Frame, ParameterSets } from "../media/mod.ts";
import {
  decodeSpropList,
  NalDepacketizer,
  type NalDepacketizerOptions,
  type NalFormat,
  NalPacketizer,
  type NalPacketizerOptions,
  type NalPacketKind,
  type NalRtpPacket,
} from "./_nal_payload.ts";

/** RTP payload types of RFC 6184 §5.2 Table 1 beyond the NAL unit types 1–23. */
export const H264_PACKET_TYPE = {
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;
/** One of {@link H264_PACKET_TYPE}. */
export type H264PacketType =
  typeof H264_PACKET_TYPE[keyof typeof H264_PACKET_TYPE];

function kind(type: number): NalPacketKind {
  if (type >= 1 && type <= 23) return "single";
  if (type === H264_PACKET_TYPE.STAP_A) return "aggregation";
  if (type === H264_PACKET_TYPE.FU_A) return "fragment";
  if (type >= H264_PACKET_TYPE.STAP_B && type <= H264_PACKET_TYPE.FU_B) {
    return "unsupported";
  }
  return "skip"; // 0, 30, 31: reserved
}

/** The H.264 header layouts for the shared NAL payload code. */
const H264_FORMAT: NalFormat = {
  name: "H.264",
  headerSize: 1,
  fragmentTypeMask: 0x1f,
  requiredSets: ["sps", "pps"],
  type: (h) => h[0]! & 0x1f,
  kind,
  isVcl: (t) => t >= H264_NAL_TYPE.SLICE && t <= H264_NAL_TYPE.IDR,
  isKeyframe: (t) => t === H264_NAL_TYPE.IDR,
  parameterSet: (t) =>
    t === H264_NAL_TYPE.SPS
      ? "sps"
      : t === H264_NAL_TYPE.PPS
      ? "pps"
      : undefined,
  // F and NRI from the FU indicator, the type from the FU header.
  unfragmentHeader(payload, out) {
    out[0] = (payload[0]! & 0xe0) | (payload[1]! & 0x1f);
  },
  fragmentHeader(nal, out, at) {
    out[at] = (nal[0]! & 0xe0) | H264_PACKET_TYPE.FU_A;
  },
  // §5.7.1: F is the OR of the units' F bits, NRI their maximum.
  aggregationHeader(units, from, to, out, at) {
    let f = 0;
    let nri = 0;
    for (let i = from; i < to; i++) {
      const h = units[i]![0]!;
      f |= h & 0x80;
      nri = Math.max(nri, h & 0x60);
    }
    out[at] = f | nri | H264_PACKET_TYPE.STAP_A;
  },
};

/** Options of {@link H264Depacketizer}. */
export type H264DepacketizerOptions = NalDepacketizerOptions;

/**
 * RTP packets → H.264 access units ({@link Frame}s with dts = pts = the
 * unwrapped RTP timestamp; {@link DtsRebuilder} fixes dts when there are
 * B-frames). Access units end at the marker bit or a timestamp change;
 * Annex-B start codes inside payloads (sent by some cameras) split NAL
 * units; in-band SPS/PPS are picked up and put in front of IDR frames that
 * lack them. A sequence gap drops frames up to the next IDR.
 *
 * @example Depacketize an FU-A fragmented IDR slice
 * ```ts
 * import assert from "node:assert/strict";
 * import { H264Depacketizer, type RtpPacket } from "./mod.ts";
 * import type { Frame, ParameterSets } from "../media/mod.ts";
 *
 * const packet = (sequenceNumber: number, marker: boolean, payload: number[]): RtpPacket => ({
 *   padding: 0, marker, payloadType: 96, sequenceNumber, timestamp: 3000, ssrc: 1,
 *   csrcs: [], payload: new Uint8Array(payload),
 * });
 * const frames: Frame[] = [];
 * const depacketizer = new H264Depacketizer({ trackId: 0 });
 * // FU indicator 0x7c (NRI 3, type 28), FU headers: start|IDR, end|IDR
 * depacketizer.push(packet(1, false, [0x7c, 0x85, 0xaa]), { enqueue: (f) => frames.push(f) });
 * depacketizer.push(packet(2, true, [0x7c, 0x45, 0xbb]), { enqueue: (f) => frames.push(f) });
 * assert.equal(frames.length, 1);
 * assert.equal(frames[0]!.keyframe, true);
 * assert.deepEqual(frames[0]!.units.map((u) => [...u]), [[0x65, 0xaa, 0xbb]]);
 * ```
 */
export class H264Depacketizer extends NalDepacketizer {
  constructor(options: H264DepacketizerOptions = {}) {
    super(H264_FORMAT, options);
  }
}

/** {@link H264Depacketizer} as a `TransformStream`. */
export class H264DepacketizerStream extends StageStream<NalRtpPacket, Frame> {
  constructor(options?: H264DepacketizerOptions) {
    super(new H264Depacketizer(options));
  }
}

/** Options of {@link H264Packetizer}. */
export type H264PacketizerOptions = NalPacketizerOptions;

/**
 * H.264 access units → RTP packets (packetization-mode 1): single NAL unit
 * packets, STAP-A for small neighbours (SPS, PPS, SEI), FU-A for NAL units
 * bigger than a packet; the marker bit on the last packet of each access
 * unit. Each packet is one fully encoded `Uint8Array`.
 *
 * @example Packetize a frame and read the packets back
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRtpPacket, H264Packetizer } from "./mod.ts";
 *
 * const packets: Uint8Array[] = [];
 * const packetizer = new H264Packetizer({ ssrc: 1, sequenceNumber: 0, timestampOffset: 0, maxPacketSize: 100 });
 * const idr = new Uint8Array(200).fill(7);
 * idr[0] = 0x65;
 * packetizer.push(
 *   { trackId: 0, dts: 3000, pts: 3000, keyframe: true, units: [idr] },
 *   { enqueue: (p) => packets.push(p) },
 * );
 * const decoded = packets.map(decodeRtpPacket);
 * assert.deepEqual(decoded.map((p) => p.marker), [false, false, true]); // FU-A start, middle, end
 * assert.equal(decoded[0]!.timestamp, 3000);
 * ```
 */
export class H264Packetizer extends NalPacketizer {
  constructor(options: H264PacketizerOptions = {}) {
    super(H264_FORMAT, options);
  }
}

/** {@link H264Packetizer} as a `TransformStream`. */
export class H264PacketizerStream extends StageStream<Frame, Uint8Array> {
  constructor(options?: H264PacketizerOptions) {
    super(new H264Packetizer(options));
  }
}

/**
 * The SPS and PPS of an SDP `sprop-parameter-sets` value (RFC 6184 §8.1):
 * comma-separated base64 NAL units. Sets sent with Annex-B start codes (some
 * cameras) are split; NAL units of other types are ignored.
 */
export function parseSpropParameterSets(value: string): ParameterSets {
  const sets: ParameterSets = { sps: [], pps: [] };
  for (const u of decodeSpropList(value, "sprop-parameter-sets")) {
    const t = u[0]! & 0x1f;
    if (t === H264_NAL_TYPE.SPS) sets.sps.push(u);
    else if (t === H264_NAL_TYPE.PPS) sets.pps.push(u);
  }
  return sets;
}
