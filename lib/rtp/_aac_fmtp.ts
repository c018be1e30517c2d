/**
 * The SDP side of AAC over RTP (`mpeg4-generic`, RFC 3640 §4.1): the
 * `a=fmtp` parameters read from a peer and those Sluice sends, and the
 * `a=rtpmap` encoding. Private to `rtp/`; `aac.ts` exports them.
 *
 * @module
 */

import type { AudioTrack } from "../media/mod.ts";
import {
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from "../codec/aac/asc.ts";
import {
  fmtpError,
  hexParam,
  intParam,
  lowerKeys,
  toHexParam,
} from "./_audio.ts";

/** AU-size of AAC-hbr: 13 bits, so an AU is at most 8191 bytes (RFC 3640 §3.3.6). */
export const HBR_SIZE_LENGTH = 13;
export const HBR_INDEX_LENGTH = 3;
/** AU-size of AAC-lbr: 6 bits (RFC 3640 §3.3.5). */
export const LBR_SIZE_LENGTH = 6;
export const LBR_INDEX_LENGTH = 2;

/**
 * The `a=fmtp` parameters of an `mpeg4-generic` stream (RFC 3640 §4.1) and
 * what its `config` says.
 */
export interface AacFmtp {
  /** `mode`, as given ("AAC-hbr", "AAC-lbr", "generic"). */
  mode: string;
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  ctsDeltaLength: number;
  dtsDeltaLength: number;
  randomAccessIndication: boolean;
  streamStateIndication: number;
  auxiliaryDataSizeLength: number;
  /** RTP ticks per AU, when `constantDuration` is given. */
  constantDuration?: number;
  /** The AudioSpecificConfig of `config`. */
  config?: Uint8Array;
  /** Output sample rate by the config (the SBR rate for HE-AAC). */
  sampleRate?: number;
  channels?: number;
  /** Samples per AU by the config (1024 or 960), at the core rate. */
  frameLength?: number;
  /** Core sample rate by the config: AU duration is frameLength / coreSampleRate seconds. */
  coreSampleRate?: number;
}

/**
 * Reads the fmtp parameters of `mpeg4-generic` (names in any case). Missing
 * AU-header lengths take the mode's values: 13/3/3 for AAC-hbr, 6/2/2 for
 * AAC-lbr, 0 otherwise.
 */
export function parseAacFmtp(
  params: Readonly<Record<string, string>>,
): AacFmtp {
  const p = lowerKeys(params);
  const mode = p.get("mode") ?? "generic";
  const lowerMode = mode.toLowerCase();
  const hbr = lowerMode === "aac-hbr";
  const lbr = lowerMode === "aac-lbr";
  const size = hbr ? HBR_SIZE_LENGTH : lbr ? LBR_SIZE_LENGTH : 0;
  const index = hbr ? HBR_INDEX_LENGTH : lbr ? LBR_INDEX_LENGTH : 0;
  const out: AacFmtp = {
    mode,
    sizeLength: intParam(p, "sizelength", size, 32),
    indexLength: intParam(p, "indexlength", index, 32),
    indexDeltaLength: intParam(p, "indexdeltalength", index, 32),
    ctsDeltaLength: intParam(p, "ctsdeltalength", 0, 32),
    dtsDeltaLength: intParam(p, "dtsdeltalength", 0, 32),
    randomAccessIndication: intParam(p, "randomaccessindication", 0, 1) === 1,
    streamStateIndication: intParam(p, "streamstateindication", 0, 32),
    auxiliaryDataSizeLength: intParam(p, "auxiliarydatasizelength", 0, 32),
  };
  const duration = intParam(p, "constantduration", 0);
  if (duration > 0) out.constantDuration = duration;
  const config = p.get("config");
  if (config !== undefined && config !== "") {
    const bytes = hexParam("config", config);
    const asc = parseAudioSpecificConfig(bytes);
    out.config = bytes;
    out.sampleRate = asc.extensionSampleRate ?? asc.sampleRate;
    out.coreSampleRate = asc.sampleRate;
    out.channels = asc.ps ? 2 : asc.channels;
    out.frameLength = asc.frameLength;
  }
  if (out.sizeLength === 0 && out.indexLength + out.indexDeltaLength > 0) {
    throw fmtpError("sizelength 0 with AU indices");
  }
  return out;
}

/** The `a=fmtp` parameters Sluice sends for an AAC track: AAC-hbr, one AU per packet. */
export function aacFmtp(track: AudioTrack): string {
  const config = track.config ??
    buildAudioSpecificConfig({
      sampleRate: track.sampleRate,
      channels: track.channels,
    });
  return `profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${
    toHexParam(config)
  }`;
}

/** The `a=rtpmap` encoding of an AAC track: `MPEG4-GENERIC/<rate>/<channels>`. */
export function aacRtpmap(track: AudioTrack): string {
  return `MPEG4-GENERIC/${track.clockRate}/${track.channels}`;
}
