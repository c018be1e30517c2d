/**
 * Encoding of compound RTCP packets (RFC 3550 §6), sized first and written
 * into one exact allocation.
 *
 * @module
 */

import {
  HEADER_SIZE,
  MAX_COUNT,
  REPORT_BLOCK_SIZE,
  RTCP_PACKET_TYPE,
  type RtcpPacket,
  SENDER_INFO_SIZE,
} from "./rtcp_packet.ts";

const utf8Encoder = new TextEncoder();

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
