/**
 * The header layouts one NAL payload format (H.264 RFC 6184, H.265 RFC 7798)
 * describes with {@link NalFormat}, the FU header bits both share, and the
 * `sprop-…` parameter sets of their SDP.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { splitAnnexB } from "../codec/nal_units.ts";
import type { RtpPayloadPacket } from "./packet.ts";

/** The RTP clock of H.264 and H.265, RFC 6184 §8.2.1 and RFC 7798 §7.1. */
export const NAL_RTP_CLOCK_RATE = 90000;

/** What a packet type carries. */
export type NalPacketKind =
  | "single"
  | "aggregation"
  | "fragment"
  | "skip"
  | "unsupported";

/** The fields of an RTP packet a depacketizer reads. */
export type NalRtpPacket = RtpPayloadPacket;

/** Which parameter set a NAL unit is. */
export const PARAMETER_SET_KINDS = ["vps", "sps", "pps"] as const;
/** One of {@link PARAMETER_SET_KINDS}. */
export type ParameterSetKind = typeof PARAMETER_SET_KINDS[number];

/** The header layouts of one codec's payload format. */
export interface NalFormat {
  /** "H.264" or "H.265", for messages. */
  readonly name: string;
  /** Bytes of a NAL unit header and of a payload header: 1 or 2. */
  readonly headerSize: number;
  /** The FU header's type bits: 0x1f (H.264) or 0x3f (H.265). */
  readonly fragmentTypeMask: number;
  /** Parameter set kinds an IDR/IRAP needs in front of it. */
  readonly requiredSets: readonly ParameterSetKind[];
  /** Type field of a NAL unit header or payload header. */
  type(header: Uint8Array): number;
  /** What a payload of that type carries. */
  kind(type: number): NalPacketKind;
  /** Whether a NAL unit type is a coded slice. */
  isVcl(type: number): boolean;
  /** Whether a NAL unit type starts a picture a decoder can start at (IDR, IRAP). */
  isKeyframe(type: number): boolean;
  /** Which parameter set a NAL unit type is, if any. */
  parameterSet(type: number): ParameterSetKind | undefined;
  /** Writes the header of the NAL unit a fragment payload carries. */
  unfragmentHeader(payload: Uint8Array, out: Uint8Array): void;
  /** Writes the payload header of a fragment of `nal` (before the FU header). */
  fragmentHeader(nal: Uint8Array, out: Uint8Array, at: number): void;
  /** Writes the payload header of an aggregation packet of `units[from..to)`. */
  aggregationHeader(
    units: readonly Uint8Array[],
    from: number,
    to: number,
    out: Uint8Array,
    at: number,
  ): void;
}

/** Bit of the FU header that starts a fragmented NAL unit. */
export const FU_START = 0x80;
/** Bit of the FU header that ends it. */
export const FU_END = 0x40;

/** Decodes comma-separated base64 parameter sets (`sprop-…`), splitting any with Annex-B start codes. */
export function decodeSpropList(value: string, what: string): Uint8Array[] {
  const units: Uint8Array[] = [];
  for (const item of value.split(",")) {
    const text = item.trim();
    if (text === "") continue;
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    } catch (cause) {
      throw new ProtocolError(`Cannot parse ${what} "${text}": not base64`, {
        protocol: "rtp",
        code: "malformed",
        cause,
      });
    }
    // Some cameras put start codes in front of (or between) the sets.
    for (const u of splitAnnexB(bytes)) units.push(u);
  }
  return units;
}
