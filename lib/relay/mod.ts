/**
 * Relays: sources pulled into paths (always or on demand) and paths pushed
 * to other servers, over RTSP and RTMP, each reconnecting with backoff.
 *
 * @module
 */
export * from "./relays.ts";
export * from "./registrations.ts";
