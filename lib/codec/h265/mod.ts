/**
 * H.265 helpers: NAL unit types, SPS and hvcC.
 *
 * @module
 */
export * from "./nal.ts";
export * from "./sps.ts";
export * from "./reorder.ts";
export * from "./hvcc.ts";
