/**
 * StreamMuxConfig of LATM, ISO/IEC 14496-3 §1.7.3.1: the `config=` of an
 * RFC 6416 MP4A-LATM stream, or in-band in an AudioMuxElement.
 *
 * ```
 * audioMuxVersion (1) | [audioMuxVersionA (1) when audioMuxVersion is 1]
 * [taraBufferFullness (LatmGetValue) when audioMuxVersion is 1]
 * allStreamsSameTimeFraming (1) | numSubFrames (6) | numProgram (4) | numLayer (3)
 * AudioSpecificConfig (version 0: inline; version 1: ascLen (LatmGetValue), ASC, fill bits)
 * frameLengthType (3) | [latmBufferFullness (8) when frameLengthType is 0]
 * otherDataPresent (1) | [otherDataLenBits: version 0 (esc (1), 8)… ; version 1 LatmGetValue]
 * crcCheckPresent (1) | [crcCheckSum (8)]
 * LatmGetValue: bytesForValue (2) | value (8 × (bytesForValue + 1))
 * ```
 *
 * Sluice reads the one program with one layer that every LATM sender it has
 * met uses; more programs or layers are `unsupported`.
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";
import { type AudioSpecificConfig, parseAudioSpecificConfig } from "./asc.ts";

/** What {@link readStreamMuxConfig} reads. */
export interface StreamMuxConfig {
  audioMuxVersion: number;
  allStreamsSameTimeFraming: boolean;
  /** Payloads per AudioMuxElement: numSubFrames + 1. */
  subFrames: number;
  /** The layer's AudioSpecificConfig on bytes of its own (zero-padded), as FLV and MP4 carry it. */
  audioSpecificConfig: Uint8Array<ArrayBuffer>;
  /** The fields of {@link StreamMuxConfig.audioSpecificConfig}. */
  asc: AudioSpecificConfig;
  /** 0: payload lengths in bytes (PayloadLengthInfo); others are not read. */
  frameLengthType: number;
  /** Bits of otherData after the payloads of each AudioMuxElement; 0 when absent. */
  otherDataLenBits: number;
  crcCheckPresent: boolean;
}

/** A StreamMuxConfig and how many bits it took. */
export interface StreamMuxConfigRead {
  config: StreamMuxConfig;
  bitLength: number;
}

/** Parses a StreamMuxConfig on bytes of its own (the RFC 6416 `config=` parameter). */
export function parseStreamMuxConfig(bytes: Uint8Array): StreamMuxConfig {
  return readStreamMuxConfig(bytes, 0).config;
}

/** Reads a StreamMuxConfig starting `bitOffset` bits into `data`. */
export function readStreamMuxConfig(
  data: Uint8Array,
  bitOffset: number,
): StreamMuxConfigRead {
  const r = new BitReader(data);
  r.skip(bitOffset);
  const pos = () => data.length * 8 - r.remaining;
  const audioMuxVersion = r.bit();
  const audioMuxVersionA = audioMuxVersion === 1 ? r.bit() : 0;
  if (audioMuxVersionA !== 0) throw fail("unsupported", "audioMuxVersionA 1");
  if (audioMuxVersion === 1) latmGetValue(r); // taraBufferFullness
  const allStreamsSameTimeFraming = r.bit() === 1;
  const subFrames = r.bits(6) + 1;
  const numProgram = r.bits(4);
  const numLayer = r.bits(3);
  if (numProgram !== 0 || numLayer !== 0) {
    throw fail(
      "unsupported",
      `${numProgram + 1} programs with ${numLayer + 1} layers`,
    );
  }
  let ascStart: number;
  let ascBits: number;
  if (audioMuxVersion === 0) {
    ascStart = pos();
    measureAudioSpecificConfig(r);
    ascBits = pos() - ascStart;
  } else {
    ascBits = latmGetValue(r); // ascLen: the config and its fill bits
    ascStart = pos();
    if (ascBits > r.remaining) {
      throw fail(
        "truncated",
        `ascLen ${ascBits} with ${r.remaining} bits left`,
      );
    }
    r.skip(ascBits);
  }
  const audioSpecificConfig = copyBits(data, ascStart, ascBits);
  const asc = parseAudioSpecificConfig(audioSpecificConfig);
  const frameLengthType = r.bits(3);
  if (frameLengthType !== 0) {
    throw fail("unsupported", `frameLengthType ${frameLengthType}`);
  }
  r.skip(8); // latmBufferFullness
  let otherDataLenBits = 0;
  if (r.bit()) { // otherDataPresent
    if (audioMuxVersion === 1) otherDataLenBits = latmGetValue(r);
    else {
      let escape: number;
      do {
        escape = r.bit();
        otherDataLenBits = otherDataLenBits * 256 + r.bits(8);
        if (otherDataLenBits > MAX_OTHER_DATA_BITS) {
          throw fail("limit", `otherDataLenBits over ${MAX_OTHER_DATA_BITS}`);
        }
      } while (escape);
    }
  }
  const crcCheckPresent = r.bit() === 1;
  if (crcCheckPresent) r.skip(8);
  return {
    config: {
      audioMuxVersion,
      allStreamsSameTimeFraming,
      subFrames,
      audioSpecificConfig,
      asc,
      frameLengthType,
      otherDataLenBits,
      crcCheckPresent,
    },
    bitLength: pos() - bitOffset,
  };
}

