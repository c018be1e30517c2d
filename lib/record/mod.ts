/**
 * Recording: live paths to fMP4 or FLV segments on disk, the index of what
 * was recorded, and reading recordings back as frames.
 *
 * @module
 */
export * from "./path_pattern.ts";
export * from "./segment_muxer.ts";
export * from "./flv_segment.ts";
export * from "./fmp4_segment.ts";
export * from "./record_output.ts";
export * from "./record_index.ts";
export * from "./segment_file.ts";
export * from "./path_sink.ts";
export * from "./recorder.ts";
export * from "./fmp4_read.ts";
export * from "./recording_reader.ts";
export * from "./scan.ts";
