/**
 * MPEG audio frame header, ISO/IEC 11172-3 §2.4.1.3 and ISO/IEC 13818-3
 * (MPEG-2 half rates; "MPEG 2.5" quarter rates as LAME writes them).
 *
 * ```
 * syncword (11) | version (2: 00 2.5, 10 2, 11 1) | layer (2: 01 III, 10 II, 11 I)
 * protection_bit (1) | bitrate_index (4) | sampling_frequency (2) | padding_bit (1)
 * private_bit (1) | mode (2: 11 single channel) | mode_extension (2) | copyright (1)
 * original (1) | emphasis (2)
 * ```
 *
 * @module
 */

import { codecError } from "../_error.ts";

/** What {@link parseMp3Header} reads. */
export interface Mp3Header {
  /** 1, 2 or 2.5. */
  version: number;
  /** 1, 2 or 3. */
  layer: number;
  sampleRate: number;
  channels: number;
  /** kbit/s; 0 for free format. */
  bitrate: number;
  samplesPerFrame: number;
  /** Bytes of the frame, header included; 0 for free format. */
  frameSize: number;
}

const RATES = [44100, 48000, 32000];
/** kbit/s by bitrate_index, per version 1 layers I, II, III then version 2/2.5 layer I, II/III. */
const BITRATES = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/** Parses the 4-byte MPEG audio header at the start of `data`. */
export function parseMp3Header(data: Uint8Array): Mp3Header {
  if (data.length < 4) {
    throw fail("truncated", `${data.length} bytes of a 4-byte header`);
  }
  if (data[0] !== 0xff || (data[1]! & 0xe0) !== 0xe0) {
    throw fail("malformed", "no frame sync");
  }
  const versionBits = (data[1]! >> 3) & 0x03;
  const layerBits = (data[1]! >> 1) & 0x03;
  if (versionBits === 1) throw fail("malformed", "reserved version");
  if (layerBits === 0) throw fail("malformed", "reserved layer");
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = 4 - layerBits;
  const bitrateIndex = data[2]! >> 4;
  const rateIndex = (data[2]! >> 2) & 0x03;
  if (bitrateIndex === 15) throw fail("malformed", "bitrate index 15");
  if (rateIndex === 3) throw fail("malformed", "reserved sampling frequency");
  const sampleRate = RATES[rateIndex]! /
    (version === 1 ? 1 : version === 2 ? 2 : 4);
  const padding = (data[2]! >> 1) & 0x01;
  const channels = (data[3]! >> 6) === 3 ? 1 : 2;
  const table = version === 1 ? layer - 1 : layer === 1 ? 3 : 4;
  const bitrate = BITRATES[table]![bitrateIndex]!;
  const samplesPerFrame = layer === 1
    ? 384
    : layer === 3 && version !== 1
    ? 576
    : 1152;
  const frameSize = bitrate === 0
    ? 0
    : layer === 1
    ? (Math.floor((12 * bitrate * 1000) / sampleRate) + padding) * 4
    : Math.floor((samplesPerFrame / 8) * bitrate * 1000 / sampleRate) + padding;
  return {
    version,
    layer,
    sampleRate,
    channels,
    bitrate,
    samplesPerFrame,
    frameSize,
  };
}

function fail(code: "truncated" | "malformed", detail: string) {
  return codecError("parse MPEG audio header", code, detail);
}
