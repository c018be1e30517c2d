/**
 * Opus over RTP, RFC 7587: one Opus packet (RFC 6716 §3) per RTP packet, on
 * a 48 kHz clock whatever the audio bandwidth, `opus/48000/2` in the
 * rtpmap whatever the channel count (§7); the fmtp `sprop-stereo` says what
 * the sender sends, `stereo` what the receiver prefers.
 *
 * ```
 * TOC byte (RFC 6716 §3.1): config (5) | s: stereo (1) | c: frame count code (2)
 * c = 0: one frame; 1, 2: two frames; 3: frame count byte: v (1) | p (1) | M (6)
 * ```
 *
 * @module
 */

import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { AudioTrack, Frame } from "../media/mod.ts";
import { OPUS_CLOCK_RATE } from "../codec/opus/head.ts";
import {
  AudioPacketizer,
  type AudioPacketizerOptions,
  intParam,
  lowerKeys,
  NO_HEAD,
  PacketWriter,
  rtpError,
  type RtpPayloadPacket,
} from "./_audio.ts";
import { RtpTimestampUnwrapper } from "./timing.ts";

/** Longest Opus packet, RFC 6716 §3.2.5: 120 ms, in 48 kHz samples. */
const MAX_PACKET_SAMPLES = 5760;

/** Samples at 48 kHz of one frame by TOC config (RFC 6716 §3.1, Table 2). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!; // SILK: 10, 20, 40, 60 ms
  if (config < 16) return config & 1 ? 960 : 480; // Hybrid: 10, 20 ms
  return [120, 240, 480, 960][config & 3]!; // CELT: 2.5, 5, 10, 20 ms
}

/**
 * Duration of an Opus packet in 48 kHz samples, from its TOC byte (and
 * frame count byte); a packet that cannot be Opus is `malformed`.
 */
export function opusPacketDuration(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) {
    throw fail("malformed", "an empty packet has no TOC byte");
  }
  const code = toc & 0x03;
  let frames = code === 0 ? 1 : 2;
  if (code === 3) {
    const count = packet[1];
    if (count === undefined) {
      throw fail("malformed", "code 3 without a frame count byte");
    }
    frames = count & 0x3f;
    if (frames === 0) throw fail("malformed", "code 3 with 0 frames");
  }
  const samples = frames * frameSamples(toc >> 3);
  if (samples > MAX_PACKET_SAMPLES) {
    throw fail("malformed", `${samples} samples exceed 120 ms`);
  }
  return samples;
}

/** What the fmtp of an Opus stream says (RFC 7587 §7.1). */
export interface OpusFmtp {
  /** 2 when `sprop-stereo=1`, else 1 (a decoder may still get stereo). */
  channels: number;
}

/** Reads the fmtp parameters of an Opus stream (names in any case). */
export function parseOpusFmtp(
  params: Readonly<Record<string, string>>,
): OpusFmtp {
  const p = lowerKeys(params);
  return { channels: intParam(p, "sprop-stereo", 0, 1) === 1 ? 2 : 1 };
}

/** The `a=rtpmap` encoding of any Opus track (RFC 7587 §7: always two channels). */
export function opusRtpmap(): string {
  return `opus/${OPUS_CLOCK_RATE}/2`;
}

/** The `a=fmtp` parameters Sluice sends for an Opus track. */
export function opusFmtp(track: AudioTrack): string {
  const stereo = track.channels >= 2 ? 1 : 0;
  return `sprop-stereo=${stereo};stereo=${stereo}`;
}

/** Options of {@link OpusDepacketizer}. */
export interface OpusDepacketizerOptions {
  /** `Frame.trackId` of the frames. @default {0} */
  trackId?: number;
}

/**
 * RTP packets of an Opus stream → Opus frames (one packet each) on the
 * 48 kHz clock, dts unwrapped across 2^32. A payload whose TOC cannot be
 * Opus is `malformed`; an empty payload is skipped.
 */
export class OpusDepacketizer implements StageCore<RtpPayloadPacket, Frame> {
  readonly #trackId: number;
  readonly #unwrapper = new RtpTimestampUnwrapper(OPUS_CLOCK_RATE);

  constructor(options: OpusDepacketizerOptions = {}) {
    this.#trackId = options.trackId ?? 0;
  }

  push(packet: RtpPayloadPacket, out: Sink<Frame>): void {
    const ts = this.#unwrapper.ticks(packet.timestamp);
    if (packet.payload.length === 0) return;
    opusPacketDuration(packet.payload);
    out.enqueue({
      trackId: this.#trackId,
      dts: ts,
      pts: ts,
      keyframe: true,
      units: [packet.payload],
    });
  }
}

/** Options of {@link OpusPacketizer}. */
export type OpusPacketizerOptions = AudioPacketizerOptions;

/**
 * Opus frames → RTP packets, one per frame (RFC 7587 §4.2), stamped on the
 * 48 kHz clock; the marker bit is set on the first packet (the start of a
 * talkspurt, RFC 3551 §4.1). Opus packets are not fragmented: one larger
 * than `maxPacketSize` is `limit`.
 *
 * @example Opus round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpusDepacketizer, OpusPacketizer } from "./opus.ts";
 * import { decodeRtpPacket } from "./packet.ts";
 * import type { Frame } from "../media/mod.ts";
 *
 * const track = { kind: "audio", id: 0, codec: "OPUS", clockRate: 48000, sampleRate: 48000, channels: 2 } as const;
 * const frames: Frame[] = [];
 * const d = new OpusDepacketizer();
 * new OpusPacketizer(track, { timestampOffset: 0 }).push(
 *   { trackId: 0, dts: 960, pts: 960, keyframe: true, units: [new Uint8Array([0x7c, 0x01])] },
 *   { enqueue: (p) => d.push(decodeRtpPacket(p), { enqueue: (f) => frames.push(f) }) },
 * );
 * assert.equal(frames[0]!.dts, 960);
 * ```
 */
export class OpusPacketizer extends AudioPacketizer {
  #first = true;

  constructor(track: AudioTrack, options: OpusPacketizerOptions = {}) {
    if (track.codec !== "OPUS") {
      throw new RangeError(
        `Cannot packetize Opus: track codec is ${track.codec}`,
      );
    }
    super(
      new PacketWriter(track.clockRate, {
        ...options,
        rtpClockRate: OPUS_CLOCK_RATE,
      }, 96),
    );
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const unit = frame.units[0];
    if (unit === undefined || unit.length === 0) return;
    if (unit.length > this.writer.maxPayloadSize) {
      throw rtpError(
        "packetize Opus",
        "limit",
        `packet of ${unit.length} bytes exceeds ${this.writer.maxPayloadSize}`,
      );
    }
    const ts = this.writer.stamper.timestamp(frame.pts);
    out.enqueue(this.writer.write(this.#first, ts, NO_HEAD, unit));
    this.#first = false;
  }
}

/** {@link OpusDepacketizer} as a `TransformStream`. */
export class OpusDepacketizerStream
  extends StageStream<RtpPayloadPacket, Frame> {
  constructor(options?: OpusDepacketizerOptions) {
    super(new OpusDepacketizer(options));
  }
}

/** {@link OpusPacketizer} as a `TransformStream`. */
export class OpusPacketizerStream extends StageStream<Frame, Uint8Array> {
  constructor(track: AudioTrack, options?: OpusPacketizerOptions) {
    super(new OpusPacketizer(track, options));
  }
}

function fail(code: "malformed", detail: string) {
  return rtpError("read Opus packet", code, detail);
}
