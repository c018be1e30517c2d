/**
 * The media model every protocol converts to and from.
 *
 * @module
 */
export * from "./track.ts";
export * from "./frame.ts";
export * from "./time.ts";
