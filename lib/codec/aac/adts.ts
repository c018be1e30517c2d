/**
 * ADTS headers, ISO/IEC 14496-3 §1.A.2.2 (adts_fixed_header and
 * adts_variable_header): AAC as some publishers send it even inside FLV, and
 * as MPEG-TS carries it.
 *
 * ```
 * syncword 0xFFF (12) | ID (1) | layer '00'b (2) | protection_absent (1)
 * profile_ObjectType (2) | sampling_frequency_index (4) | private_bit (1)
 * channel_configuration (3) | original_copy (1) | home (1)
 * copyright_identification_bit (1) | copyright_identification_start (1)
 * aac_frame_length (13, header included) | adts_buffer_fullness (11)
 * number_of_raw_data_blocks_in_frame (2) | [crc_check (16) when protection_absent is 0]
 * ```
 *
 * @module
 */

import { codecError } from "../_error.ts";
import { AAC_SAMPLE_RATES } from "./asc.ts";

/** What {@link parseAdtsHeader} reads. */
export interface AdtsHeader {
  /** MPEG-4 audio object type: profile_ObjectType + 1 (2 for AAC LC). */
  objectType: number;
  sampleRate: number;
  channelConfig: number;
  channels: number;
  /** Bytes of the whole ADTS frame, header included. */
  frameLength: number;
  /** 7, or 9 with a CRC. */
  headerSize: number;
}

/** One frame of an ADTS stream. */
export interface AdtsFrame {
  header: AdtsHeader;
  /** The raw AAC access unit, a view of the input. */
  payload: Uint8Array;
}

/** Whether `data` starts with an ADTS syncword and layer 0. */
export function isAdts(data: Uint8Array): boolean {
  return data.length >= 7 && data[0] === 0xff && (data[1]! & 0xf6) === 0xf0;
}

/** Parses the ADTS header at `offset` of `data`. */
export function parseAdtsHeader(data: Uint8Array, offset = 0): AdtsHeader {
  if (data.length - offset < 7) {
    throw fail("truncated", `${data.length - offset} bytes of a 7-byte header`);
  }
  const b = (i: number) => data[offset + i]!;
  if (b(0) !== 0xff || (b(1) & 0xf6) !== 0xf0) {
    throw fail("malformed", "no syncword 0xFFF with layer 0");
  }
  const headerSize = b(1) & 0x01 ? 7 : 9;
  const objectType = (b(2) >> 6) + 1;
  const index = (b(2) >> 2) & 0x0f;
  const sampleRate = AAC_SAMPLE_RATES[index];
  if (sampleRate === undefined) {
    throw fail("malformed", `sampling_frequency_index ${index}`);
  }
  const channelConfig = ((b(2) & 0x01) << 2) | (b(3) >> 6);
  if (channelConfig === 0) {
    throw fail(
      "unsupported",
      "channel_configuration 0 (program config element)",
    );
  }
  const frameLength = ((b(3) & 0x03) << 11) | (b(4) << 3) | (b(5) >> 5);
  if (frameLength < headerSize) {
    throw fail("malformed", `aac_frame_length ${frameLength}`);
  }
  if ((b(6) & 0x03) !== 0) {
    throw fail("unsupported", "more than one raw data block per frame");
  }
  const channels = channelConfig === 7 ? 8 : channelConfig;
  return {
    objectType,
    sampleRate,
    channelConfig,
    channels,
    frameLength,
    headerSize,
  };
}

/** Splits a run of ADTS frames into headers and payload views; a cut frame is `truncated`. */
export function splitAdts(data: Uint8Array): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    const header = parseAdtsHeader(data, pos);
    if (header.frameLength > data.length - pos) {
      throw fail(
        "truncated",
        `frame of ${header.frameLength} bytes with ${data.length - pos} left`,
      );
    }
    frames.push({
      header,
      payload: data.subarray(pos + header.headerSize, pos + header.frameLength),
    });
    pos += header.frameLength;
  }
  return frames;
}

function fail(code: "truncated" | "malformed" | "unsupported", detail: string) {
  return codecError("parse ADTS header", code, detail);
}
