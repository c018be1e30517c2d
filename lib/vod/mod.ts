/**
 * Files on demand: a confined media folder, file sources (mediabunny for
 * MP4/MOV, fMP4, Matroska/WebM, MPEG-TS, ADTS, MP3; Sluice's own FLV and
 * raw H.264/H.265 readers), per-reader players paced by one timer wheel,
 * and the private streams the servers serve them through.
 *
 * @module
 */

export * from "./source.ts";
export * from "./folder.ts";
export * from "./player.ts";
export * from "./wheel.ts";
export * from "./vod.ts";
export * from "./hls.ts";
export * from "./hls_index.ts";
export * from "./hls_segment.ts";
export { openFlv } from "./flv_source.ts";
export { openMediabunny } from "./mediabunny_source.ts";
export { esCodecOf, openEs } from "./es_source.ts";
