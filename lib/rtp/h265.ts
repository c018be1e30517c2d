/**
 * The H.265 RTP payload format, RFC 7798, without decoding order numbers
 * (`sprop-max-don-diff` 0): single NAL unit packets (types 0–47),
 * aggregation packets (AP, 48) and fragmentation units (FU, 49). PACI
 * packets (50) and the unspecified types 51–63 are skipped.
 *
 * ```
 * NAL unit / payload header, H.265 §7.3.1.2:  |F|  Type (6) | LayerId (6) | TID (3) |
 * AP, §4.4.2:  | header, Type 48 | size (16) | NAL unit | size (16) | NAL unit | …
 * FU, §4.4.3:  | header, Type 49 | S|E|FuType (6) | piece of one NAL unit (without its header)
 * ```
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { H265_NAL_TYPE, isH265Irap } from "../codec/h265/nal.ts";
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

/** RTP payload types of RFC 7798 §4.4 beyond the NAL unit types 0–47. */
export const H265_PACKET_TYPE = {
  AP: 48,
  FU: 49,
  PACI: 50,
} as const;
/** One of {@link H265_PACKET_TYPE}. */
export type H265PacketType =
  typeof H265_PACKET_TYPE[keyof typeof H265_PACKET_TYPE];

function kind(type: number): NalPacketKind {
  if (type < H265_PACKET_TYPE.AP) return "single";
  if (type === H265_PACKET_TYPE.AP) return "aggregation";
  if (type === H265_PACKET_TYPE.FU) return "fragment";
  return "skip"; // PACI, 51–63
}

function layerId(h: Uint8Array): number {
  return ((h[0]! & 1) << 5) | (h[1]! >> 3);
}

/** The H.265 header layouts for the shared NAL payload code. */
const H265_FORMAT: NalFormat = {
  name: "H.265",
  headerSize: 2,
  fragmentTypeMask: 0x3f,
  requiredSets: ["vps", "sps", "pps"],
  type: (h) => (h[0]! >> 1) & 0x3f,
  kind,
  isVcl: (t) => t < H265_NAL_TYPE.VPS,
  isKeyframe: isH265Irap,
  parameterSet: (t) =>
    t === H265_NAL_TYPE.VPS
      ? "vps"
      : t === H265_NAL_TYPE.SPS
      ? "sps"
      : t === H265_NAL_TYPE.PPS
      ? "pps"
      : undefined,
  // F, LayerId and TID from the payload header, the type from the FU header.
  unfragmentHeader(payload, out) {
    out[0] = (payload[0]! & 0x81) | ((payload[2]! & 0x3f) << 1);
    out[1] = payload[1]!;
  },
  fragmentHeader(nal, out, at) {
    out[at] = (nal[0]! & 0x81) | (H265_PACKET_TYPE.FU << 1);
    out[at + 1] = nal[1]!;
  },
  // §4.4.2: F is the OR of the units' F bits, LayerId and TID their minimum.
  aggregationHeader(units, from, to, out, at) {
    let f = 0;
    let layer = 63;
    let tid = 7;
    for (let i = from; i < to; i++) {
      const u = units[i]!;
      f |= u[0]! & 0x80;
      layer = Math.min(layer, layerId(u));
      tid = Math.min(tid, u[1]! & 0x07);
    }
    out[at] = f | (H265_PACKET_TYPE.AP << 1) | (layer >> 5);
    out[at + 1] = ((layer & 0x1f) << 3) | tid;
  },
};

/** Options of {@link H265Depacketizer}. */
export interface H265DepacketizerOptions extends NalDepacketizerOptions {
  /**
   * The SDP's `sprop-max-don-diff`: above 0 the packets carry decoding
   * order numbers, which this depacketizer does not read (`unsupported`).
   * @default {0}
   */
  spropMaxDonDiff?: number;
}

