/**
 * H.264 helpers: NAL unit types, SPS, avcC, and NAL unit framing.
 *
 * @module
 */
export * from "./nal.ts";
export * from "./sps.ts";
export * from "./reorder.ts";
export * from "./avcc.ts";
export {
  splitAnnexB,
  splitLengthPrefixed,
  unescapeRbsp,
} from "../nal_units.ts";
