/**
 * RTSP header values: Transport, Session, Range, RTP-Info, WWW-Authenticate
 * and Authorization (Basic, Digest MD5), CSeq, Public/Allow. Each parser
 * throws an `RtspError` whose `status` is the answer a server sends.
 *
 * @example A SETUP over TCP, answered
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransport, stringifyTransport } from "./mod.ts";
 *
 * const [offer] = parseTransport("RTP/AVP/TCP;unicast;interleaved=0-1;mode=receive");
 * assert.deepEqual(offer, { lowerTransport: "TCP", delivery: "unicast", interleaved: { rtp: 0, rtcp: 1 }, mode: "record" });
 * assert.equal(stringifyTransport({ ...offer!, ssrc: 0x1234abcd }), "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1234ABCD;mode=record");
 * ```
 *
 * @example Digest, as a camera challenges and ffmpeg answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestAuthorization, parseAuthorization, parseWwwAuthenticate, stringifyAuthorization, verifyDigest } from "./mod.ts";
 *
 * const [challenge] = parseWwwAuthenticate('Digest realm="cam", nonce="8f2c1e"');
 * assert.equal(challenge?.scheme, "Digest");
 * if (challenge?.scheme !== "Digest") throw new Error("unreachable");
 * const sent = stringifyAuthorization(
 *   digestAuthorization(challenge, { username: "admin", password: "pw", method: "DESCRIBE", uri: "rtsp://cam/live" }),
 * );
 * const received = parseAuthorization(sent);
 * assert.equal(received.scheme, "Digest");
 * if (received.scheme !== "Digest") throw new Error("unreachable");
 * assert.ok(verifyDigest(received, { password: "pw", method: "DESCRIBE" }));
 * assert.ok(!verifyDigest(received, { password: "guess", method: "DESCRIBE" }));
 * ```
 *
 * @module
 */
export * from "./transport.ts";
export * from "./session.ts";
export * from "./range.ts";
export * from "./rtp_info.ts";
export * from "./auth.ts";
export * from "./cseq.ts";
export * from "./register.ts";