/**
 * RTP packets → H.265 access units ({@link Frame}s with dts = pts = the
 * unwrapped RTP timestamp). Access units end at the marker bit or a
 * timestamp change; in-band VPS/SPS/PPS are picked up and put in front of
 * IRAP frames (the keyframes) that lack them. A sequence gap drops frames up
 * to the next IRAP.
 *
 * @example Depacketize an aggregation packet of VPS, SPS and PPS, then an IDR
 * ```ts
 * import assert from "node:assert/strict";
 * import { H265Depacketizer, type RtpPacket } from "./mod.ts";
 * import type { Frame, ParameterSets } from "../media/mod.ts";
 *
 * const packet = (sequenceNumber: number, marker: boolean, payload: number[]): RtpPacket => ({
 *   padding: 0, marker, payloadType: 96, sequenceNumber, timestamp: 0, ssrc: 1,
 *   csrcs: [], payload: new Uint8Array(payload),
 * });
 * const frames: Frame[] = [];
 * const out = { enqueue: (f: Frame) => frames.push(f) };
 * const depacketizer = new H265Depacketizer();
 * // AP header 0x6001, then size | VPS (0x4001…), SPS (0x4201…), PPS (0x4401…)
 * depacketizer.push(packet(1, false, [0x60, 0x01, 0, 3, 0x40, 0x01, 1, 0, 3, 0x42, 0x01, 2, 0, 3, 0x44, 0x01, 3]), out);
 * depacketizer.push(packet(2, true, [0x26, 0x01, 0xaf]), out); // IDR_W_RADL
 * assert.equal(frames.length, 1);
 * assert.equal(frames[0]!.units.length, 4);
 * assert.deepEqual(depacketizer.parameterSets?.vps, [new Uint8Array([0x40, 0x01, 1])]);
 * ```
 */
export class H265Depacketizer extends NalDepacketizer {
  constructor(options: H265DepacketizerOptions = {}) {
    const donDiff = options.spropMaxDonDiff ?? 0;
    if (donDiff !== 0) {
      throw new ProtocolError(
        `Cannot depacketize H.265: sprop-max-don-diff "${donDiff}" needs decoding order numbers`,
        { protocol: "rtp", code: "unsupported" },
      );
    }
    super(H265_FORMAT, options);
  }
}

/** {@link H265Depacketizer} as a `TransformStream`. */
export class H265DepacketizerStream extends StageStream<NalRtpPacket, Frame> {
  constructor(options?: H265DepacketizerOptions) {
    super(new H265Depacketizer(options));
  }
}

/** Options of {@link H265Packetizer}. */
export type H265PacketizerOptions = NalPacketizerOptions;

/**
 * H.265 access units → RTP packets: single NAL unit packets, AP for small
 * neighbours (VPS, SPS, PPS, SEI), FU for NAL units bigger than a packet;
 * the marker bit on the last packet of each access unit. No DONL fields.
 */
export class H265Packetizer extends NalPacketizer {
  constructor(options: H265PacketizerOptions = {}) {
    super(H265_FORMAT, options);
  }
}

/** {@link H265Packetizer} as a `TransformStream`. */
export class H265PacketizerStream extends StageStream<Frame, Uint8Array> {
  constructor(options?: H265PacketizerOptions) {
    super(new H265Packetizer(options));
  }
}

/** The `sprop-vps`, `sprop-sps` and `sprop-pps` values of an H.265 SDP (RFC 7798 §7.1). */
export interface SpropH265 {
  vps?: string;
  sps?: string;
  pps?: string;
}

/**
 * The VPS, SPS and PPS of an SDP's `sprop-vps`/`sprop-sps`/`sprop-pps`:
 * comma-separated base64 NAL units, sorted by their NAL unit type (sets sent
 * with Annex-B start codes are split; other types are ignored).
 */
export function parseSpropH265(sprop: SpropH265): ParameterSets {
  const sets = {
    vps: [] as Uint8Array[],
    sps: [] as Uint8Array[],
    pps: [] as Uint8Array[],
  };
  for (const [name, value] of Object.entries(sprop)) {
    if (typeof value !== "string") continue;
    for (const u of decodeSpropList(value, `sprop-${name}`)) {
      if (u.length < 2) continue;
      const t = (u[0]! >> 1) & 0x3f;
      if (t === H265_NAL_TYPE.VPS) sets.vps.push(u);
      else if (t === H265_NAL_TYPE.SPS) sets.sps.push(u);
      else if (t === H265_NAL_TYPE.PPS) sets.pps.push(u);
    }
  }
  return sets;
}
