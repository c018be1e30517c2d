/**
 * AV1 configuration: the AV1CodecConfigurationRecord (av1C) of "AV1 Codec
 * ISO Media File Format Binding" §2.3.3, as Enhanced RTMP's 'av01'
 * SequenceStart carries it, and the sequence header OBU (AV1 §5.5) for the
 * picture size.
 *
 * ```
 * marker (1) = 1 | version (7) = 1 | seq_profile (3) | seq_level_idx_0 (5)
 * seq_tier_0 (1) | high_bitdepth (1) | twelve_bit (1) | monochrome (1)
 * chroma_subsampling_x (1) | chroma_subsampling_y (1) | chroma_sample_position (2)
 * reserved (3) | initial_presentation_delay_present (1) | delay_minus_one (4)
 * configOBUs (rest: a sequence header OBU, maybe metadata OBUs)
 * ```
 *
 * @module
 */

import { BitReader } from "../../binary.ts";
import { ProtocolError } from "../../errors.ts";
import { codecError } from "../_error.ts";

/** What {@link parseAv1c} reads. */
export interface Av1c {
  seqProfile: number;
  seqLevelIdx0: number;
  seqTier0: number;
  /** 8, 10 or 12. */
  bitDepth: number;
  monochrome: boolean;
  chromaSubsamplingX: number;
  chromaSubsamplingY: number;
  /** The configOBUs, a view of the record (may be empty). */
  configObus: Uint8Array;
  /** Maximum picture size from the sequence header OBU, when present and readable. */
  width?: number;
  height?: number;
}

/** OBU types (AV1 §6.2.2) Sluice looks at. */
export const AV1_OBU_TYPE = {
  SEQUENCE_HEADER: 1,
  TEMPORAL_DELIMITER: 2,
  FRAME_HEADER: 3,
  FRAME: 6,
} as const;

/** Parses an av1C record; a sequence header OBU among the configOBUs gives the size. */
export function parseAv1c(record: Uint8Array): Av1c {
  if (record.length < 4) {
    throw fail("truncated", `${record.length} bytes of at least 4`);
  }
  const b0 = record[0]!;
  if (b0 !== 0x81) {
    throw fail(
      "malformed",
      `marker and version byte 0x${b0.toString(16)} is not 0x81`,
    );
  }
  const b1 = record[1]!, b2 = record[2]!;
  const highBitdepth = (b2 >> 6) & 1;
  const twelveBit = (b2 >> 5) & 1;
  const configObus = record.subarray(4);
  const out: Av1c = {
    seqProfile: b1 >> 5,
    seqLevelIdx0: b1 & 0x1f,
    seqTier0: b2 >> 7,
    bitDepth: highBitdepth ? (twelveBit ? 12 : 10) : 8,
    monochrome: ((b2 >> 4) & 1) === 1,
    chromaSubsamplingX: (b2 >> 3) & 1,
    chromaSubsamplingY: (b2 >> 2) & 1,
    configObus,
  };
  try {
    const seq = findAv1SequenceHeader(configObus);
    if (seq !== undefined) {
      out.width = seq.maxFrameWidth;
      out.height = seq.maxFrameHeight;
    }
  } catch (e) {
    // The record itself is fine; an unreadable OBU only leaves the size unknown.
    if (!(e instanceof ProtocolError)) throw e;
  }
  return out;
}

/** What {@link parseAv1SequenceHeader} reads. */
export interface Av1SequenceHeader {
  seqProfile: number;
  stillPicture: boolean;
  maxFrameWidth: number;
  maxFrameHeight: number;
}

/**
 * Finds the sequence header OBU in a run of OBUs (a temporal unit or
 * configOBUs) and reads it; undefined when there is none.
 */
export function findAv1SequenceHeader(
  obus: Uint8Array,
): Av1SequenceHeader | undefined {
  let pos = 0;
  while (pos < obus.length) {
    // obu_header(): forbidden (1) | obu_type (4) | extension_flag (1) | has_size_field (1) | reserved (1)
    const header = obus[pos]!;
    if (header & 0x80) {
      throw fail("malformed", "obu_forbidden_bit set", "read OBU");
    }
    const type = (header >> 3) & 0x0f;
    let at = pos + 1 + ((header & 0x04) ? 1 : 0);
    let size: number;
    if (header & 0x02) {
      const leb = readLeb128(obus, at);
      size = leb.value;
      at += leb.length;
    } else {
      size = obus.length - at;
    }
    if (at > obus.length || size > obus.length - at) {
      throw fail("truncated", `OBU of ${size} bytes`, "read OBU");
    }
    if (type === AV1_OBU_TYPE.SEQUENCE_HEADER) {
      return parseAv1SequenceHeader(obus.subarray(at, at + size));
    }
    pos = at + size;
  }
  return undefined;
}

/** Reads sequence_header_obu() (AV1 §5.5.1) up to max_frame_height_minus_1. */
export function parseAv1SequenceHeader(payload: Uint8Array): Av1SequenceHeader {
  const r = new BitReader(payload);
  const seqProfile = r.bits(3);
  const stillPicture = r.bit() === 1;
  const reduced = r.bit() === 1;
  if (reduced) {
    r.skip(5); // seq_level_idx[0]
  } else {
    let decoderModelInfo = false;
    let bufferDelayLength = 0;
    if (r.bit()) { // timing_info_present_flag: timing_info()
      r.skip(64); // num_units_in_display_tick, time_scale
      if (r.bit()) readUvlc(r); // equal_picture_interval: num_ticks_per_picture_minus_1
      decoderModelInfo = r.bit() === 1;
      if (decoderModelInfo) { // decoder_model_info()
        bufferDelayLength = r.bits(5) + 1;
        r.skip(32 + 5 + 5); // num_units_in_decoding_tick, two lengths
      }
    }
    const initialDisplayDelay = r.bit() === 1;
    const operatingPoints = r.bits(5) + 1;
    for (let i = 0; i < operatingPoints; i++) {
      r.skip(12); // operating_point_idc
      const level = r.bits(5);
      if (level > 7) r.skip(1); // seq_tier
      if (decoderModelInfo && r.bit()) r.skip(2 * bufferDelayLength + 1); // operating_parameters_info()
      if (initialDisplayDelay && r.bit()) r.skip(4);
    }
  }
  const widthBits = r.bits(4) + 1;
  const heightBits = r.bits(4) + 1;
  const maxFrameWidth = r.bits(widthBits) + 1;
  const maxFrameHeight = r.bits(heightBits) + 1;
  return { seqProfile, stillPicture, maxFrameWidth, maxFrameHeight };
}

/** uvlc(), AV1 §4.10.3. */
function readUvlc(r: BitReader): number {
  let zeros = 0;
  while (r.bit() === 0) {
    if (++zeros >= 32) return 2 ** 32 - 1;
  }
  return zeros === 0 ? 0 : r.bits(zeros) + 2 ** zeros - 1;
}

/** leb128(), AV1 §4.10.5: at most 8 bytes, value below 2^32. */
function readLeb128(
  data: Uint8Array,
  at: number,
): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const byte = data[at + i];
    if (byte === undefined) {
      throw fail("truncated", "leb128 size cut short", "read OBU");
    }
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) {
        throw fail("malformed", "leb128 size over 2^32", "read OBU");
      }
      return { value, length: i + 1 };
    }
  }
  throw fail("malformed", "leb128 longer than 8 bytes", "read OBU");
}

function fail(
  code: "truncated" | "malformed",
  detail: string,
  action = "parse av1C",
) {
  return codecError(action, code, detail);
}
