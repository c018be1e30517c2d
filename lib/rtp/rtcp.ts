/**
 * RTCP, RFC 3550 §6: compound packets of sender reports, receiver reports,
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

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

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

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

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

const HEADER_SIZE = 4;
const REPORT_BLOCK_SIZE = 24;
const SENDER_INFO_SIZE = 20;
const MAX_COUNT = 31;

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * Decodes a compound RTCP packet (one UDP datagram or interleaved frame).
 * Bodies are views of `bytes`. Senders that start with SDES or BYE instead
 * of SR/RR are accepted.
 */
export function decodeRtcp(bytes: Uint8Array): RtcpPacket[] {
  if (bytes.length < HEADER_SIZE) {
    throw fail("truncated", `${bytes.length} bytes is shorter than a header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: RtcpPacket[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < HEADER_SIZE) {
      throw fail(
        "truncated",
        `${bytes.length - pos} bytes left after packet ${packets.length}`,
      );
    }
    const b0 = bytes[pos]!;
    const version = b0 >> 6;
    if (version !== 2) throw fail("malformed", `version ${version} is not 2`);
    const count = b0 & 0x1f;
    const packetType = bytes[pos + 1]!;
    const size = (view.getUint16(pos + 2) + 1) * 4;
    if (pos + size > bytes.length) {
      throw fail(
        "truncated",
        `packet type ${packetType} of ${size} bytes runs past the end`,
      );
    }
    let end = pos + size;
    if (b0 & 0x20) {
      // §6.4.1 P: the count "will be a multiple of four", so what it leaves
      // is whole words, as the word-sized fields and encodeRtcp need.
      const padding = bytes[end - 1]!;
      if (padding === 0 || padding % 4 !== 0 || padding > size - HEADER_SIZE) {
        throw fail(
          "malformed",
          `padding of ${padding} bytes in a ${size}-byte packet`,
        );
      }
      end -= padding;
    }
    const body = bytes.subarray(pos + HEADER_SIZE, end);
    const bodyView = new DataView(
      body.buffer,
      body.byteOffset,
      body.byteLength,
    );
    packets.push(decodeOne(packetType, count, body, bodyView));
    pos += size;
  }
  return packets;
}

function decodeOne(
  type: number,
  count: number,
  body: Uint8Array,
  view: DataView,
): RtcpPacket {
  switch (type) {
    case RTCP_PACKET_TYPE.SR: {
      const need = 4 + SENDER_INFO_SIZE + count * REPORT_BLOCK_SIZE;
      if (body.length < need) {
        throw fail("malformed", `SR of ${body.length} bytes needs ${need}`);
      }
      const sr: RtcpSenderReport = {
        kind: "sr",
        ssrc: view.getUint32(0),
        ntpSeconds: view.getUint32(4),
        ntpFraction: view.getUint32(8),
        rtpTimestamp: view.getUint32(12),
        packetCount: view.getUint32(16),
        octetCount: view.getUint32(20),
        reports: readReports(view, 24, count),
      };
      if (body.length > need) sr.extension = body.subarray(need);
      return sr;
    }
    case RTCP_PACKET_TYPE.RR: {
      const need = 4 + count * REPORT_BLOCK_SIZE;
      if (body.length < need) {
        throw fail("malformed", `RR of ${body.length} bytes needs ${need}`);
      }
      const rr: RtcpReceiverReport = {
        kind: "rr",
        ssrc: view.getUint32(0),
        reports: readReports(view, 4, count),
      };
      if (body.length > need) rr.extension = body.subarray(need);
      return rr;
    }
    case RTCP_PACKET_TYPE.SDES:
      return { kind: "sdes", chunks: readSdes(body, view, count) };
    case RTCP_PACKET_TYPE.BYE: {
      if (body.length < 4 * count) {
        throw fail(
          "malformed",
          `BYE of ${body.length} bytes for ${count} sources`,
        );
      }
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(view.getUint32(4 * i));
      const bye: RtcpBye = { kind: "bye", ssrcs };
      const at = 4 * count;
      if (at < body.length) {
        const length = body[at]!;
        if (at + 1 + length > body.length) {
          throw fail(
            "truncated",
            `BYE reason of ${length} bytes runs past the end`,
          );
        }
        bye.reason = utf8Decoder.decode(body.subarray(at + 1, at + 1 + length));
      }
      return bye;
    }
    default:
      return { kind: "raw", packetType: type, count, body };
  }
}

function readReports(
  view: DataView,
  at: number,
  count: number,
): RtcpReportBlock[] {
  const reports: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK_SIZE) {
    const lost = view.getUint32(at + 4);
    const cumulative = lost & 0xffffff;
    reports.push({
      ssrc: view.getUint32(at),
      fractionLost: lost >>> 24,
      cumulativeLost: cumulative & 0x800000
        ? cumulative - 0x1000000
        : cumulative,
      highestSequence: view.getUint32(at + 8),
      jitter: view.getUint32(at + 12),
      lastSenderReport: view.getUint32(at + 16),
      delaySinceLastSenderReport: view.getUint32(at + 20),
    });
  }
  return reports;
}

/** SDES chunks (§6.5): SSRC, items (type, length, text) up to a null item, padded to 32 bits. */
function readSdes(
  body: Uint8Array,
  view: DataView,
  count: number,
): RtcpSdesChunk[] {
  const chunks: RtcpSdesChunk[] = [];
  let pos = 0;
  for (let c = 0; c < count; c++) {
    if (pos + 4 > body.length) {
      throw fail("truncated", `SDES chunk ${c} runs past the end`);
    }
    const chunk: RtcpSdesChunk = { ssrc: view.getUint32(pos), items: [] };
    pos += 4;
    // Items until a null octet; some senders end the last chunk at the packet end instead.
    while (pos < body.length && body[pos] !== 0) {
      if (pos + 2 > body.length) {
        throw fail("truncated", "SDES item header runs past the end");
      }
      const length = body[pos + 1]!;
      const end = pos + 2 + length;
      if (end > body.length) {
        throw fail(
          "truncated",
          `SDES item of ${length} bytes runs past the end`,
        );
      }
      chunk.items.push({
        type: body[pos]!,
        text: utf8Decoder.decode(body.subarray(pos + 2, end)),
      });
      pos = end;
    }
    pos = (pos + 4) & ~3; // the null octet(s) up to the next 32-bit boundary
    chunks.push(chunk);
  }
  return chunks;
}

/** Encodes RTCP packets as one compound packet in one exact allocation, without padding. */
export function encodeRtcp(
  packets: readonly RtcpPacket[],
): Uint8Array<ArrayBuffer> {
  const encoded = packets.map(encodeParts);
  let size = 0;
  for (const e of encoded) size += HEADER_SIZE + e.bodySize;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const e of encoded) {
    out[pos] = 0x80 | e.count;
    out[pos + 1] = e.type;
    view.setUint16(pos + 2, e.bodySize / 4);
    e.write(out, view, pos + HEADER_SIZE);
    pos += HEADER_SIZE + e.bodySize;
  }
  return out;
}

interface EncodedParts {
  type: number;
  count: number;
  /** A multiple of 4. */
  bodySize: number;
  write(out: Uint8Array, view: DataView, at: number): void;
}

function encodeParts(p: RtcpPacket): EncodedParts {
  switch (p.kind) {
    case "sr":
    case "rr": {
      checkCount("report blocks", p.reports.length);
      const extension = p.extension ?? new Uint8Array(0);
      checkWords("extension", extension.length);
      const info = p.kind === "sr" ? SENDER_INFO_SIZE : 0;
      return {
        type: p.kind === "sr" ? RTCP_PACKET_TYPE.SR : RTCP_PACKET_TYPE.RR,
        count: p.reports.length,
        bodySize: 4 + info + REPORT_BLOCK_SIZE * p.reports.length +
          extension.length,
        write(out, view, at) {
          view.setUint32(at, p.ssrc >>> 0);
          at += 4;
          if (p.kind === "sr") {
            view.setUint32(at, p.ntpSeconds >>> 0);
            view.setUint32(at + 4, p.ntpFraction >>> 0);
            view.setUint32(at + 8, p.rtpTimestamp >>> 0);
            view.setUint32(at + 12, p.packetCount >>> 0);
            view.setUint32(at + 16, p.octetCount >>> 0);
            at += SENDER_INFO_SIZE;
          }
          for (const r of p.reports) {
            view.setUint32(at, r.ssrc >>> 0);
            view.setUint32(
              at + 4,
              ((r.fractionLost & 0xff) << 24 |
                (r.cumulativeLost & 0xffffff)) >>> 0,
            );
            view.setUint32(at + 8, r.highestSequence >>> 0);
            view.setUint32(at + 12, r.jitter >>> 0);
            view.setUint32(at + 16, r.lastSenderReport >>> 0);
            view.setUint32(at + 20, r.delaySinceLastSenderReport >>> 0);
            at += REPORT_BLOCK_SIZE;
          }
          out.set(extension, at);
        },
      };
    }
    case "sdes": {
      checkCount("SDES chunks", p.chunks.length);
      const chunks = p.chunks.map((c) => ({
        ssrc: c.ssrc,
        items: c.items.map((item) => {
          const text = utf8Encoder.encode(item.text);
          if (text.length > 255) {
            throw new RangeError(
              `Cannot encode SDES item: ${text.length} bytes exceed 255`,
            );
          }
          if (item.type < 1 || item.type > 255) {
            throw new RangeError(
              `Cannot encode SDES item: type "${item.type}" is not 1 to 255`,
            );
          }
          return { type: item.type, text };
        }),
      }));
      let bodySize = 0;
      for (const c of chunks) {
        let n = 4;
        for (const item of c.items) n += 2 + item.text.length;
        bodySize += (n + 4) & ~3; // at least one null octet, then to the boundary
      }
      return {
        type: RTCP_PACKET_TYPE.SDES,
        count: chunks.length,
        bodySize,
        write(out, view, at) {
          for (const c of chunks) {
            const start = at;
            view.setUint32(at, c.ssrc >>> 0);
            at += 4;
            for (const item of c.items) {
              out[at] = item.type;
              out[at + 1] = item.text.length;
              out.set(item.text, at + 2);
              at += 2 + item.text.length;
            }
            at = start + ((at - start + 4) & ~3); // zeros are already there
          }
        },
      };
    }
    case "bye": {
      checkCount("BYE sources", p.ssrcs.length);
      const reason = p.reason === undefined
        ? undefined
        : utf8Encoder.encode(p.reason);
      if (reason && reason.length > 255) {
        throw new RangeError(
          `Cannot encode BYE: reason of ${reason.length} bytes exceeds 255`,
        );
      }
      const raw = 4 * p.ssrcs.length + (reason ? 1 + reason.length : 0);
      return {
        type: RTCP_PACKET_TYPE.BYE,
        count: p.ssrcs.length,
        bodySize: (raw + 3) & ~3,
        write(out, view, at) {
          for (const s of p.ssrcs) {
            view.setUint32(at, s >>> 0);
            at += 4;
          }
          if (reason) {
            out[at] = reason.length;
            out.set(reason, at + 1);
          }
        },
      };
    }
    case "raw": {
      checkCount("count field", p.count);
      checkWords("body", p.body.length);
      return {
        type: p.packetType & 0xff,
        count: p.count,
        bodySize: p.body.length,
        write: (out, _view, at) => out.set(p.body, at),
      };
    }
  }
}

function checkCount(what: string, n: number): void {
  if (n > MAX_COUNT) {
    throw new RangeError(`Cannot encode RTCP packet: ${n} ${what} exceed 31`);
  }
}

function checkWords(what: string, n: number): void {
  if (n % 4 !== 0 || n > 0x3fffc) {
    throw new RangeError(
      `Cannot encode RTCP packet: ${what} of ${n} bytes is not whole words`,
    );
  }
}

/** An NTP timestamp as two 32-bit words. */
export interface NtpTime {
  ntpSeconds: number;
  ntpFraction: number;
}

/** The NTP timestamp (RFC 3550 §4) of a Unix time in milliseconds. */
export function msToNtp(unixMs: number): NtpTime {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.round(((unixMs - seconds * 1000) / 1000) * 0x100000000);
  if (fraction >= 0x100000000) {
    return {
      ntpSeconds: (seconds + 1 + NTP_UNIX_OFFSET_SECONDS) >>> 0,
      ntpFraction: 0,
    };
  }
  return {
    ntpSeconds: (seconds + NTP_UNIX_OFFSET_SECONDS) >>> 0,
    ntpFraction: fraction,
  };
}

/**
 * The Unix time in milliseconds of an NTP timestamp (era 0: 1900–2036; values
 * below 2^31 seconds are taken as era 1, after February 2036).
 */
export function ntpToMs(ntpSeconds: number, ntpFraction: number): number {
  const era = ntpSeconds < 0x80000000 ? 0x100000000 : 0;
  return (ntpSeconds + era - NTP_UNIX_OFFSET_SECONDS) * 1000 +
    (ntpFraction / 0x100000000) * 1000;
}

/**
 * The middle 32 bits of an NTP timestamp: what a receiver report echoes as
 * LSR (RFC 3550 §6.4.1).
 */
export function ntpMiddle32(ntpSeconds: number, ntpFraction: number): number {
  return (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode RTCP packet: ${detail}`, {
    protocol: "rtp",
    code,
  });
}
