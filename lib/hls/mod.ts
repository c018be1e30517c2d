/**
 * HLS and Low-Latency HLS (RFC 8216, draft-pantos-hls-rfc8216bis): frames
 * cut into parts and keyframe-aligned segments (CMAF fMP4 through the
 * shared MP4 fragmenter, or MPEG-TS), a sliding window bounded in count and
 * bytes, and the playlists that describe it. Pure: the wall clock arrives
 * with each frame, sockets and waiting live in the HTTP server.
 *
 * @example Two seconds of 25 fps H.264 as LL-HLS
 * ```ts
 * import assert from "node:assert/strict";
 * import { HlsSegmenter, renderMediaPlaylist } from "./mod.ts";
 *
 * const segmenter = new HlsSegmenter({ prefix: "a1b2c3d4" });
 * segmenter.setTracks([{
 *   kind: "video", id: 0, codec: "H264", clockRate: 90000,
 *   parameterSets: { sps: [new Uint8Array([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8])], pps: [new Uint8Array([0x68, 0xce, 0x3c, 0x80])] },
 * }]);
 * for (let i = 0; i <= 50; i++) {
 *   const key = i % 25 === 0;
 *   const frame = { trackId: 0, dts: i * 3600, pts: i * 3600, keyframe: key, units: [new Uint8Array([key ? 0x65 : 0x41, 0])] };
 *   segmenter.frame(frame, 1_700_000_000_000 + i * 40);
 * }
 * const text = segmenter.playlist("", renderMediaPlaylist);
 * assert.match(text, /#EXT-X-PART-INF:PART-TARGET=0.2/);
 * assert.match(text, /#EXTINF:1.0,\na1b2c3d4_1.mp4/);
 * assert.equal(segmenter.part(1, 0)!.length > 0, true);
 * ```
 *
 * @module
 */
export * from "./playlist.ts";
export * from "./part_writer.ts";
export * from "./segmenter.ts";
