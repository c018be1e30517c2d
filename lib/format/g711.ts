/**
 * G.711 in SDP: PCMU and PCMA at 8 kHz mono have static payload types (RFC
 * 3551 Table 4), other rates and channel counts a dynamic one with an rtpmap;
 * with the packetizer and depacketizer of `rtp/`.
 *
 * @module
 */

import {
  G711_CLOCK_RATE,
  G711Depacketizer,
  G711Packetizer,
  g711PayloadType,
  g711Rtpmap,
} from "../rtp/g711.ts";
import {
  type AudioFormat,
  type Rtpmap,
  rtpmapOf,
  trackPacketizer,
} from "./_codec_format.ts";

/** Payload types of RFC 3551 Table 4 that need no rtpmap. */
const STATIC_RTPMAP: ReadonlyMap<number, Rtpmap> = new Map([
  [0, { encoding: "PCMU", clockRate: G711_CLOCK_RATE, channels: 1 }],
  [8, { encoding: "PCMA", clockRate: G711_CLOCK_RATE, channels: 1 }],
]);

/** G.711 (PCMU, PCMA): its SDP description and RTP payload format. */
export const G711_FORMAT: AudioFormat = {
  codecs: ["PCMA", "PCMU"],
  encodings: ["PCMA", "PCMU"],
  staticPayloadType: g711PayloadType,
  staticRtpmap: (payloadType) => STATIC_RTPMAP.get(payloadType),
  describe: (track) => ({ rtpmap: rtpmapOf(g711Rtpmap(track)) }),
  read: ({ encoding, clockRate, channels }, _params, id) => ({
    track: {
      kind: "audio",
      id,
      codec: encoding === "PCMU" ? "PCMU" : "PCMA",
      clockRate,
      sampleRate: clockRate,
      channels: channels ?? 1,
    },
    depacketizer: () => new G711Depacketizer({ trackId: id, clockRate }),
  }),
  packetizer(track, base) {
    const p = new G711Packetizer(track, base);
    return trackPacketizer(p, (pts) => p.timestamper.timestamp(pts));
  },
};
