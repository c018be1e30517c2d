/**
 * Opus helpers: the OpusHead identification header and the TOC byte.
 *
 * @module
 */
export * from "./head.ts";
