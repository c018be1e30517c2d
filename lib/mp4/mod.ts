/**
 * ISO base media file format (MP4) writing for Sluice's media model: the
 * CMAF init segment and `moof`+`mdat` fragments that recordings and HLS
 * share, `styp` and `sidx` for segments, and a progressive fast-start MP4.
 *
 * @example Fragment an AAC track
 * ```ts
 * import assert from "node:assert/strict";
 * import { Mp4Fragmenter } from "./mod.ts";
 *
 * const fragmenter = new Mp4Fragmenter([{
 *   kind: "audio", id: 1, codec: "AAC", clockRate: 48000, sampleRate: 48000,
 *   channels: 2, config: new Uint8Array([0x11, 0x90]),
 * }]);
 * const type = (b: Uint8Array, at = 4) => new TextDecoder().decode(b.subarray(at, at + 4));
 * assert.equal(type(fragmenter.init), "ftyp");
 * for (let i = 0; i < 3; i++) {
 *   fragmenter.push({ trackId: 1, dts: i * 1024, pts: i * 1024, keyframe: true, units: [new Uint8Array(10)] });
 * }
 * const fragment = fragmenter.flush()!; // the third frame waits for its duration
 * assert.equal(type(fragment.bytes), "moof");
 * assert.deepEqual(fragment.tracks.map((t) => [t.samples, t.duration]), [[2, 2048]]);
 * assert.equal(fragmenter.end()!.tracks[0]!.duration, 1024); // as long as the one before
 * ```
 *
 * @module
 */
export { box, fullBox } from "./box.ts";
export { SAMPLE_FLAGS, sampleFlags } from "./sample.ts";
export { avcc, videoSampleEntry } from "./video_entry.ts";
export { audioSampleEntry, dops, esds, OBJECT_TYPE } from "./audio_entry.ts";
export { MOVIE_TIMESCALE, type Mp4Track, mp4Tracks } from "./movie.ts";
export {
  encodeInitSegment,
  INIT_BRANDS,
  type InitSegmentOptions,
} from "./init.ts";
export { codecString } from "./codec_string.ts";
export * from "./fragment.ts";
export * from "./fragmenter.ts";
export * from "./file.ts";
