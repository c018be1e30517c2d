/**
 * A demuxed track's codec configuration and samples → the media model:
 * H.264/H.265 samples length-prefixed (MP4, MKV, with avcC/hvcC) or in
 * Annex B (MPEG-TS, parameter sets in band), AV1 and VP9 samples whole
 * (with av1C/vpcC, rebuilt when the container has none), AAC raw (with an
 * AudioSpecificConfig) or in ADTS (MPEG-TS), MP3 and Opus as they are.
 *
 * @module
 */

import { parseAvcc } from "../codec/h264/avcc.ts";
import { H264_NAL_TYPE, h264NalType } from "../codec/h264/nal.ts";
import { parseSps } from "../codec/h264/sps.ts";
import { parseHvcc } from "../codec/h265/hvcc.ts";
import { H265_NAL_TYPE, h265NalType } from "../codec/h265/nal.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { splitAnnexB, splitLengthPrefixed } from "../codec/nal_units.ts";
import { buildAudioSpecificConfig } from "../codec/aac/asc.ts";
import { isAdts, parseAdtsHeader } from "../codec/aac/adts.ts";
import { av1cFromCodecString, vpccFromCodecString } from "./_records.ts";
import {
  type AudioCodec,
  type ParameterSets,
  type Track,
  VIDEO_CLOCK_RATE,
  type VideoCodec,
} from "../media/track.ts";

