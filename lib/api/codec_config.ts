/**
 * A track's codec configuration decoded for people: the SPS, PPS and VPS
 * fields of H.264/H.265 and the AudioSpecificConfig of AAC, with the
 * profile, level, size and frame rate the API shows for the track.
 *
 * @module
 */

import { BitReader } from "../binary.ts";
import { parseAudioSpecificConfig } from "../codec/aac/asc.ts";
import { parseAvcc } from "../codec/h264/avcc.ts";
import { type H264Sps, parseSps } from "../codec/h264/sps.ts";
import { parseHvcc } from "../codec/h265/hvcc.ts";
import { type H265Sps, parseH265Sps } from "../codec/h265/sps.ts";
import { unescapeRbsp } from "../codec/nal_units.ts";
import type { ParameterSets, Track } from "../media/track.ts";
import type { TrackView } from "./schemas.ts";

/** The decoded configuration of one track: field names as the specs spell them. */
export type CodecConfig = Record<string, unknown>;

/** H.264 profile_idc names (H.264 Annex A.2). */
const H264_PROFILES: Record<number, string> = {
  66: "Baseline",
  77: "Main",
  88: "Extended",
  100: "High",
  110: "High 10",
  122: "High 4:2:2",
  244: "High 4:4:4 Predictive",
};
/** H.265 general_profile_idc names (H.265 Annex A.3). */
const H265_PROFILES: Record<number, string> = {
  1: "Main",
  2: "Main 10",
  3: "Main Still Picture",
  4: "Range Extensions",
};
/** AAC audio object types (ISO/IEC 14496-3 Table 1.1). */
const AAC_PROFILES: Record<number, string> = {
  1: "Main",
  2: "LC",
  3: "SSR",
  4: "LTP",
  5: "HE-AAC",
  29: "HE-AACv2",
};

/** What each parser made of a buffer: parameter sets are parsed once. */
const decoded = new WeakMap<Uint8Array, Map<unknown, unknown>>();

function once<T>(key: Uint8Array, parse: (b: Uint8Array) => T): T | undefined {
  let byParser = decoded.get(key);
  if (byParser === undefined) decoded.set(key, byParser = new Map());
  if (byParser.has(parse)) return byParser.get(parse) as T | undefined;
  let out: T | undefined;
  try {
    out = parse(key);
  } catch {
    out = undefined; // a publisher's broken SPS shows as absent, never as a 500
  }
  byParser.set(parse, out);
  return out;
}

/** Parameter sets of a video track, from the track or its avcC/hvcC record. */
function setsOf(track: Track): ParameterSets | undefined {
  if (track.kind !== "video") return undefined;
  if (track.parameterSets !== undefined) return track.parameterSets;
  const record = track.record;
  if (record === undefined) return undefined;
  if (track.codec === "H264") return once(record, parseAvcc);
  if (track.codec === "H265") return once(record, parseHvcc);
  return undefined;
}

function h264Sps(track: Track): H264Sps | undefined {
  const sps = setsOf(track)?.sps[0];
  return sps === undefined ? undefined : once(sps, parseSps);
}

function h265Sps(track: Track): H265Sps | undefined {
  const sps = setsOf(track)?.sps[0];
  return sps === undefined ? undefined : once(sps, parseH265Sps);
}

