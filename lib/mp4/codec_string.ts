/**
 * The codec string of a track as HLS `CODECS` and MSE `isTypeSupported`
 * want it (RFC 6381 §3.3 and the ISOBMFF bindings): `avc1.PPCCLL`
 * (ISO/IEC 14496-15 Annex E.2), `hvc1.…` (Annex E.3), `av01.P.LLT.DD` (AV1
 * binding §5), `vp09.PP.LL.DD` (VP binding §5), `mp4a.40.<object type>`,
 * `opus`. MP3 is `mp4a.40.34`, the name Apple's HLS and hls.js use for MP3
 * in fMP4 (the sample entry itself says 0x6B). G.711 has none: HLS leaves it out.
 *
 * @module
 */

import type { Track } from "../media/track.ts";
import { parseAvcc } from "../codec/h264/avcc.ts";
import { parseSps } from "../codec/h264/sps.ts";
import { parseHvcc } from "../codec/h265/hvcc.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { parseAv1c } from "../codec/av1/av1c.ts";
import { parseVpcc } from "../codec/vp9/vpcc.ts";

/** The RFC 6381 codec string of `track`; undefined for G.711 or a track without its configuration. */
export function codecString(track: Track): string | undefined {
  switch (track.codec) {
    case "H264": {
      const sps = track.parameterSets?.sps[0] ??
        (track.record ? parseAvcc(track.record).sps[0] : undefined);
      if (sps === undefined) return undefined;
      const s = parseSps(sps);
      return `avc1.${hex2(s.profileIdc)}${hex2(s.constraintFlags)}${
        hex2(s.levelIdc)
      }`;
    }
    case "H265": {
      const sps = track.parameterSets?.sps[0] ??
        (track.record ? parseHvcc(track.record).sps[0] : undefined);
      return sps === undefined ? undefined : hevcString(sps);
    }
    case "AV1": {
      if (track.record === undefined) return undefined;
      const a = parseAv1c(track.record);
      return `av01.${a.seqProfile}.${dec2(a.seqLevelIdx0)}${
        a.seqTier0 ? "H" : "M"
      }.${dec2(a.bitDepth)}`;
    }
    case "VP9": {
      if (track.record === undefined) return undefined;
      const v = parseVpcc(track.record);
      return `vp09.${dec2(v.profile)}.${dec2(v.level)}.${dec2(v.bitDepth)}`;
    }
    case "AAC": {
      const c = track.config;
      if (c === undefined || c.length < 2) return undefined;
      // The object type as signalled (5 or 29 for explicit HE-AAC), ISO/IEC 14496-3 §1.6.2.1
      let type = c[0]! >> 3;
      if (type === 31) type = 32 + (((c[0]! & 0x07) << 3) | (c[1]! >> 5));
      return `mp4a.40.${type}`;
    }
    case "MP3":
      return "mp4a.40.34";
    case "OPUS":
      return "opus";
    default:
      return undefined;
  }
}

/**
 * ISO/IEC 14496-15 Annex E.3: profile space letter and profile, the
 * compatibility flags bit-reversed in hex, tier letter and level, then the
 * six constraint bytes in hex without trailing zero bytes.
 */
function hevcString(spsNal: Uint8Array): string {
  const s = parseH265Sps(spsNal);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    if ((s.profileCompatibilityFlags >>> i) & 1) reversed |= 1 << (31 - i);
  }
  const parts = [
    "hvc1",
    `${["", "A", "B", "C"][s.profileSpace]}${s.profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${s.tierFlag ? "H" : "L"}${s.levelIdc}`,
  ];
  const bytes: number[] = [];
  let c = s.constraintIndicatorFlags;
  for (let i = 0; i < 6; i++) {
    bytes.unshift(c % 256);
    c = Math.floor(c / 256);
  }
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  for (const b of bytes) parts.push(b.toString(16).toUpperCase());
  return parts.join(".");
}

function hex2(v: number): string {
  return v.toString(16).toUpperCase().padStart(2, "0");
}

function dec2(v: number): string {
  return String(v).padStart(2, "0");
}
