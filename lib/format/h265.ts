/**
 * H.265 in SDP (RFC 7798): `H265/90000` with `sprop-vps`, `sprop-sps` and
 * `sprop-pps`, and the RFC 7798 packetizer and depacketizer of `rtp/`.
 *
 * @module
 */

import { parseH265Sps } from "../codec/h265/sps.ts";
import { VIDEO_CLOCK_RATE } from "../media/track.ts";
import {
  H265Depacketizer,
  H265Packetizer,
  parseSpropH265,
} from "../rtp/h265.ts";
import { trackPacketizer, type VideoFormat } from "./_codec_format.ts";
import { base64, paramOf, spropSets, videoTrackOf } from "./_video.ts";

/** H.265: its SDP description and RTP payload format. */
export const H265_FORMAT: VideoFormat = {
  codecs: ["H265"],
  encodings: ["H265"],
  describe(track) {
    const sets = track.parameterSets;
    const params: string[] = [];
    if (sets?.vps?.[0]) params.push(`sprop-vps=${base64(sets.vps[0])}`);
    if (sets?.sps[0]) params.push(`sprop-sps=${base64(sets.sps[0])}`);
    if (sets?.pps[0]) params.push(`sprop-pps=${base64(sets.pps[0])}`);
    return {
      rtpmap: { encoding: "H265", clockRate: VIDEO_CLOCK_RATE },
      fmtp: params.length > 0 ? params.join(";") : undefined,
    };
  },
  read(_rtpmap, params, id) {
    const sets = spropSets(
      paramOf(params, "sprop-sps"),
      () =>
        parseSpropH265({
          vps: paramOf(params, "sprop-vps"),
          sps: paramOf(params, "sprop-sps"),
          pps: paramOf(params, "sprop-pps"),
        }),
    );
    return {
      track: H265_FORMAT.videoTrack(id, sets),
      depacketizer: (onParameterSets) =>
        new H265Depacketizer({
          trackId: id,
          parameterSets: sets,
          onParameterSets,
        }),
    };
  },
  packetizer(track, base) {
    const p = new H265Packetizer({
      ...base,
      clockRate: track.clockRate,
      parameterSets: track.parameterSets,
    });
    return trackPacketizer(p, (pts) => p.timestampOf(pts));
  },
  // without a VPS the sets are incomplete: the track waits for them in-band
  videoTrack: (id, sets) =>
    videoTrackOf(
      "H265",
      id,
      (sets?.vps?.length ?? 0) > 0 ? sets : undefined,
      parseH265Sps,
    ),
};
