/**
 * RTP packets, RFC 3550 §5.1.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             |  CC × 32 bits
 * | defined by profile            |           length              |  if X (§5.3.1)
 * |                        header extension                       |  length × 32 bits
 * |                            payload  …  padding | pad count    |  if P
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

/** Bytes of the fixed RTP header (no CSRCs, no extension). */
export const RTP_HEADER_SIZE = 12;
/** The only RTP version, RFC 3550 §5.1. */
export const RTP_VERSION = 2;

/** A header extension, RFC 3550 §5.3.1. */
export interface RtpHeaderExtension {
  /** The 16 bits "defined by profile" (0xBEDE for RFC 8285 one-byte headers). */
  profile: number;
  /** The extension words, a view of the packet. */
  data: Uint8Array;
}

/** One RTP packet; `payload` (and extension data) are views of the decoded bytes. */
export interface RtpPacket {
  /** Bytes of padding after the payload, the count byte included; 0 for none. */
  padding: number;
  extension?: RtpHeaderExtension;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  payload: Uint8Array;
}

/** The fields {@link writeRtpHeader} writes: a 12-byte header without CSRCs or extension. */
export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/**
 * Decodes one RTP packet. Bounds are checked against the header: a CSRC list
 * or extension running past the end is `truncated`, another version or a
 * padding count larger than the payload is `malformed`.
 *
 * @example Decode a packet
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRtpPacket } from "./packet.ts";
 *
 * const p = decodeRtpPacket(new Uint8Array([0x80, 0xe0, 0, 7, 0, 0, 0, 90, 0, 0, 0, 1, 0x65]));
 * assert.equal(p.marker, true);
 * assert.equal(p.payloadType, 96);
 * assert.equal(p.sequenceNumber, 7);
 * assert.deepEqual([...p.payload], [0x65]);
 * ```
 */
export function decodeRtpPacket(bytes: Uint8Array): RtpPacket {
  if (bytes.length < RTP_HEADER_SIZE) {
    throw fail(
      "truncated",
      `${bytes.length} bytes is shorter than the 12-byte header`,
    );
  }
  const b0 = bytes[0]!;
  const version = b0 >> 6;
  if (version !== RTP_VERSION) {
    throw fail("malformed", `version ${version} is not 2`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const csrcCount = b0 & 0x0f;
  let pos = RTP_HEADER_SIZE + 4 * csrcCount;
  if (pos > bytes.length) {
    throw fail(
      "truncated",
      `${csrcCount} CSRCs run past the end of ${bytes.length} bytes`,
    );
  }
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) {
    csrcs.push(view.getUint32(RTP_HEADER_SIZE + 4 * i));
  }
  let extension: RtpHeaderExtension | undefined;
  if (b0 & 0x10) {
    if (pos + 4 > bytes.length) {
      throw fail("truncated", "no room for the extension header");
    }
    const profile = view.getUint16(pos);
    const words = view.getUint16(pos + 2);
    const end = pos + 4 + 4 * words;
    if (end > bytes.length) {
      throw fail("truncated", `extension of ${words} words runs past the end`);
    }
    extension = { profile, data: bytes.subarray(pos + 4, end) };
    pos = end;
  }
  let end = bytes.length;
  let padding = 0;
  if (b0 & 0x20) {
    padding = bytes[bytes.length - 1]!;
    if (padding === 0 || padding > end - pos) {
      throw fail(
        "malformed",
        `padding of ${padding} bytes with ${end - pos} after the header`,
      );
    }
    end -= padding;
  }
  const packet: RtpPacket = {
    padding,
    marker: (bytes[1]! & 0x80) !== 0,
    payloadType: bytes[1]! & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    payload: bytes.subarray(pos, end),
  };
  if (extension) packet.extension = extension;
  return packet;
}

/** Bytes {@link encodeRtpPacket} writes for `packet`. */
export function rtpPacketSize(packet: RtpPacket): number {
  const ext = packet.extension ? 4 + packet.extension.data.length : 0;
  return RTP_HEADER_SIZE + 4 * packet.csrcs.length + ext +
    packet.payload.length + packet.padding;
}

/**
 * Encodes an RTP packet in one exact allocation. Padding is written as zeros
 * and the count byte; extension data must be whole 32-bit words.
 */
export function encodeRtpPacket(packet: RtpPacket): Uint8Array<ArrayBuffer> {
  const { csrcs, extension, padding } = packet;
  if (csrcs.length > 15) {
    throw new RangeError(
      `Cannot encode RTP packet: ${csrcs.length} CSRCs exceed 15`,
    );
  }
  if (
    extension &&
    (extension.data.length % 4 !== 0 || extension.data.length > 0x3fffc)
  ) {
    throw new RangeError(
      `Cannot encode RTP packet: extension of ${extension.data.length} bytes is not whole words`,
    );
  }
  if (!Number.isInteger(padding) || padding < 0 || padding > 255) {
    throw new RangeError(
      `Cannot encode RTP packet: padding "${padding}" is not 0 to 255`,
    );
  }
  const out = new Uint8Array(rtpPacketSize(packet));
  let pos = writeRtpHeader(out, 0, packet);
  out[0] = out[0]! | (padding > 0 ? 0x20 : 0) | (extension ? 0x10 : 0) |
    csrcs.length;
  const view = new DataView(out.buffer);
  for (const csrc of csrcs) {
    view.setUint32(pos, csrc >>> 0);
    pos += 4;
  }
  if (extension) {
    view.setUint16(pos, extension.profile);
    view.setUint16(pos + 2, extension.data.length / 4);
    out.set(extension.data, pos + 4);
    pos += 4 + extension.data.length;
  }
  out.set(packet.payload, pos);
  if (padding > 0) out[out.length - 1] = padding;
  return out;
}

/**
 * Writes the 12-byte fixed header (no padding, extension or CSRCs) at
 * `offset` and returns the offset after it: the packetizers' hot path.
 */
export function writeRtpHeader(
  buf: Uint8Array,
  offset: number,
  header: RtpHeaderFields,
): number {
  const { sequenceNumber: seq, timestamp: ts, ssrc } = header;
  buf[offset] = RTP_VERSION << 6;
  buf[offset + 1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  buf[offset + 2] = (seq >>> 8) & 0xff;
  buf[offset + 3] = seq & 0xff;
  buf[offset + 4] = ts >>> 24;
  buf[offset + 5] = (ts >>> 16) & 0xff;
  buf[offset + 6] = (ts >>> 8) & 0xff;
  buf[offset + 7] = ts & 0xff;
  buf[offset + 8] = ssrc >>> 24;
  buf[offset + 9] = (ssrc >>> 16) & 0xff;
  buf[offset + 10] = (ssrc >>> 8) & 0xff;
  buf[offset + 11] = ssrc & 0xff;
  return offset + RTP_HEADER_SIZE;
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode RTP packet: ${detail}`, {
    protocol: "rtp",
    code,
  });
}

/** What a depacketizer reads of a packet: marker, timestamp, sequence number and payload. */
export type RtpPayloadPacket = Pick<
  RtpPacket,
  "marker" | "timestamp" | "sequenceNumber" | "payload"
>;
