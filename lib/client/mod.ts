/**
 * Clients: reach out to other servers to pull or push a stream.
 *
 * @module
 */
export * from "./rtmp.ts";
export * from "./rtsp/client.ts";
export * from "./rtsp/register.ts";
