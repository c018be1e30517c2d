/**
 * H.264 or H.265 access units → RTP packets: single NAL unit packets,
 * aggregation packets (STAP-A / AP) of small units and fragmentation units
 * (FU-A / FU) of big ones. Private to `rtp/`.
 *
 * @module
 */

import type { Sink, StageCore } from "../stage.ts";
import { type Frame, type ParameterSets, rescale } from "../media/mod.ts";
import { RTP_HEADER_SIZE, writeRtpHeader } from "./packet.ts";
import { randomRtpTimestamp } from "./timing.ts";
import {
  FU_END,
  FU_START,
  NAL_RTP_CLOCK_RATE,
  type NalFormat,
} from "./_nal_format.ts";
import { ParameterSetStore } from "./_parameter_sets.ts";
import { headroomOf, packetBuffer } from "./_packet_buffer.ts";

/** Options of the packetizers. */
export interface NalPacketizerOptions {
  /** @default {96} */
  payloadType?: number;
  /** @default a random 32-bit number (RFC 3550 §8) */
  ssrc?: number;
  /** Sequence number of the first packet. @default a random 16-bit number (RFC 3550 §5.1) */
  sequenceNumber?: number;
  /** RTP timestamp of pts 0. @default a random 32-bit number (RFC 3550 §5.1) */
  timestampOffset?: number;
  /** Clock of the frames' pts. @default {90000} */
  clockRate?: number;
  /**
   * Largest RTP packet in bytes, the 12-byte header included (UDP and IP
   * headers not), at most 65535: 1400 leaves room for them and a VPN.
   * @default {1400}
   */
  maxPacketSize?: number;
  /** Put small consecutive NAL units (SPS, PPS, SEI) into one STAP-A / AP. @default {true} */
  aggregate?: boolean;
  /** Parameter sets put before keyframes that lack them (RTMP sources send them out of band). */
  parameterSets?: ParameterSets;
  /**
   * Bytes left free in front of each packet, in the same buffer: a framing
   * that goes before the packet on the wire (RTSP's interleaved header) is
   * written there, without a copy of the packet. @default {0}
   */
  headroom?: number;
}

/**
 * Access units → RTP packets, each one fully encoded in one exact
 * allocation, so the server writes the same bytes to every reader. A NAL
 * unit that fits goes alone (or aggregated with its small neighbours), a
 * bigger one in fragmentation units; the last packet of the access unit
 * has the marker bit.
 */
export class NalPacketizer implements StageCore<Frame, Uint8Array> {
  readonly #format: NalFormat;
  readonly #payloadType: number;
  readonly #clockRate: number;
  readonly #timestampOffset: number;
  readonly #maxPayload: number;
  readonly #aggregate: boolean;
  readonly #sets: ParameterSetStore;
  readonly #headroom: number;
  #sequence: number;
  /** SSRC of the packets. */
  readonly ssrc: number;
  /** Packets sent, for RTCP sender reports. */
  packetCount = 0;
  /** Payload bytes sent (RTP headers not counted), for RTCP sender reports. */
  octetCount = 0;
  /** RTP timestamp of the last frame, for RTCP sender reports; undefined before one. */
  lastTimestamp: number | undefined;

