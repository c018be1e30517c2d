/**
 * G.711 over RTP, RFC 3551 §4.5.14: PCMU (static payload type 0) and PCMA
 * (8), one byte per sample and channel, interleaved (§4.5.14 and §4.1), on a
 * clock equal to the sample rate: 8 kHz mono for the static types, other
 * rates and channels with a dynamic type and an rtpmap such as `PCMA/16000/2`.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { AudioTrack, Frame } from "../media/mod.ts";
import {
  AudioPacketizer,
  type AudioPacketizerOptions,
  NO_HEAD,
  PacketWriter,
  rtpError,
  type RtpPayloadPacket,
} from "./_audio.ts";
import { RtpTimestampUnwrapper } from "./timing.ts";

/** Static payload types of G.711, RFC 3551 Table 4. */
export const G711_PAYLOAD_TYPE = { PCMU: 0, PCMA: 8 } as const;
/** Clock rate of the static payload types. */
export const G711_CLOCK_RATE = 8000;

/** The static payload type of a track (8 kHz mono), or undefined when it needs a dynamic one. */
export function g711PayloadType(track: AudioTrack): number | undefined {
  if (track.codec !== "PCMU" && track.codec !== "PCMA") return undefined;
  if (track.clockRate !== G711_CLOCK_RATE || track.channels !== 1) {
    return undefined;
  }
  return G711_PAYLOAD_TYPE[track.codec];
}

/** The `a=rtpmap` encoding of a G.711 track: `PCMU/8000`, `PCMA/16000/2`. */
export function g711Rtpmap(track: AudioTrack): string {
  const channels = track.channels > 1 ? `/${track.channels}` : "";
  return `${track.codec}/${track.clockRate}${channels}`;
}

/** Options of {@link G711Depacketizer}. */
export interface G711DepacketizerOptions {
  /** `Frame.trackId` of the frames. @default {0} */
  trackId?: number;
  /** RTP clock rate, also the frames' clock. @default {8000} */
  clockRate?: number;
}

/**
 * RTP packets of a PCMU or PCMA stream → frames: one per packet, the
 * packet's samples, dts the unwrapped packet timestamp. Empty payloads are
 * skipped.
 */
export class G711Depacketizer implements StageCore<RtpPayloadPacket, Frame> {
  readonly #trackId: number;
  readonly #unwrapper: RtpTimestampUnwrapper;

  constructor(options: G711DepacketizerOptions = {}) {
    this.#trackId = options.trackId ?? 0;
    this.#unwrapper = new RtpTimestampUnwrapper(
      options.clockRate ?? G711_CLOCK_RATE,
    );
  }

  push(packet: RtpPayloadPacket, out: Sink<Frame>): void {
    const ts = this.#unwrapper.ticks(packet.timestamp);
    if (packet.payload.length === 0) return;
    out.enqueue({
      trackId: this.#trackId,
      dts: ts,
      pts: ts,
      keyframe: true,
      units: [packet.payload],
    });
  }
}

/** Options of {@link G711Packetizer}. */
export interface G711PacketizerOptions extends AudioPacketizerOptions {
  /** Audio per packet, in milliseconds (RFC 3551 §4.5: 20 ms by default). @default {20} */
  packetMs?: number;
}

/**
 * PCMU/PCMA frames → RTP packets of `packetMs` of audio each (fewer when
 * `maxPacketSize` says so), cut on whole samples of all channels, each
 * stamped with the time of its first sample. The marker bit is set on the
 * first packet (RFC 3551 §4.1). The payload type is the static one for
 * 8 kHz mono, else 96.
 *
 * @example 40 ms of PCMU in 20 ms packets
 * ```ts
 * import assert from "node:assert/strict";
 * import { G711Packetizer } from "./g711.ts";
 * import { decodeRtpPacket } from "./packet.ts";
 *
 * const track = { kind: "audio", id: 0, codec: "PCMU", clockRate: 8000, sampleRate: 8000, channels: 1 } as const;
 * const packets: Uint8Array[] = [];
 * new G711Packetizer(track, { timestampOffset: 0 }).push(
 *   { trackId: 0, dts: 0, pts: 0, keyframe: true, units: [new Uint8Array(320).fill(0xff)] },
 *   { enqueue: (p) => packets.push(p) },
 * );
 * assert.deepEqual(packets.map((p) => decodeRtpPacket(p).timestamp), [0, 160]);
 * assert.equal(decodeRtpPacket(packets[0]!).payloadType, 0);
 * ```
 */
export class G711Packetizer extends AudioPacketizer {
  readonly #channels: number;
  readonly #bytesPerPacket: number;
  #first = true;

  constructor(track: AudioTrack, options: G711PacketizerOptions = {}) {
    if (track.codec !== "PCMU" && track.codec !== "PCMA") {
      throw new RangeError(
        `Cannot packetize G.711: track codec is ${track.codec}`,
      );
    }
    if (!(track.channels >= 1)) {
      throw new RangeError(
        `Cannot packetize G.711: ${track.channels} channels`,
      );
    }
    super(
      new PacketWriter(track.clockRate, options, g711PayloadType(track) ?? 96),
    );
    this.#channels = track.channels;
    const samples = Math.max(
      1,
      Math.floor((track.clockRate * (options.packetMs ?? 20)) / 1000),
    );
    const fit = Math.floor(this.writer.maxPayloadSize / track.channels);
    if (fit < 1) {
      throw new RangeError(
        "Cannot packetize G.711: maxPacketSize below one sample",
      );
    }
    this.#bytesPerPacket = Math.min(samples, fit) * track.channels;
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const samples = frame.units.length === 1
      ? frame.units[0]!
      : concat(frame.units);
    if (samples.length % this.#channels !== 0) {
      throw rtpError(
        "packetize G.711",
        "malformed",
        `${samples.length} bytes are not whole samples of ${this.#channels} channels`,
      );
    }
    for (let at = 0; at < samples.length; at += this.#bytesPerPacket) {
      const end = Math.min(at + this.#bytesPerPacket, samples.length);
      const ts = this.writer.stamper.timestamp(frame.pts + at / this.#channels);
      out.enqueue(
        this.writer.write(this.#first, ts, NO_HEAD, samples.subarray(at, end)),
      );
      this.#first = false;
    }
  }
}

/** {@link G711Depacketizer} as a `TransformStream`. */
export class G711DepacketizerStream
  extends StageStream<RtpPayloadPacket, Frame> {
  constructor(options?: G711DepacketizerOptions) {
    super(new G711Depacketizer(options));
  }
}

/** {@link G711Packetizer} as a `TransformStream`. */
export class G711PacketizerStream extends StageStream<Frame, Uint8Array> {
  constructor(track: AudioTrack, options?: G711PacketizerOptions) {
    super(new G711Packetizer(track, options));
  }
}