/** What the demuxer says of a track, before Sluice reads a sample. */
export interface DemuxedTrack {
  kind: "video" | "audio";
  /** mediabunny's codec name: `avc`, `hevc`, `aac`, `mp3`, `opus` … */
  codec: string | null;
  /** The RFC 6381 codec string the demuxer derived (`av01.0.04M.08`). */
  codecString?: string;
  /** avcC / hvcC / av1C / vpcC / AudioSpecificConfig, when the container has one. */
  description?: Uint8Array;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/** Turns one track's samples into a frame's units; built by {@link trackCodec}. */
export interface SampleReader {
  /** The media model track (id given by the caller). */
  readonly track: Track;
  /** A sample's units; `undefined` when it carries nothing to send. */
  units(data: Uint8Array): Uint8Array[] | undefined;
}

const VIDEO_CODECS: Record<string, VideoCodec> = { avc: "H264", hevc: "H265" };
const AUDIO_CODECS: Record<string, AudioCodec> = {
  aac: "AAC",
  mp3: "MP3",
  opus: "OPUS",
};

/**
 * The reader of a track's samples, or `undefined` for a codec Sluice does
 * not send. `firstKey` is the track's first key sample: Annex B and ADTS
 * carry their configuration there rather than in the container.
 */
export function trackCodec(
  id: number,
  t: DemuxedTrack,
  firstKey: Uint8Array | undefined,
): SampleReader | undefined {
  if (t.kind === "video") {
    if (t.codec === "av1" || t.codec === "vp9") {
      return wholeFrameReader(id, t, firstKey);
    }
    const codec = t.codec === null ? undefined : VIDEO_CODECS[t.codec];
    if (codec === undefined) return undefined;
    return videoReader(id, codec, t, firstKey);
  }
  const codec = t.codec === null ? undefined : AUDIO_CODECS[t.codec];
  if (codec === undefined) return undefined;
  return audioReader(id, codec, t, firstKey);
}

function videoReader(
  id: number,
  codec: VideoCodec,
  t: DemuxedTrack,
  firstKey: Uint8Array | undefined,
): SampleReader | undefined {
  let sets: ParameterSets | undefined;
  let lengthSize: number | undefined;
  if (t.description !== undefined && t.description.length > 0) {
    const rec = codec === "H264"
      ? parseAvcc(t.description)
      : parseHvcc(t.description);
    lengthSize = rec.lengthSize;
    sets = {
      ...("vps" in rec ? { vps: rec.vps.map((u) => u.slice()) } : {}),
      sps: rec.sps.map((u) => u.slice()),
      pps: rec.pps.map((u) => u.slice()),
    };
  } else if (firstKey !== undefined) {
    sets = inBandSets(codec, splitAnnexB(firstKey));
  }
  if (sets === undefined || sets.sps.length === 0 || sets.pps.length === 0) {
    return undefined;
  }
  const size = codedSize(codec, sets.sps[0]!);
  const track: Track = {
    kind: "video",
    id,
    codec,
    clockRate: VIDEO_CLOCK_RATE,
    width: size?.width ?? t.width,
    height: size?.height ?? t.height,
    parameterSets: sets,
  };
  const aud = codec === "H264" ? H264_NAL_TYPE.AUD : H265_NAL_TYPE.AUD;
  const typeOf = codec === "H264" ? h264NalType : h265NalType;
  return {
    track,
    units(data) {
      const units = lengthSize === undefined
        ? splitAnnexB(data)
        : splitLengthPrefixed(data, lengthSize);
      // An access unit delimiter means nothing once framed by the container
      const out = units.filter((u) => typeOf(u) !== aud);
      return out.length === 0 ? undefined : out;
    },
  };
}

/** AV1 (a temporal unit's OBUs) and VP9 (a frame) samples, sent whole, with their record. */
function wholeFrameReader(
  id: number,
  t: DemuxedTrack,
  firstKey: Uint8Array | undefined,
): SampleReader | undefined {
  const av1 = t.codec === "av1";
  let record: Uint8Array | undefined = t.description !== undefined &&
      t.description.length >= 4
    ? t.description.slice()
    : undefined;
  if (record === undefined && t.codecString !== undefined) {
    record = av1
      ? av1cFromCodecString(t.codecString, firstKey)
      : vpccFromCodecString(t.codecString);
  }
  if (record === undefined) return undefined;
  const track: Track = {
    kind: "video",
    id,
    codec: av1 ? "AV1" : "VP9",
    clockRate: VIDEO_CLOCK_RATE,
    width: t.width,
    height: t.height,
    record,
  };
  return {
    track,
    units: (data) => data.length === 0 ? undefined : [data],
  };
}

function inBandSets(
  codec: VideoCodec,
  units: Uint8Array[],
): ParameterSets {
  const sets: ParameterSets = { sps: [], pps: [] };
  for (const u of units) {
    if (codec === "H264") {
      const type = h264NalType(u);
      if (type === H264_NAL_TYPE.SPS) sets.sps.push(u.slice());
      if (type === H264_NAL_TYPE.PPS) sets.pps.push(u.slice());
    } else {
      const type = h265NalType(u);
      if (type === H265_NAL_TYPE.VPS) (sets.vps ??= []).push(u.slice());
      if (type === H265_NAL_TYPE.SPS) sets.sps.push(u.slice());
      if (type === H265_NAL_TYPE.PPS) sets.pps.push(u.slice());
    }
  }
  return sets;
}

function codedSize(
  codec: VideoCodec,
  sps: Uint8Array,
): { width: number; height: number } | undefined {
  try {
    const s = codec === "H264" ? parseSps(sps) : parseH265Sps(sps);
    return { width: s.width, height: s.height };
  } catch {
    return undefined; // the container's own size stands
  }
}

function audioReader(
  id: number,
  codec: AudioCodec,
  t: DemuxedTrack,
  firstKey: Uint8Array | undefined,
): SampleReader | undefined {
  let sampleRate = t.sampleRate ?? 0;
  let channels = t.channels ?? 0;
  let config: Uint8Array | undefined;
  let adts = false;
  if (codec === "AAC") {
    if (t.description !== undefined && t.description.length >= 2) {
      config = t.description.slice();
    } else if (firstKey !== undefined && isAdts(firstKey)) {
      const h = parseAdtsHeader(firstKey);
      sampleRate = h.sampleRate;
      channels = h.channels;
      config = buildAudioSpecificConfig({
        objectType: h.objectType,
        sampleRate,
        channels,
      });
      adts = true;
    } else return undefined;
  }
  if (sampleRate <= 0 || channels <= 0) return undefined;
  const clockRate = codec === "OPUS" ? 48000 : sampleRate;
  const track: Track = {
    kind: "audio",
    id,
    codec,
    clockRate,
    sampleRate,
    channels,
    ...(config !== undefined ? { config } : {}),
  };
  return {
    track,
    units(data) {
      if (adts && isAdts(data)) {
        const h = parseAdtsHeader(data);
        const end = Math.min(data.length, h.frameLength);
        if (end <= h.headerSize) return undefined;
        return [data.subarray(h.headerSize, end)];
      }
      return data.length === 0 ? undefined : [data];
    },
  };
}
