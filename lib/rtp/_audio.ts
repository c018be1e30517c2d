/**
 * What the audio payload formats share: the packet fields a depacketizer
 * reads, the packet writer of the packetizers, and fmtp helpers.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { RTP_HEADER_SIZE, writeRtpHeader } from "./packet.ts";
import { randomRtpTimestamp, RtpTimestamper } from "./timing.ts";
import type { Frame } from "../media/mod.ts";
import type { Sink, StageCore } from "../stage.ts";

/** The fields of an RTP packet the audio depacketizers read. */
import type { RtpPayloadPacket } from "./packet.ts";
import { headroomOf, packetBuffer } from "./_packet_buffer.ts";
export type { RtpPayloadPacket };

/** Options every audio packetizer takes (the names of the H.264/H.265 packetizers). */
export interface AudioPacketizerOptions {
  /** @default the format's static type, else 96 */
  payloadType?: number;
  /** @default a random 32-bit number (RFC 3550 §8) */
  ssrc?: number;
  /** Sequence number of the first packet. @default a random 16-bit number (RFC 3550 §5.1) */
  sequenceNumber?: number;
  /** RTP timestamp of pts 0. @default a random 32-bit number (RFC 3550 §5.1) */
  timestampOffset?: number;
  /** Largest RTP packet in bytes, the 12-byte header included. @default {1400} */
  maxPacketSize?: number;
  /**
   * Bytes left free in front of each packet, in the same buffer: a framing
   * that goes before the packet on the wire (RTSP's interleaved header) is
   * written there, without a copy of the packet. @default {0}
   */
  headroom?: number;
}

/** Default {@link AudioPacketizerOptions.maxPacketSize}: a 1500-byte MTU less IP, UDP and room for a VPN. */
export const DEFAULT_MAX_PACKET_SIZE = 1400;

/** Writes the packets of one outgoing track: its SSRC, sequence numbers and timestamps. */
export class PacketWriter {
  readonly payloadType: number;
  readonly ssrc: number;
  readonly stamper: RtpTimestamper;
  /** Largest payload that fits in one packet. */
  readonly maxPayloadSize: number;
  #sequenceNumber: number;
  readonly #headroom: number;
  packetCount = 0;
  octetCount = 0;
  lastTimestamp: number | undefined;

  constructor(
    trackClockRate: number,
    options: AudioPacketizerOptions & { rtpClockRate?: number },
    defaultPayloadType: number,
  ) {
    this.payloadType = options.payloadType ?? defaultPayloadType;
    if (
      !Number.isInteger(this.payloadType) || this.payloadType < 0 ||
      this.payloadType > 127
    ) {
      throw new RangeError(
        `Cannot packetize: payloadType "${this.payloadType}" is not 0 to 127`,
      );
    }
    this.ssrc = (options.ssrc ?? randomRtpTimestamp()) >>> 0;
    this.#sequenceNumber = (options.sequenceNumber ?? randomRtpTimestamp()) &
      0xffff;
    const stamperOptions: { rtpClockRate?: number; initialTimestamp?: number } =
      {};
    if (options.rtpClockRate !== undefined) {
      stamperOptions.rtpClockRate = options.rtpClockRate;
    }
    if (options.timestampOffset !== undefined) {
      stamperOptions.initialTimestamp = options.timestampOffset;
    }
    this.stamper = new RtpTimestamper(trackClockRate, stamperOptions);
    const max = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!Number.isInteger(max) || max < RTP_HEADER_SIZE + 8 || max > 0xffff) {
      throw new RangeError(
        `Cannot packetize: maxPacketSize "${max}" is not 20 to 65535`,
      );
    }
    this.maxPayloadSize = max - RTP_HEADER_SIZE;
    this.#headroom = headroomOf(options.headroom);
  }

  /** The sequence number of the next packet. */
  get sequenceNumber(): number {
    return this.#sequenceNumber;
  }

  /**
   * One packet in one exact allocation: the header, then `head` (a payload
   * header, may be empty), then `body`.
   */
  write(
    marker: boolean,
    timestamp: number,
    head: Uint8Array,
    body: Uint8Array,
  ): Uint8Array<ArrayBuffer> {
    const size = head.length + body.length;
    const out = packetBuffer(this.#headroom, RTP_HEADER_SIZE + size);
    writeRtpHeader(out, 0, {
      marker,
      payloadType: this.payloadType,
      sequenceNumber: this.#sequenceNumber,
      timestamp,
      ssrc: this.ssrc,
    });
    this.#sequenceNumber = (this.#sequenceNumber + 1) & 0xffff;
    this.packetCount++;
    this.octetCount += size;
    this.lastTimestamp = timestamp;
    out.set(head, RTP_HEADER_SIZE);
    out.set(body, RTP_HEADER_SIZE + head.length);
    return out;
  }
}

