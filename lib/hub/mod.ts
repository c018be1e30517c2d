/**
 * The hub: paths to streams and their GOP caches; frames only. Paths are
 * read from the wire by one function, {@link parsePath}.
 *
 * @module
 */
export * from "./hub.ts";
export * from "./stream.ts";
export * from "./gop_cache.ts";
export * from "./path.ts";
