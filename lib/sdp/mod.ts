/**
 * Session descriptions (RFC 8866): a parser tolerant of what cameras send and
 * a writer, such that parse → stringify → parse gives the same object.
 *
 * @example A camera's DESCRIBE reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmtpParam, parseSdp, stringifySdp } from "./mod.ts";
 *
 * const sdp = parseSdp([
 *   "v=0",
 *   "o=- 2251938508 2251938508 IN IP4 0.0.0.0",
 *   "s=Media Server",
 *   "t=0 0",
 *   "a=control:*",
 *   "m=video 0 RTP/AVP 96",
 *   "a=control:trackID=0",
 *   "a=rtpmap:96 H264/90000",
 *   "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z01AKKaAeAIn5UAA,aO48gAA=",
 * ].join("\n"));
 * const video = sdp.media[0]!;
 * assert.deepEqual(video.rtpmap.get(96), { encoding: "H264", clockRate: 90000 });
 * assert.equal(fmtpParam(video.fmtp.get(96), "Sprop-Parameter-Sets"), "Z01AKKaAeAIn5UAA,aO48gAA=");
 * assert.equal(video.control, "trackID=0");
 * assert.deepEqual(parseSdp(stringifySdp(sdp)), sdp);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./parse.ts";
export * from "./stringify.ts";