/**
 * What the audio packetizers share: frames in, whole encoded packets out
 * (one allocation each, written to every reader as they are), and the
 * numbers RTSP `RTP-Info` and RTCP Sender Reports need.
 */
export abstract class AudioPacketizer implements StageCore<Frame, Uint8Array> {
  /** Stamps and writes the packets. */
  protected readonly writer: PacketWriter;

  constructor(writer: PacketWriter) {
    this.writer = writer;
  }

  /** SSRC of the packets. */
  get ssrc(): number {
    return this.writer.ssrc;
  }
  /** Payload type of the packets. */
  get payloadType(): number {
    return this.writer.payloadType;
  }
  /** Sequence number of the next packet (RTSP `RTP-Info: seq=`). */
  get sequenceNumber(): number {
    return this.writer.sequenceNumber;
  }
  /** Frame ticks → RTP timestamps (`RTP-Info: rtptime=`, `SenderReportClock`). */
  get timestamper(): RtpTimestamper {
    return this.writer.stamper;
  }
  /** Packets sent, for RTCP Sender Reports. */
  get packetCount(): number {
    return this.writer.packetCount;
  }
  /** Payload bytes sent (RTP headers not counted), for RTCP Sender Reports. */
  get octetCount(): number {
    return this.writer.octetCount;
  }
  /** RTP timestamp of the last packet; undefined before one. */
  get lastTimestamp(): number | undefined {
    return this.writer.lastTimestamp;
  }

  /** Packetizes one frame of the track. */
  abstract push(frame: Frame, out: Sink<Uint8Array>): void;
}

/** An empty payload header for {@link PacketWriter.write}. */
export const NO_HEAD: Uint8Array = new Uint8Array(0);

/** A `ProtocolError` of the RTP payload formats: "Cannot <action>: <detail>". */
export function rtpError(
  action: string,
  code: ProtocolErrorCode,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot ${action}: ${detail}`, {
    protocol: "rtp",
    code,
  });
}

/** A `ProtocolError` of an SDP fmtp line. */
export function fmtpError(detail: string): ProtocolError {
  return new ProtocolError(`Cannot parse fmtp: ${detail}`, {
    protocol: "sdp",
    code: "malformed",
  });
}

/** fmtp parameters by lowercase name (RFC 4566 §6: names are case-insensitive). */
export function lowerKeys(
  params: Readonly<Record<string, string>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(params)) {
    out.set(k.trim().toLowerCase(), v.trim());
  }
  return out;
}

/** A non-negative integer fmtp parameter, or `fallback` when absent. */
export function intParam(
  params: Map<string, string>,
  name: string,
  fallback: number,
  max = 0xffff_ffff,
): number {
  const text = params.get(name);
  if (text === undefined || text === "") return fallback;
  if (!/^\d+$/.test(text) || Number(text) > max) {
    throw fmtpError(`${name} "${text}" is not an integer from 0 to ${max}`);
  }
  return Number(text);
}

/** Bytes of a hex fmtp value (`config=`). */
export function hexParam(name: string, text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw fmtpError(`${name} "${text}" is not hex`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Lowercase hex of bytes, as fmtp `config=` carries them. */
export function toHexParam(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Whether `seq` follows `prev` directly (16-bit wrap). */
export function follows(prev: number | undefined, seq: number): boolean {
  return prev !== undefined && ((prev + 1) & 0xffff) === seq;
}
