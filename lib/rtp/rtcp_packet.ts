/**
 * The RTCP packet model, RFC 3550 §6: compound packets of sender reports, receiver reports,
 * source descriptions and goodbyes; other packet types (APP, feedback) are
 * kept raw. Every packet starts with the same 32 bits:
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |  length (32-bit words - 1)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

/** RTCP packet types, RFC 3550 §12.1. */
export const RTCP_PACKET_TYPE = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
} as const;
/** One of {@link RTCP_PACKET_TYPE}. */
export type RtcpPacketType =
  typeof RTCP_PACKET_TYPE[keyof typeof RTCP_PACKET_TYPE];

/** SDES item types, RFC 3550 §6.5 (0 ends a chunk's item list). */
export const SDES_ITEM = {
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;
/** One of {@link SDES_ITEM}. */
export type SdesItemType = typeof SDES_ITEM[keyof typeof SDES_ITEM];

/** A reception report block, RFC 3550 §6.4.1: 24 bytes. */
export interface RtcpReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** Fraction lost since the last report, in 1/256. */
  fractionLost: number;
  /** Cumulative packets lost, signed 24 bits (duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | sequence). */
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received (LSR), 0 if none. */
  lastSenderReport: number;
  /** Delay since that SR in 1/65536 s (DLSR). */
  delaySinceLastSenderReport: number;
}

/** Sender report (PT 200), RFC 3550 §6.4.1. */
export interface RtcpSenderReport {
  kind: "sr";
  ssrc: number;
  /** NTP timestamp, seconds since 1900 (most significant word). */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in 1/2^32 (least significant word). */
  ntpFraction: number;
  /** The same instant in the sender's RTP clock. */
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension after the report blocks, if any. */
  extension?: Uint8Array;
}

/** Receiver report (PT 201), RFC 3550 §6.4.2. */
export interface RtcpReceiverReport {
  kind: "rr";
  ssrc: number;
  reports: RtcpReportBlock[];
  extension?: Uint8Array;
}

/** One SDES item: its type and text (UTF-8 on the wire, at most 255 bytes). */
export interface RtcpSdesItem {
  type: number;
  text: string;
}

/** One SDES chunk: a source and its items. */
export interface RtcpSdesChunk {
  ssrc: number;
  items: RtcpSdesItem[];
}

/** Source description (PT 202), RFC 3550 §6.5. */
export interface RtcpSourceDescription {
  kind: "sdes";
  chunks: RtcpSdesChunk[];
}

/** Goodbye (PT 203), RFC 3550 §6.6. */
export interface RtcpBye {
  kind: "bye";
  ssrcs: number[];
  reason?: string;
}

/** A packet of another type (APP, RTPFB, PSFB, XR …), body without header or padding. */
export interface RtcpRawPacket {
  kind: "raw";
  packetType: number;
  /** The 5-bit count / subtype / FMT field. */
  count: number;
  body: Uint8Array;
}

/** One packet of a compound RTCP packet. */
export type RtcpPacket =
  | RtcpSenderReport
  | RtcpReceiverReport
  | RtcpSourceDescription
  | RtcpBye
  | RtcpRawPacket;

/** Bytes of the common header. */
export const HEADER_SIZE = 4;
/** Bytes of one report block (RFC 3550 §6.4.1). */
export const REPORT_BLOCK_SIZE = 24;
/** Bytes of an SR's sender info. */
export const SENDER_INFO_SIZE = 20;
/** The 5-bit count field's largest value. */
export const MAX_COUNT = 31;
