/**
 * AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1: the AAC sequence header of
 * FLV and the `config` of RFC 3640 / MP4.
 *
 * ```
 * audioObjectType (5, 31 → 32 + 6 more) | samplingFrequencyIndex (4, 15 → 24-bit frequency)
 * channelConfiguration (4) | [SBR 5 / PS 29: extensionSamplingFrequencyIndex (4 [+24])
 *   | audioObjectType (5)] | GASpecificConfig: frameLengthFlag (1) dependsOnCoreCoder (1
 *   [+14]) extensionFlag (1) | [program_config_element when channelConfiguration is 0]
 * [syncExtensionType 0x2b7 (11) | extensionAudioObjectType (5) | sbrPresentFlag (1)
 *   | extensionSamplingFrequencyIndex (4 [+24]) | [0x548 (11) | psPresentFlag (1)]]
 * ```
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { codecError } from "../_error.ts";

/** Sampling frequencies by samplingFrequencyIndex (ISO/IEC 14496-3 Table 1.18). */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000,
  88200,
  64000,
  48000,
  44100,
  32000,
  24000,
  22050,
  16000,
  12000,
  11025,
  8000,
  7350,
];

/** Audio object types Sluice names (ISO/IEC 14496-3 Table 1.17). */
export const AAC_OBJECT_TYPE = {
  MAIN: 1,
  LC: 2,
  SSR: 3,
  LTP: 4,
  SBR: 5,
  PS: 29,
} as const;

/** What {@link parseAudioSpecificConfig} reads. */
export interface AudioSpecificConfig {
  /** The core object type (2 for AAC LC, also under HE-AAC). */
  objectType: number;
  /** Core sampling frequency in Hz. */
  sampleRate: number;
  channelConfig: number;
  /** Channels of the core stream (from the program config element when `channelConfig` is 0). */
  channels: number;
  /** Spectral band replication signalled (HE-AAC). */
  sbr: boolean;
  /** Parametric stereo signalled (HE-AAC v2). */
  ps: boolean;
  /** Output sampling frequency with SBR, when signalled. */
  extensionSampleRate?: number;
  /** Samples per frame: 1024, or 960 with frameLengthFlag. */
  frameLength: number;
}

/** Channel count by channelConfiguration (ISO/IEC 14496-3 Table 1.19 and later amendments). */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8];

/** Object types with a GASpecificConfig (§1.6.2.1). */
const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

/** Parses an AudioSpecificConfig, including explicit frequencies and both SBR/PS signallings. */
export function parseAudioSpecificConfig(
  config: Uint8Array,
): AudioSpecificConfig {
  const r = new BitReader(config);
  let objectType = readObjectType(r);
  const sampleRate = readFrequency(r);
  const channelConfig = r.bits(4);
  let sbr = false;
  let ps = false;
  let extensionSampleRate: number | undefined;
  if (objectType === AAC_OBJECT_TYPE.SBR || objectType === AAC_OBJECT_TYPE.PS) {
    // Explicit hierarchical signalling: the core type follows.
    sbr = true;
    ps = objectType === AAC_OBJECT_TYPE.PS;
    extensionSampleRate = readFrequency(r);
    objectType = readObjectType(r);
    if (objectType === 22) r.skip(4); // extensionChannelConfiguration (ER BSAC)
  }
  let frameLength = 1024;
  let channels = CHANNELS_BY_CONFIG[channelConfig] ?? 0;
  if (GA_TYPES.has(objectType)) {
    frameLength = r.bit() ? 960 : 1024;
    if (r.bit()) r.skip(14); // coreCoderDelay
    const extensionFlag = r.bit();
    if (channelConfig === 0) channels = readProgramConfigChannels(r);
    if (objectType === 6 || objectType === 20) r.skip(3); // layerNr
    if (extensionFlag) {
      if (objectType === 22) r.skip(16); // numOfSubFrame, layer_length
      if (
        objectType === 17 || objectType === 19 || objectType === 20 ||
        objectType === 23
      ) r.skip(3);
      r.skip(1); // extensionFlag3
    }
  }
  if (channels === 0) {
    throw fail("malformed", `channelConfiguration ${channelConfig}`);
  }
  // Backward-compatible explicit signalling appended after the core config.
  if (!sbr && r.remaining >= 16 && r.bits(11) === 0x2b7) {
    const extensionType = readObjectType(r);
    if (extensionType === AAC_OBJECT_TYPE.SBR && r.bit()) {
      sbr = true;
      extensionSampleRate = readFrequency(r);
      if (r.remaining >= 12 && r.bits(11) === 0x548) ps = r.bit() === 1;
    }
  }
  const out: AudioSpecificConfig = {
    objectType,
    sampleRate,
    channelConfig,
    channels,
    sbr,
    ps,
    frameLength,
  };
  if (extensionSampleRate !== undefined) {
    out.extensionSampleRate = extensionSampleRate;
  }
  return out;
}

