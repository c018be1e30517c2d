/**
 * SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80, and the MIKEY
 * messages (RFC 3830, RFC 4567 `a=key-mgmt:mikey`) RTSP peers carry the key
 * in. No MKI.
 *
 * @example Protect an RTP packet and read it back with the key from MIKEY
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMikey, encodeMikey, randomMasterKey, SrtpContext } from "./mod.ts";
 *
 * const master = randomMasterKey();
 * const sender = new SrtpContext(master);
 * const rtp = new Uint8Array([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3]);
 * const srtp = sender.protectRtp(rtp);
 * assert.equal(srtp.length, rtp.length + 10); // the 80-bit tag
 *
 * const { master: received } = decodeMikey(encodeMikey(master, { sessions: [{ ssrc: 7, roc: 0 }] }));
 * const receiver = new SrtpContext(received);
 * assert.deepEqual(receiver.unprotectRtp(srtp), rtp);
 * assert.throws(() => receiver.unprotectRtp(srtp), { name: "SrtpError", reason: "replay" });
 * ```
 *
 * @module
 */
export * from "./keys.ts";
export * from "./context.ts";
export * from "./replay.ts";
export * from "./mikey.ts";
export * from "./mikey_decode.ts";
