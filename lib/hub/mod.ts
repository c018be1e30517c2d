/**
 * The hub: paths to streams, GOP caches and bounded reader queues.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./stream.ts";
export * from "./gop_cache.ts";
export * from "./reader_queue.ts";