function readFrequency(r: BitReader): number {
  const index = r.bits(4);
  if (index === 15) {
    const hz = r.bits(24);
    if (hz === 0) throw fail("malformed", "explicit sampling frequency 0");
    return hz;
  }
  const hz = AAC_SAMPLE_RATES[index];
  if (hz === undefined) {
    throw fail("malformed", `samplingFrequencyIndex ${index}`);
  }
  return hz;
}

function readObjectType(r: BitReader): number {
  const t = r.bits(5);
  return t === 31 ? 32 + r.bits(6) : t;
}

/** program_config_element() §4.4.1.1, counting channels (a CPE is two). */
function readProgramConfigChannels(r: BitReader): number {
  r.skip(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.bits(4);
  const side = r.bits(4);
  const back = r.bits(4);
  const lfe = r.bits(2);
  const assoc = r.bits(3);
  const cc = r.bits(4);
  if (r.bit()) r.skip(4); // mono_mixdown_element_number
  if (r.bit()) r.skip(4); // stereo_mixdown_element_number
  if (r.bit()) r.skip(3); // matrix_mixdown_idx, pseudo_surround_enable
  let channels = lfe;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.bit() ? 2 : 1; // *_element_is_cpe
    r.skip(4); // *_element_tag_select
  }
  r.skip(lfe * 4 + assoc * 4 + cc * 5);
  r.skip(r.remaining % 8); // byte_alignment(), relative to the start of the config
  r.skip(r.bits(8) * 8); // comment_field_bytes
  return channels;
}

/** Input of {@link buildAudioSpecificConfig}. */
export interface AudioSpecificConfigInit {
  /** @default {2} (AAC LC) */
  objectType?: number;
  sampleRate: number;
  channels: number;
}

/**
 * Builds the 2-byte AudioSpecificConfig of a plain AAC stream (5 bytes when
 * the rate has no index and goes explicitly).
 */
export function buildAudioSpecificConfig(
  init: AudioSpecificConfigInit,
): Uint8Array<ArrayBuffer> {
  const objectType = init.objectType ?? AAC_OBJECT_TYPE.LC;
  if (objectType < 1 || objectType > 30) {
    throw fail("unsupported", `object type ${objectType}`, "build");
  }
  const channelConfig = init.channels === 8 ? 7 : init.channels;
  if (channelConfig < 1 || channelConfig > 7) {
    throw fail("unsupported", `${init.channels} channels`, "build");
  }
  const index = AAC_SAMPLE_RATES.indexOf(init.sampleRate);
  if (index >= 0) {
    const v = (objectType << 11) | (index << 7) | (channelConfig << 3);
    return new Uint8Array([v >> 8, v & 0xff]);
  }
  if (
    !Number.isInteger(init.sampleRate) || init.sampleRate <= 0 ||
    init.sampleRate >= 1 << 24
  ) {
    throw fail("unsupported", `sample rate ${init.sampleRate}`, "build");
  }
  // 5 + 4 + 24 + 4 + 3 = 40 bits: type, index 15, frequency, channels, GASpecificConfig zeros
  const hi = (objectType << 3) | 0x7; // type then the top three bits of index 15
  const f = init.sampleRate;
  return new Uint8Array([
    hi,
    0x80 | (f >> 17),
    (f >> 9) & 0xff,
    (f >> 1) & 0xff,
    ((f & 1) << 7) | (channelConfig << 3),
  ]);
}

function fail(
  code: "malformed" | "unsupported",
  detail: string,
  action = "parse",
) {
  return codecError(`${action} AudioSpecificConfig`, code, detail);
}