/** A bound on otherData per element: a real sender has none. */
const MAX_OTHER_DATA_BITS = 1 << 20;

/**
 * Copies `bitLength` bits from `bitOffset` of `data` onto fresh bytes,
 * MSB first, zero-padding the last byte.
 */
export function copyBits(
  data: Uint8Array,
  bitOffset: number,
  bitLength: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.ceil(bitLength / 8));
  const shift = bitOffset & 7;
  const first = bitOffset >>> 3;
  if (shift === 0) {
    out.set(data.subarray(first, first + out.length));
  } else {
    for (let i = 0; i < out.length; i++) {
      const hi = data[first + i] ?? 0;
      const lo = data[first + i + 1] ?? 0;
      out[i] = ((hi << shift) | (lo >>> (8 - shift))) & 0xff;
    }
  }
  const tail = bitLength & 7;
  if (tail !== 0) out[out.length - 1]! &= (0xff << (8 - tail)) & 0xff;
  return out;
}

/** LatmGetValue(), §1.7.3.1: a 1–4 byte value. */
function latmGetValue(r: BitReader): number {
  const bytes = r.bits(2) + 1;
  let value = 0;
  for (let i = 0; i < bytes; i++) value = value * 256 + r.bits(8);
  return value;
}

/** Object types with a GASpecificConfig (§1.6.2.1). */
const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

/**
 * Walks an AudioSpecificConfig to find where it ends: inside a version-0
 * StreamMuxConfig nothing says how long it is. No backward-compatible
 * extension can follow there, so none is read.
 */
function measureAudioSpecificConfig(r: BitReader): void {
  let objectType = readObjectType(r);
  skipFrequency(r);
  const channelConfig = r.bits(4);
  if (objectType === 5 || objectType === 29) {
    skipFrequency(r);
    objectType = readObjectType(r);
    if (objectType === 22) r.skip(4);
  }
  if (!GA_TYPES.has(objectType)) {
    throw fail("unsupported", `audio object type ${objectType}`);
  }
  r.skip(1); // frameLengthFlag
  if (r.bit()) r.skip(14); // dependsOnCoreCoder: coreCoderDelay
  const extensionFlag = r.bit();
  if (channelConfig === 0) {
    throw fail(
      "unsupported",
      "a program config element (channelConfiguration 0)",
    );
  }
  if (objectType === 6 || objectType === 20) r.skip(3); // layerNr
  if (extensionFlag) {
    if (objectType === 22) r.skip(16);
    if (
      objectType === 17 || objectType === 19 || objectType === 20 ||
      objectType === 23
    ) r.skip(3);
    r.skip(1); // extensionFlag3
  }
}

function readObjectType(r: BitReader): number {
  const t = r.bits(5);
  return t === 31 ? 32 + r.bits(6) : t;
}

function skipFrequency(r: BitReader): void {
  if (r.bits(4) === 15) r.skip(24);
}

function fail(
  code: "truncated" | "unsupported" | "limit",
  detail: string,
) {
  return codecError("parse StreamMuxConfig", code, detail);
}
