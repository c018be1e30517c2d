/**
 * Egress: frames of the hub into wire packets, encoded once per stream and
 * format, and the bounded queues that carry them to each reader.
 *
 * @module
 */
export * from "./packet.ts";
export * from "./reader_queue.ts";
export * from "./reader_lag.ts";
export * from "./tick.ts";
export * from "./flv_output.ts";
export * from "./rtp_output.ts";
export * from "./rtp_srtp.ts";
export * from "./hls_output.ts";
