/**
 * RTP and RTCP: the packet codecs (RFC 3550), a reorder buffer for UDP, the
 * payload formats that turn packets into frames of the media model and back
 * (H.264 RFC 6184, H.265 RFC 7798, AAC RFC 3640 / MP4A-LATM, Opus, G.711),
 * decode-time rebuilding for B-frames, and RTP/NTP timing.
 *
 * @example Packetize an H.264 frame and depacketize it again
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRtpPacket, H264Depacketizer, H264Packetizer } from "./mod.ts";
 * import type { Frame } from "../media/mod.ts";
 *
 * const sps = new Uint8Array([0x67, 0x42, 0xc0, 0x1e]);
 * const pps = new Uint8Array([0x68, 0xce, 0x3c, 0x80]);
 * const idr = new Uint8Array(3000).fill(0x11);
 * idr[0] = 0x65;
 * const packets: Uint8Array[] = [];
 * new H264Packetizer({ timestampOffset: 0 }).push(
 *   { trackId: 0, dts: 90000, pts: 90000, keyframe: true, units: [sps, pps, idr] },
 *   { enqueue: (p) => packets.push(p) },
 * );
 * assert.equal(packets.length, 4); // STAP-A (SPS, PPS), then FU-A start, middle, end
 * const frames: Frame[] = [];
 * const depacketizer = new H264Depacketizer();
 * for (const p of packets) depacketizer.push(decodeRtpPacket(p), { enqueue: (f) => frames.push(f) });
 * assert.deepEqual(frames[0]!.units, [sps, pps, idr]);
 * assert.equal(frames[0]!.pts, 90000);
 * ```
 *
 * @module
 */
export * from "./packet.ts";
export * from "./rtcp.ts";
export * from "./reorder.ts";
export * from "./h264.ts";
export * from "./h265.ts";
export * from "./dts.ts";
export * from "./aac.ts";
export * from "./latm.ts";
export * from "./opus.ts";
export * from "./g711.ts";
export * from "./timing.ts";
export { AudioPacketizer, type AudioPacketizerOptions } from "./_audio.ts";
export {
  NAL_RTP_CLOCK_RATE,
  type NalDepacketizerOptions,
  type NalPacketizerOptions,
  type NalRtpPacket,
} from "./_nal_payload.ts";
