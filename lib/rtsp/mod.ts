/**
 * RTSP on the wire (RFC 2326, with RFC 7826 where they agree): the
 * connection framer for requests, responses and `$` interleaved frames, the
 * message encoders, header values, and URL helpers.
 *
 * @example One connection, three kinds of message
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeInterleaved, encodeRequest, RtspFramer, type RtspFramed } from "./mod.ts";
 *
 * const wire = [
 *   encodeRequest({ method: "OPTIONS", url: "rtsp://127.0.0.1:8554/live", headers: { CSeq: 1 } }),
 *   encodeInterleaved(0, new Uint8Array([0x80, 0x60, 0x00, 0x01])),
 *   encodeRequest({ method: "GET_PARAMETER", url: "rtsp://127.0.0.1:8554/live", headers: [["CSeq", "2"]], body: "ping" }),
 * ];
 * const got: RtspFramed[] = [];
 * const framer = new RtspFramer();
 * for (const bytes of wire) framer.push(bytes, { enqueue: (m) => got.push(m) });
 * assert.deepEqual(got.map((m) => m.kind), ["request", "interleaved", "request"]);
 * assert.equal(got[2]?.kind === "request" && got[2].headers.get("cseq"), "2");
 * ```
 *
 * @example A bad request gets its status
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeResponse, RtspError, RtspFramer } from "./mod.ts";
 *
 * const framer = new RtspFramer();
 * const request = new TextEncoder().encode("ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 999999999\r\n");
 * let status = 0;
 * try {
 *   framer.push(request, { enqueue() {} });
 * } catch (e) {
 *   if (!(e instanceof RtspError)) throw e;
 *   status = e.status ?? 400;
 * }
 * assert.equal(status, 413);
 * const reply = new TextDecoder().decode(encodeResponse({ status }));
 * assert.equal(reply, "RTSP/1.0 413 Request Entity Too Large\r\n\r\n");
 * ```
 *
 * @example RTSP over HTTP tunnelling: a POST body of requests, each base64 on its own
 * ```ts
 * import assert from "node:assert/strict";
 * import { Base64Decoder, encodeBase64, encodeRequest, RtspFramer, type RtspFramed } from "./mod.ts";
 *
 * const body = [
 *   encodeRequest({ method: "OPTIONS", url: "rtsp://127.0.0.1:8554/live", headers: { CSeq: 1 } }),
 *   encodeRequest({ method: "DESCRIBE", url: "rtsp://127.0.0.1:8554/live", headers: { CSeq: 2 } }),
 * ].map(encodeBase64);
 * const decoder = new Base64Decoder();
 * const framer = new RtspFramer();
 * const got: RtspFramed[] = [];
 * const sink = { enqueue: (m: RtspFramed) => got.push(m) };
 * // "=" padding ends the first request mid-stream; TCP cuts anywhere.
 * for (const piece of [body[0]!.subarray(0, 5), body[0]!.subarray(5), body[1]!]) {
 *   decoder.push(piece, { enqueue: (bytes) => framer.push(bytes, sink) });
 * }
 * assert.deepEqual(got.map((m) => m.kind === "request" && m.method), ["OPTIONS", "DESCRIBE"]);
 * ```
 *
 * @module
 */
export { RtspError, type RtspErrorOptions } from "./error.ts";
export * from "./message.ts";
export * from "./framer.ts";
export * from "./interleaved.ts";
export * from "./url.ts";
export * from "./headers/mod.ts";
export * from "./base64.ts";
export * from "./tunnel.ts";
