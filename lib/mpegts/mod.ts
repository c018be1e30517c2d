/**
 * MPEG-2 transport streams (ISO/IEC 13818-1): the packets, tables and PES
 * headers of the HLS MPEG-TS variant, and the muxer that writes frames as
 * them.
 *
 * @example Two frames of H.264 and AAC as transport stream packets
 * ```ts
 * import assert from "node:assert/strict";
 * import { TsMuxer, TS_PACKET_SIZE } from "./mod.ts";
 *
 * const muxer = new TsMuxer([
 *   { kind: "video", id: 0, codec: "H264", clockRate: 90000 },
 *   { kind: "audio", id: 1, codec: "AAC", clockRate: 48000, sampleRate: 48000, channels: 2 },
 * ]);
 * const tables = muxer.tables();
 * const video = muxer.frame({ trackId: 0, dts: 0, pts: 0, keyframe: true, units: [new Uint8Array([0x65, 1, 2])] });
 * const audio = muxer.frame({ trackId: 1, dts: 0, pts: 0, keyframe: true, units: [new Uint8Array(10)] });
 * assert.equal(tables.length, 2 * TS_PACKET_SIZE);
 * assert.equal(video.length % TS_PACKET_SIZE, 0);
 * assert.equal(audio[0], 0x47);
 * ```
 *
 * @module
 */
export * from "./crc32.ts";
export * from "./packet.ts";
export * from "./psi.ts";
export * from "./pes.ts";
export * from "./muxer.ts";