  constructor(format: NalFormat, options: NalPacketizerOptions = {}) {
    this.#format = format;
    this.#payloadType = options.payloadType ?? 96;
    this.ssrc = (options.ssrc ?? randomRtpTimestamp()) >>> 0;
    this.#sequence = (options.sequenceNumber ?? randomRtpTimestamp()) & 0xffff;
    this.#timestampOffset =
      (options.timestampOffset ?? randomRtpTimestamp()) >>> 0;
    this.#clockRate = options.clockRate ?? NAL_RTP_CLOCK_RATE;
    const maxPacketSize = options.maxPacketSize ?? 1400;
    // Room for the header, an FU header and one byte of data.
    if (
      !Number.isInteger(maxPacketSize) ||
      maxPacketSize < RTP_HEADER_SIZE + 2 * format.headerSize + 2 ||
      maxPacketSize > 0xffff
    ) {
      throw new RangeError(
        `Cannot create ${format.name} packetizer: maxPacketSize "${maxPacketSize}" is too small`,
      );
    }
    if (
      !Number.isInteger(this.#payloadType) || this.#payloadType < 0 ||
      this.#payloadType > 127
    ) {
      throw new RangeError(
        `Cannot create ${format.name} packetizer: payloadType "${this.#payloadType}" is not 0 to 127`,
      );
    }
    this.#maxPayload = maxPacketSize - RTP_HEADER_SIZE;
    this.#aggregate = options.aggregate ?? true;
    this.#sets = new ParameterSetStore(format, options.parameterSets);
    this.#headroom = headroomOf(options.headroom);
  }

  /** Sequence number of the next packet. */
  get sequenceNumber(): number {
    return this.#sequence;
  }

  /** The RTP timestamp of a pts in the frames' clock. */
  timestampOf(pts: number): number {
    return (rescale(pts, this.#clockRate, NAL_RTP_CLOCK_RATE) +
      this.#timestampOffset) >>> 0;
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const f = this.#format;
    this.#sets.observe(frame.units);
    const units =
      (frame.keyframe ? this.#sets.complete(frame.units) : frame.units).filter((
        u,
      ) => u.length > 0);
    if (units.length === 0) return;
    const timestamp = this.timestampOf(frame.pts);
    this.lastTimestamp = timestamp;
    const packets: Uint8Array[] = [];
    const max = this.#maxPayload;
    for (let i = 0; i < units.length;) {
      const nal = units[i]!;
      if (this.#aggregate) {
        // As many following units as fit with their 2-byte sizes after the payload header.
        let size = f.headerSize + 2 + nal.length;
        let j = i + 1;
        while (j < units.length && size + 2 + units[j]!.length <= max) {
          size += 2 + units[j++]!.length;
        }
        if (j - i >= 2) {
          const p = this.#packet(size, timestamp);
          f.aggregationHeader(units, i, j, p, RTP_HEADER_SIZE);
          let pos = RTP_HEADER_SIZE + f.headerSize;
          for (let k = i; k < j; k++) {
            const u = units[k]!;
            p[pos] = u.length >> 8;
            p[pos + 1] = u.length & 0xff;
            p.set(u, pos + 2);
            pos += 2 + u.length;
          }
          packets.push(p);
          i = j;
          continue;
        }
      }
      if (nal.length <= max) {
        const p = this.#packet(nal.length, timestamp);
        p.set(nal, RTP_HEADER_SIZE);
        packets.push(p);
      } else {
        this.#fragments(nal, timestamp, packets);
      }
      i++;
    }
    const last = packets[packets.length - 1]!;
    last[1] = last[1]! | 0x80; // marker: the last packet of the access unit
    for (const p of packets) out.enqueue(p);
  }

  #fragments(nal: Uint8Array, timestamp: number, packets: Uint8Array[]): void {
    const f = this.#format;
    const overhead = f.headerSize + 1;
    const room = this.#maxPayload - overhead;
    const type = f.type(nal) & f.fragmentTypeMask;
    for (let pos = f.headerSize; pos < nal.length; pos += room) {
      const piece = nal.subarray(pos, Math.min(nal.length, pos + room));
      const p = this.#packet(overhead + piece.length, timestamp);
      f.fragmentHeader(nal, p, RTP_HEADER_SIZE);
      const start = pos === f.headerSize ? FU_START : 0;
      const end = pos + piece.length === nal.length ? FU_END : 0;
      p[RTP_HEADER_SIZE + f.headerSize] = start | end | type;
      p.set(piece, RTP_HEADER_SIZE + overhead);
      packets.push(p);
    }
  }

  /** A packet of `payloadSize` bytes after its header, the header written (marker clear). */
  #packet(payloadSize: number, timestamp: number): Uint8Array<ArrayBuffer> {
    const p = packetBuffer(this.#headroom, RTP_HEADER_SIZE + payloadSize);
    writeRtpHeader(p, 0, {
      marker: false,
      payloadType: this.#payloadType,
      sequenceNumber: this.#sequence,
      timestamp,
      ssrc: this.ssrc,
    });
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.packetCount++;
    this.octetCount += payloadSize;
    return p;
  }
}
