/**
 * MP3 (MPEG-1/2 audio) helpers: the frame header.
 *
 * @module
 */
export * from "./header.ts";
