/**
 * AAC helpers: AudioSpecificConfig and ADTS.
 *
 * @module
 */
export * from "./asc.ts";
export * from "./adts.ts";
export * from "./latm.ts";
