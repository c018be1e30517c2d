/**
 * AAC in SDP: Sluice sends `mpeg4-generic` (RFC 3640, AAC-hbr) and reads it
 * and `MP4A-LATM` (RFC 6416), with the packetizer and depacketizers of `rtp/`.
 *
 * @module
 */

import type { AudioTrack } from "../media/track.ts";
import {
  AacDepacketizer,
  aacFmtp,
  AacPacketizer,
  aacRtpmap,
  parseAacFmtp,
} from "../rtp/aac.ts";
import { LatmDepacketizer, parseLatmFmtp } from "../rtp/latm.ts";
import {
  type AudioFormat,
  type ReadTrack,
  type Rtpmap,
  rtpmapOf,
  trackPacketizer,
} from "./_codec_format.ts";

/** AAC: its SDP descriptions and RTP payload formats. */
export const AAC_FORMAT: AudioFormat = {
  codecs: ["AAC"],
  encodings: ["MPEG4-GENERIC", "MP4A-LATM"],
  describe: (track) => ({
    rtpmap: rtpmapOf(aacRtpmap(track)),
    fmtp: aacFmtp(track),
  }),
  read: (rtpmap, params, id) =>
    rtpmap.encoding === "MP4A-LATM"
      ? readLatm(rtpmap, params, id)
      : readGeneric(rtpmap, params, id),
  packetizer(track, base) {
    const p = new AacPacketizer(track, base);
    return trackPacketizer(p, (pts) => p.timestamper.timestamp(pts));
  },
};

/** `mpeg4-generic`: the AudioSpecificConfig is the fmtp's `config`. */
function readGeneric(
  { clockRate, channels }: Rtpmap,
  params: Record<string, string>,
  id: number,
): ReadTrack {
  const fmtp = parseAacFmtp(params);
  const track = aacTrack(
    id,
    clockRate,
    fmtp.sampleRate,
    fmtp.channels ?? channels,
    fmtp.config,
  );
  return {
    track,
    depacketizer: () =>
      new AacDepacketizer({ ...fmtp, trackId: id, clockRate }),
  };
}

/** `MP4A-LATM`: the AudioSpecificConfig is inside the StreamMuxConfig. */
function readLatm(
  { clockRate, channels }: Rtpmap,
  params: Record<string, string>,
  id: number,
): ReadTrack {
  const fmtp = parseLatmFmtp(params);
  const track = aacTrack(
    id,
    clockRate,
    fmtp.sampleRate,
    fmtp.channels ?? channels,
    fmtp.config?.audioSpecificConfig,
  );
  return {
    track,
    depacketizer: () =>
      new LatmDepacketizer({
        trackId: id,
        clockRate,
        cpresent: fmtp.cpresent,
        config: fmtp.config,
      }),
  };
}

/** An AAC track on the RTP clock; rate and channels from the config when it gave them. */
function aacTrack(
  id: number,
  clockRate: number,
  sampleRate: number | undefined,
  channels: number | undefined,
  config: Uint8Array | undefined,
): AudioTrack {
  return {
    kind: "audio",
    id,
    codec: "AAC",
    clockRate,
    sampleRate: sampleRate ?? clockRate,
    channels: channels ?? 1,
    config,
  };
}
