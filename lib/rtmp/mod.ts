/**
 * RTMP on the wire (Adobe RTMP specification 1.0): the handshake, the chunk
 * stream demuxer and muxer, protocol control messages and user control
 * events, and commands.
 *
 * @example Chunks in, messages out
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkDemuxer, ChunkMuxer, MESSAGE_TYPE, type RtmpMessage } from "./mod.ts";
 *
 * const video: RtmpMessage = {
 *   chunkStreamId: 7,
 *   typeId: MESSAGE_TYPE.VIDEO,
 *   timestamp: 40,
 *   streamId: 1,
 *   payload: new Uint8Array(300),
 * };
 * const wire: Uint8Array[] = [];
 * new ChunkMuxer().push(video, { enqueue: (b) => wire.push(b) });
 * assert.equal(wire[0]!.length, 12 + 300 + 2); // type-0 header, two type-3 headers
 *
 * const messages: RtmpMessage[] = [];
 * new ChunkDemuxer().push(wire[0]!, { enqueue: (m) => messages.push(m) });
 * assert.deepEqual(messages, [video]);
 * ```
 *
 * @example One encoding for many players
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage, MESSAGE_TYPE } from "./mod.ts";
 *
 * const bytes = encodeMessage(
 *   { chunkStreamId: 6, typeId: MESSAGE_TYPE.AUDIO, timestamp: 0x1000000, streamId: 1, payload: new Uint8Array(200) },
 *   128,
 * );
 * // type 0 with the extended timestamp, then type 3 repeating it (§5.3.1.3)
 * assert.equal(bytes.length, 12 + 4 + 200 + 1 + 4);
 * ```
 *
 * @module
 */
export * from "./message.ts";
export * from "./handshake.ts";
export * from "./chunk_demuxer.ts";
export * from "./chunk_muxer.ts";
export * from "./control.ts";
export * from "./command.ts";
export * from "./url.ts";
export * from "./status.ts";
