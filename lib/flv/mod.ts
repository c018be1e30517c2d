/**
 * FLV: tags ⇄ the media model (legacy and Enhanced RTMP bodies), and the FLV
 * file format for HTTP-FLV and recordings.
 *
 * @example Demux an FLV file into tracks and frames
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFlvTag, FlvDemuxer, flvHeader, FlvTagDemuxer, type FlvEvent, type FlvTag } from "./mod.ts";
 *
 * // G.711 A-law, 8 kHz mono: format 7 | 16-bit | mono = 0x72, then 4 samples
 * const file = new Uint8Array([
 *   ...flvHeader(true, false),
 *   ...encodeFlvTag({ type: 8, timestamp: 20, data: new Uint8Array([0x72, 1, 2, 3, 4]) }),
 * ]);
 * const tags: FlvTag[] = [];
 * new FlvDemuxer().push(file, { enqueue: (t) => tags.push(t) });
 * const events: FlvEvent[] = [];
 * const demuxer = new FlvTagDemuxer();
 * for (const tag of tags) demuxer.push(tag, { enqueue: (e) => events.push(e) });
 * assert.deepEqual(events.map((e) => e.kind), ["track", "frame"]);
 * const frame = events[1]!.kind === "frame" ? events[1]!.frame : undefined;
 * assert.equal(frame?.dts, 160); // 20 ms at 8 kHz
 * ```
 *
 * @module
 */
export * from "./tag.ts";
export * from "./tag_demuxer.ts";
export * from "./tag_muxer.ts";
export * from "./file.ts";
