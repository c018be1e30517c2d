/**
 * Codec helpers: NAL units and parameter sets (H.264, H.265), configuration
 * records (avcC, hvcC, av1C, vpcC), AudioSpecificConfig and ADTS, MPEG audio
 * and Opus headers. Pure functions over bytes; bad input is a
 * `ProtocolError` with `protocol: "codec"`.
 *
 * @module
 */
export * from "./nal_units.ts";
export * from "./h264/nal.ts";
export * from "./h264/sps.ts";
export * from "./h264/avcc.ts";
export * from "./h265/mod.ts";
export * from "./aac/mod.ts";
export * from "./mp3/mod.ts";
export * from "./opus/mod.ts";
export * from "./av1/mod.ts";
export * from "./vp9/mod.ts";
