/**
 * Opus in SDP (RFC 7587): `opus/48000/2` with `sprop-stereo`, and the
 * packetizer and depacketizer of `rtp/`.
 *
 * @module
 */

import {
  OpusDepacketizer,
  opusFmtp,
  OpusPacketizer,
  opusRtpmap,
  parseOpusFmtp,
} from "../rtp/opus.ts";
import {
  type AudioFormat,
  rtpmapOf,
  trackPacketizer,
} from "./_codec_format.ts";

/** Opus: its SDP description and RTP payload format. */
export const OPUS_FORMAT: AudioFormat = {
  codecs: ["OPUS"],
  encodings: ["OPUS"],
  describe: (track) => ({
    rtpmap: rtpmapOf(opusRtpmap()),
    fmtp: opusFmtp(track),
  }),
  // the rtpmap always says two channels: sprop-stereo tells what is sent
  read: (_rtpmap, params, id) => ({
    track: {
      kind: "audio",
      id,
      codec: "OPUS",
      clockRate: 48000,
      sampleRate: 48000,
      channels: parseOpusFmtp(params).channels,
    },
    depacketizer: () => new OpusDepacketizer({ trackId: id }),
  }),
  packetizer(track, base) {
    const p = new OpusPacketizer(track, base);
    return trackPacketizer(p, (pts) => p.timestamper.timestamp(pts));
  },
};
