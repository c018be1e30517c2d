/**
 * RTP payload formats as SDP describes them: tracks of the media model to
 * and from `rtpmap`/`fmtp`, and the packetizer or depacketizer each needs.
 *
 * @module
 */
export * from "./tracks.ts";
