/**
 * The hub: paths to streams and their GOP caches; frames only.
 *
 * @module
 */
export * from "./hub.ts";
export * from "./stream.ts";
export * from "./gop_cache.ts";