/** The API's view of a track: codec, profile, level, size, fps, sample rate, channels. */
export function trackView(track: Track): TrackView {
  const view: TrackView = {
    id: track.id,
    kind: track.kind,
    codec: track.codec,
  };
  if (track.kind === "audio") {
    view.sampleRate = track.sampleRate;
    view.channels = track.channels;
    if (track.codec === "AAC" && track.config !== undefined) {
      const asc = once(track.config, parseAudioSpecificConfig);
      if (asc !== undefined) {
        view.profile =
          AAC_PROFILES[asc.sbr ? (asc.ps ? 29 : 5) : asc.objectType];
      }
    }
    return view;
  }
  if (track.width !== undefined) view.width = track.width;
  if (track.height !== undefined) view.height = track.height;
  if (track.codec === "H264") {
    const sps = h264Sps(track);
    if (sps !== undefined) {
      view.profile = sps.profileIdc === 66 && (sps.constraintFlags & 0x40) !== 0
        ? "Constrained Baseline"
        : H264_PROFILES[sps.profileIdc] ?? `profile_idc ${sps.profileIdc}`;
      view.level = sps.levelIdc / 10;
      view.width = sps.width;
      view.height = sps.height;
      if (sps.frameRate !== undefined) {
        view.fps = Math.round(sps.frameRate * 1000) / 1000;
      }
    }
  } else if (track.codec === "H265") {
    const sps = h265Sps(track);
    if (sps !== undefined) {
      view.profile = H265_PROFILES[sps.profileIdc] ??
        `general_profile_idc ${sps.profileIdc}`;
      view.level = sps.levelIdc / 30;
      view.width = sps.width;
      view.height = sps.height;
    }
  }
  return view;
}

/** The decoded configuration of a track for the inspector. */
export function codecConfig(track: Track): CodecConfig {
  if (track.kind === "audio") {
    if (track.codec !== "AAC" || track.config === undefined) {
      return { sampleRate: track.sampleRate, channels: track.channels };
    }
    const asc = once(track.config, parseAudioSpecificConfig);
    return asc === undefined
      ? { error: "AudioSpecificConfig cannot be parsed" }
      : { audioSpecificConfig: { ...asc } };
  }
  const sets = setsOf(track);
  if (sets === undefined) return {};
  const out: CodecConfig = {};
  if (track.codec === "H264") {
    out.sps = sets.sps.map((s) => once(s, parseSps) ?? { error: "unreadable" });
    out.pps = sets.pps.map((p) => once(p, parsePps) ?? { error: "unreadable" });
  } else if (track.codec === "H265") {
    out.vps = (sets.vps ?? []).map((p) =>
      once(p, parseH265Vps) ?? { error: "unreadable" }
    );
    out.sps = sets.sps.map((s) =>
      once(s, parseH265Sps) ?? { error: "unreadable" }
    );
    out.pps = sets.pps.map((p) =>
      once(p, parseH265Pps) ?? { error: "unreadable" }
    );
  }
  return out;
}

/** H.264 PPS (§7.3.2.2) up to the fields a reader checks first. */
function parsePps(nal: Uint8Array): Record<string, unknown> {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const ppsId = r.ue();
  const spsId = r.ue();
  const entropyCodingModeFlag = r.bit();
  const bottomFieldPicOrderInFramePresentFlag = r.bit();
  const numSliceGroups = r.ue() + 1;
  return {
    ppsId,
    spsId,
    entropyCoding: entropyCodingModeFlag ? "CABAC" : "CAVLC",
    bottomFieldPicOrderInFramePresentFlag,
    numSliceGroups,
  };
}

/** H.265 PPS (§7.3.2.3.1), its first fields. */
function parseH265Pps(nal: Uint8Array): Record<string, unknown> {
  const r = new BitReader(unescapeRbsp(nal.subarray(2)));
  const ppsId = r.ue();
  const spsId = r.ue();
  const dependentSliceSegmentsEnabledFlag = r.bit();
  const outputFlagPresentFlag = r.bit();
  const numExtraSliceHeaderBits = r.bits(3);
  return {
    ppsId,
    spsId,
    dependentSliceSegmentsEnabledFlag,
    outputFlagPresentFlag,
    numExtraSliceHeaderBits,
  };
}

/** H.265 VPS (§7.3.2.1), its header fields. */
function parseH265Vps(nal: Uint8Array): Record<string, unknown> {
  const r = new BitReader(unescapeRbsp(nal.subarray(2)));
  const vpsId = r.bits(4);
  r.skip(2); // vps_base_layer_internal_flag, vps_base_layer_available_flag
  const maxLayers = r.bits(6) + 1;
  const maxSubLayers = r.bits(3) + 1;
  const temporalIdNesting = r.bit();
  return { vpsId, maxLayers, maxSubLayers, temporalIdNesting };
}
