/**
 * Sockets: TCP and TLS listen/connect and batched writers.
 *
 * @module
 */
export * from "./tcp.ts";
export * from "./tls.ts";
export * from "./batch_writer.ts";
export * from "./udp.ts";
export * from "./datagram_writer.ts";
export * from "./body_sink.ts";
export * from "./read_loop.ts";
