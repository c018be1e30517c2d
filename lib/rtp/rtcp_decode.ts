/**
 * Decoding of compound RTCP packets (RFC 3550 §6): SR, RR, SDES and BYE
 * read, other packet types kept raw, every length checked first.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import {
  HEADER_SIZE,
  REPORT_BLOCK_SIZE,
  RTCP_PACKET_TYPE,
  type RtcpBye,
  type RtcpPacket,
  type RtcpReceiverReport,
  type RtcpReportBlock,
  type RtcpSdesChunk,
  type RtcpSenderReport,
  SENDER_INFO_SIZE,
} from "./rtcp_packet.ts";

const utf8Decoder = new TextDecoder();

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

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode RTCP packet: ${detail}`, {
    protocol: "rtp",
    code,
  });
}
