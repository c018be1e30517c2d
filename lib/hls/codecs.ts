/**
 * The `CODECS` attribute of a variant stream (RFC 8216bis §4.4.6.2, RFC
 * 6381): what a player checks before it fetches a segment.
 *
 * @module
 */

import type { Track } from "../media/track.ts";
import { parseHvcc } from "../codec/h265/hvcc.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { parseAv1c } from "../codec/av1/av1c.ts";
import { parseVpcc } from "../codec/vp9/vpcc.ts";
import { parseAudioSpecificConfig } from "../codec/aac/asc.ts";

const hex2 = (n: number) => n.toString(16).padStart(2, "0");
const dec2 = (n: number) => n.toString().padStart(2, "0");

/** The RFC 6381 codec string of `track`, or `undefined` when nothing fits. */
export function codecString(track: Track): string | undefined {
  try {
    return codecOf(track);
  } catch {
    return fallback(track);
  }
}

function codecOf(track: Track): string | undefined {
  switch (track.codec) {
    case "H264": {
      const sps = track.parameterSets?.sps[0];
      if (sps === undefined || sps.length < 4) return fallback(track);
      // profile_idc, constraint flags, level_idc (ISO/IEC 14496-15 §A.2)
      return `avc1.${hex2(sps[1]!)}${hex2(sps[2]!)}${hex2(sps[3]!)}`;
    }
    case "H265": {
      let p: {
        profileSpace: number;
        profileIdc: number;
        tierFlag: number;
        levelIdc: number;
      } | undefined;
      const sps = track.parameterSets?.sps[0];
      if (sps !== undefined) p = parseH265Sps(sps);
      else if (track.record !== undefined) p = parseHvcc(track.record);
      if (p === undefined) return fallback(track);
      // ISO/IEC 14496-15 §E.3: space+profile . compat (reversed, hex) . tier+level . constraints
      const space = ["", "A", "B", "C"][p.profileSpace] ?? "";
      const compat = 1 << p.profileIdc;
      let reversed = 0;
      for (let i = 0; i < 32; i++) {
        if (compat & (1 << i)) reversed |= 1 << (31 - i);
      }
      return `hvc1.${space}${p.profileIdc}.${(reversed >>> 0).toString(16)}.${
        p.tierFlag ? "H" : "L"
      }${p.levelIdc}.B0`;
    }
    case "AV1": {
      if (track.record === undefined) return fallback(track);
      const c = parseAv1c(track.record);
      return `av01.${c.seqProfile}.${dec2(c.seqLevelIdx0)}${
        c.seqTier0 ? "H" : "M"
      }.${dec2(c.bitDepth)}`;
    }
    case "VP9": {
      if (track.record === undefined) return fallback(track);
      const c = parseVpcc(track.record);
      return `vp09.${dec2(c.profile)}.${dec2(c.level)}.${dec2(c.bitDepth)}`;
    }
    case "AAC": {
      const type = track.config === undefined
        ? 2
        : parseAudioSpecificConfig(track.config).objectType;
      return `mp4a.40.${type}`;
    }
    default:
      return fallback(track);
  }
}

function fallback(track: Track): string | undefined {
  switch (track.codec) {
    case "H264":
      return "avc1.42e01f";
    case "H265":
      return "hvc1.1.6.L93.B0";
    case "AV1":
      return "av01.0.08M.08";
    case "VP9":
      return "vp09.00.31.08";
    case "AAC":
      return "mp4a.40.2";
    case "MP3":
      return "mp4a.40.34";
    case "OPUS":
      return "opus";
    default:
      return undefined;
  }
}
