/**
 * Sluice: a live media server and the protocol stages it is built from.
 *
 * Every stage is a synchronous core (`push(chunk, sink)`) plus a
 * `TransformStream` face, so it runs in any WebStreams runtime:
 *
 * @example Decode RTMP chunks from a socket's bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkDemuxerStream, encodeMessage, MESSAGE_TYPE } from "./mod.ts";
 *
 * const wire = encodeMessage(
 *   { chunkStreamId: 6, typeId: MESSAGE_TYPE.VIDEO, timestamp: 40, streamId: 1, payload: new Uint8Array(300) },
 *   128,
 * );
 * const messages = await Array.fromAsync(
 *   ReadableStream.from([wire.subarray(0, 100), wire.subarray(100)]).pipeThrough(new ChunkDemuxerStream()),
 * );
 * assert.equal(messages.length, 1);
 * assert.equal(messages[0]!.payload.length, 300);
 * ```
 *
 * @example Turn FLV tags into media-model frames
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlvTagDemuxer, type FlvEvent } from "./mod.ts";
 *
 * const events: FlvEvent[] = [];
 * const demuxer = new FlvTagDemuxer();
 * // G.711 A-law, 8 kHz mono: one tag header byte, then samples
 * demuxer.push({ type: 8, timestamp: 20, data: new Uint8Array([0x72, 1, 2, 3]) }, { enqueue: (e) => events.push(e) });
 * assert.deepEqual(events.map((e) => e.kind), ["track", "frame"]);
 * ```
 *
 * @module
 */
export * from "./lib/bytes.ts";
export * from "./lib/binary.ts";
export * from "./lib/errors.ts";
export * from "./lib/path.ts";
export * from "./lib/stage.ts";
export * from "./lib/media/mod.ts";
export * from "./lib/codec/mod.ts";
export * from "./lib/amf/mod.ts";
export * from "./lib/rtmp/mod.ts";
export * from "./lib/flv/mod.ts";
export * from "./lib/sdp/mod.ts";
export * from "./lib/rtp/mod.ts";
export * from "./lib/rtsp/mod.ts";
export * from "./lib/srtp/mod.ts";
export * from "./lib/mp4/mod.ts";
export * from "./lib/hub/mod.ts";
export * from "./lib/client/mod.ts";
