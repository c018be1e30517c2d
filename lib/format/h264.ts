/**
 * H.264 in SDP (RFC 6184): `H264/90000` with `packetization-mode=1`,
 * `profile-level-id` and `sprop-parameter-sets`, and the RFC 6184 packetizer
 * and depacketizer of `rtp/`.
 *
 * @module
 */

import { parseSps } from "../codec/h264/sps.ts";
import { VIDEO_CLOCK_RATE } from "../media/track.ts";
import {
  H264Depacketizer,
  H264Packetizer,
  parseSpropParameterSets,
} from "../rtp/h264.ts";
import { trackPacketizer, type VideoFormat } from "./_codec_format.ts";
import { base64, hex, paramOf, spropSets, videoTrackOf } from "./_video.ts";

/** H.264: its SDP description and RTP payload format. */
export const H264_FORMAT: VideoFormat = {
  codecs: ["H264"],
  encodings: ["H264"],
  describe(track) {
    const sets = track.parameterSets;
    const params = ["packetization-mode=1"];
    const sps = sets?.sps[0];
    if (sps !== undefined && sps.length >= 4) {
      params.push(`profile-level-id=${hex(sps.subarray(1, 4))}`);
    }
    if (sets !== undefined && sets.sps.length > 0 && sets.pps.length > 0) {
      params.push(
        `sprop-parameter-sets=${
          [...sets.sps, ...sets.pps].map(base64).join(",")
        }`,
      );
    }
    return {
      rtpmap: { encoding: "H264", clockRate: VIDEO_CLOCK_RATE },
      fmtp: params.join(";"),
    };
  },
  read(_rtpmap, params, id) {
    const sets = spropSets(
      paramOf(params, "sprop-parameter-sets"),
      parseSpropParameterSets,
    );
    return {
      track: H264_FORMAT.videoTrack(id, sets),
      depacketizer: (onParameterSets) =>
        new H264Depacketizer({
          trackId: id,
          parameterSets: sets,
          onParameterSets,
        }),
    };
  },
  packetizer(track, base) {
    const p = new H264Packetizer({
      ...base,
      clockRate: track.clockRate,
      parameterSets: track.parameterSets,
    });
    return trackPacketizer(p, (pts) => p.timestampOf(pts));
  },
  videoTrack: (id, sets) => videoTrackOf("H264", id, sets, parseSps),
};
