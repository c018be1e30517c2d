/**
 * Ingest: a protocol's media into frames of the hub (RTMP messages, RTP and
 * RTCP packets).
 *
 * @module
 */
export * from "./rtmp_input.ts";
export * from "./rtp_input.ts";
