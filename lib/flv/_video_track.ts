/**
 * The video track an FLV stream describes: from a sequence header (avcC,
 * hvcC, av1C, vpcC) or from parameter sets sent in-band before any.
 * Private to `flv/`.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import {
  VIDEO_CLOCK_RATE,
  type VideoCodec,
  type VideoTrack,
} from "../media/mod.ts";
import { H264_NAL_TYPE, h264NalType } from "../codec/h264/nal.ts";
import { buildAvcc, parseAvcc } from "../codec/h264/avcc.ts";
import { parseSps } from "../codec/h264/sps.ts";
import { H265_NAL_TYPE, h265NalType } from "../codec/h265/nal.ts";
import { buildHvcc, parseHvcc } from "../codec/h265/hvcc.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { splitLengthPrefixed } from "../codec/nal_units.ts";
import { parseAv1c } from "../codec/av1/av1c.ts";
import { parseVpcc } from "../codec/vp9/vpcc.ts";

/** Track id of the video track of an FLV stream. */
export const FLV_VIDEO_TRACK_ID = 0;

/** A video track and, for H.264/H.265, the NAL unit length size of its frames. */
export interface ConfiguredVideo {
  track: VideoTrack;
  /** Bytes of each NAL unit's length prefix; unset for AV1 and VP9. */
  lengthSize?: number;
}

/**
 * The track of a sequence header `record` (kept by the track: pass a copy
 * that outlives the socket chunk); `undefined` for an avcC or hvcC without
 * an SPS, whose parameter sets come in-band.
 *
 * @throws {ProtocolError} when the record does not parse
 */
export function videoTrackOf(
  codec: VideoCodec,
  record: Uint8Array,
): ConfiguredVideo | undefined {
  const track: VideoTrack = {
    kind: "video",
    id: FLV_VIDEO_TRACK_ID,
    codec,
    clockRate: VIDEO_CLOCK_RATE,
  };
  let lengthSize: number | undefined;
  if (codec === "H264") {
    const avcc = parseAvcc(record);
    if (avcc.sps.length === 0) return undefined; // parameter sets come in-band
    track.parameterSets = { sps: avcc.sps, pps: avcc.pps };
    lengthSize = avcc.lengthSize;
    Object.assign(track, sizeOf(() => parseSps(avcc.sps[0]!)));
  } else if (codec === "H265") {
    const hvcc = parseHvcc(record);
    if (hvcc.sps.length === 0) return undefined;
    track.parameterSets = { vps: hvcc.vps, sps: hvcc.sps, pps: hvcc.pps };
    lengthSize = hvcc.lengthSize;
    Object.assign(track, sizeOf(() => parseH265Sps(hvcc.sps[0]!)));
  } else if (codec === "AV1") {
    const av1c = parseAv1c(record);
    if (av1c.width !== undefined && av1c.height !== undefined) {
      track.width = av1c.width;
      track.height = av1c.height;
    }
  } else {
    parseVpcc(record);
  }
  track.record = record;
  return lengthSize === undefined ? { track } : { track, lengthSize };
}

/**
 * The track that parameter sets sent in-band in a frame's 4-byte
 * length-prefixed NAL units describe (publishers relaying RTSP cameras
 * without sprop-parameter-sets); `undefined` when the frame lacks an SPS, a
 * PPS or (H.265) a VPS, or does not split.
 */
export function inBandVideoTrack(
  codec: "H264" | "H265",
  data: Uint8Array,
): VideoTrack | undefined {
  let units: Uint8Array[];
  try {
    units = splitLengthPrefixed(data, 4);
  } catch {
    return undefined;
  }
  const vps: Uint8Array[] = [];
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  for (const u of units) {
    if (codec === "H264") {
      const t = h264NalType(u);
      if (t === H264_NAL_TYPE.SPS) sps.push(u.slice());
      else if (t === H264_NAL_TYPE.PPS) pps.push(u.slice());
    } else {
      const t = h265NalType(u);
      if (t === H265_NAL_TYPE.VPS) vps.push(u.slice());
      else if (t === H265_NAL_TYPE.SPS) sps.push(u.slice());
      else if (t === H265_NAL_TYPE.PPS) pps.push(u.slice());
    }
  }
  if (
    sps.length === 0 || pps.length === 0 ||
    (codec === "H265" && vps.length === 0)
  ) return undefined;
  const track: VideoTrack = {
    kind: "video",
    id: FLV_VIDEO_TRACK_ID,
    codec,
    clockRate: VIDEO_CLOCK_RATE,
  };
  if (codec === "H264") {
    track.parameterSets = { sps, pps };
    Object.assign(track, sizeOf(() => parseSps(sps[0]!)));
    track.record = buildAvcc(sps, pps);
  } else {
    track.parameterSets = { vps, sps, pps };
    Object.assign(track, sizeOf(() => parseH265Sps(sps[0]!)));
    track.record = buildHvcc(track.parameterSets);
  }
  return track;
}

/** Width and height from an SPS parser; a SPS we cannot read leaves them unknown. */
function sizeOf(
  parse: () => { width: number; height: number },
): { width?: number; height?: number } {
  try {
    const { width, height } = parse();
    return { width, height };
  } catch (e) {
    if (e instanceof ProtocolError) return {};
    throw e;
  }
}
