/**
 * AAC over RTP as `mpeg4-generic`, RFC 3640 (AAC-hbr §3.3.6, AAC-lbr
 * §3.3.5, and the generic AU-header fields of §3.2.1).
 *
 * ```
 * +---------+-----------+-----------+---------------+
 * | RTP     | AU Header | Auxiliary | Access Unit   |
 * | Header  | Section   | Section   | Data Section  |
 * +---------+-----------+-----------+---------------+
 * AU Header Section: AU-headers-length (16, in bits) | AU-header (1) … AU-header (n) | padding to a byte
 * AU-header: AU-size (sizeLength) | AU-Index (indexLength) or AU-Index-delta (indexDeltaLength)
 *   | [CTS-flag (1) | CTS-delta] | [DTS-flag (1) | DTS-delta] | [RAP-flag (1)] | [Stream-state]
 * Auxiliary Section: auxiliary-data-size (auxiliaryDataSizeLength) | data | padding to a byte
 * ```
 *
 * A packet carries several whole AUs, or one fragment of one AU (§3.2.3):
 * every fragment repeats the AU-header with the size of the whole AU, and
 * the marker bit is set on the last one.
 *
 * @module
 */
import { concat } from "@std/bytes";
import { type Sink, StageStream } from "../stage.ts";
import type { AudioTrack, Frame } from "../media/mod.ts";
import {
  AudioPacketizer,
  type AudioPacketizerOptions,
  PacketWriter,
  rtpError,
} from "./_audio.ts";
import { HBR_INDEX_LENGTH, HBR_SIZE_LENGTH } from "./_aac_fmtp.ts";

export { type AacFmtp, aacFmtp, aacRtpmap, parseAacFmtp } from "./_aac_fmtp.ts";
export {
  AacDepacketizer,
  type AacDepacketizerOptions,
  AacDepacketizerStream,
} from "./_aac_depacketizer.ts";

/** Options of {@link AacPacketizer}. */
export type AacPacketizerOptions = AudioPacketizerOptions;

/**
 * AAC frames → `mpeg4-generic` RTP packets in AAC-hbr mode ({@link aacFmtp}):
 * one AU per packet, fragmented when it does not fit `maxPacketSize`. Each
 * output is one whole packet, encoded once.
 *
 * @example One AU, one packet
 * ```ts
 * import assert from "node:assert/strict";
 * import { AacPacketizer } from "./aac.ts";
 * import { decodeRtpPacket } from "./packet.ts";
 *
 * const track = { kind: "audio", id: 1, codec: "AAC", clockRate: 48000, sampleRate: 48000, channels: 2 } as const;
 * const packets: Uint8Array[] = [];
 * new AacPacketizer(track, { timestampOffset: 0 }).push(
 *   { trackId: 1, dts: 1024, pts: 1024, keyframe: true, units: [new Uint8Array([0x21, 0x10])] },
 *   { enqueue: (p) => packets.push(p) },
 * );
 * const p = decodeRtpPacket(packets[0]!);
 * assert.equal(p.timestamp, 1024);
 * assert.deepEqual([...p.payload], [0x00, 0x10, 0x00, 0x10, 0x21, 0x10]);
 * ```
 */
export class AacPacketizer extends AudioPacketizer {
  /** AU-headers-length (16 bits: one header) and the AU-header, reused per packet. */
  readonly #head = new Uint8Array(4);

  constructor(track: AudioTrack, options: AacPacketizerOptions = {}) {
    if (track.codec !== "AAC") {
      throw new RangeError(
        `Cannot packetize AAC: track codec is ${track.codec}`,
      );
    }
    super(new PacketWriter(track.clockRate, options, 96));
    this.#head[1] = HBR_SIZE_LENGTH + HBR_INDEX_LENGTH;
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const au = frame.units.length === 1 ? frame.units[0]! : concat(frame.units);
    if (au.length === 0) return;
    if (au.length >= 1 << HBR_SIZE_LENGTH) {
      throw rtpError(
        "packetize AAC",
        "limit",
        `AU of ${au.length} bytes exceeds the 8191 of AAC-hbr`,
      );
    }
    const head = this.#head;
    head[2] = au.length >>> 5; // AU-size (13 bits) | AU-Index 0 (3 bits)
    head[3] = (au.length << 3) & 0xff;
    const ts = this.writer.stamper.timestamp(frame.pts);
    const room = this.writer.maxPayloadSize - head.length;
    if (au.length <= room) {
      out.enqueue(this.writer.write(true, ts, head, au));
      return;
    }
    for (let at = 0; at < au.length; at += room) {
      const end = Math.min(at + room, au.length);
      out.enqueue(
        this.writer.write(end === au.length, ts, head, au.subarray(at, end)),
      );
    }
  }
}

/** {@link AacPacketizer} as a `TransformStream`. */
export class AacPacketizerStream extends StageStream<Frame, Uint8Array> {
  constructor(track: AudioTrack, options?: AacPacketizerOptions) {
    super(new AacPacketizer(track, options));
  }
}
