/**
 * Program specific information, ISO/IEC 13818-1 §2.4.4: the program
 * association table (PID 0) naming one program, and its program map table
 * listing the elementary streams. Each section goes behind a pointer field
 * of 0 and ends with its CRC-32.
 *
 * ```
 * table_id (8) | section_syntax_indicator 1 | '0' | reserved 11 | section_length (12)
 * table_id_extension (16) | reserved 11 | version (5) | current_next 1
 * section_number (8) | last_section_number (8) | table data … | CRC_32 (32)
 * PAT data: program_number (16) | reserved 111 | program_map_PID (13)
 * PMT data: reserved 111 | PCR_PID (13) | reserved 1111 | program_info_length (12)
 *   { stream_type (8) | reserved 111 | elementary_PID (13) | reserved 1111 | ES_info_length (12) }
 * ```
 *
 * @module
 */

import { crc32Mpeg } from "./crc32.ts";

/** PID of the program association table. */
export const PAT_PID = 0x0000;
/** table_id values, Table 2-31. */
export const TABLE_ID = { PAT: 0x00, PMT: 0x02 } as const;

/** stream_type values, Table 2-34 and ITU-T H.222.0 amendments. */
export const STREAM_TYPE = {
  /** ISO/IEC 11172-3 (MPEG-1 audio, MP3). */
  MPEG1_AUDIO: 0x03,
  /** ISO/IEC 13818-7 AAC with ADTS. */
  AAC_ADTS: 0x0f,
  /** ITU-T H.264. */
  H264: 0x1b,
  /** ITU-T H.265. */
  H265: 0x24,
} as const;

/** One elementary stream of the program map. */
export interface ElementaryStream {
  streamType: number;
  pid: number;
}

/** A PSI section: header, `data`, CRC; with the pointer field before it. */
function section(
  tableId: number,
  extension: number,
  data: Uint8Array,
): Uint8Array {
  const length = 5 + data.length + 4; // after section_length: header rest, data, CRC
  const out = new Uint8Array(1 + 3 + length);
  out[0] = 0; // pointer_field: the section starts at once
  out[1] = tableId;
  out[2] = 0xb0 | ((length >> 8) & 0x0f);
  out[3] = length & 0xff;
  out[4] = extension >> 8;
  out[5] = extension & 0xff;
  out[6] = 0xc1; // version 0, current_next_indicator 1
  out[7] = 0;
  out[8] = 0;
  out.set(data, 9);
  const crcAt = 9 + data.length;
  const crc = crc32Mpeg(out.subarray(1, crcAt));
  new DataView(out.buffer).setUint32(crcAt, crc);
  return out;
}

/** The PAT of a transport stream with one program, its PMT on `pmtPid`. */
export function encodePat(programNumber: number, pmtPid: number): Uint8Array {
  const data = new Uint8Array([
    programNumber >> 8,
    programNumber & 0xff,
    0xe0 | (pmtPid >> 8),
    pmtPid & 0xff,
  ]);
  return section(TABLE_ID.PAT, 1, data);
}

/** The PMT of program `programNumber`: its streams, the PCR on `pcrPid`. */
export function encodePmt(
  programNumber: number,
  pcrPid: number,
  streams: readonly ElementaryStream[],
): Uint8Array {
  const data = new Uint8Array(4 + 5 * streams.length);
  data[0] = 0xe0 | (pcrPid >> 8);
  data[1] = pcrPid & 0xff;
  data[2] = 0xf0; // program_info_length 0
  data[3] = 0;
  streams.forEach((s, i) => {
    const at = 4 + 5 * i;
    data[at] = s.streamType;
    data[at + 1] = 0xe0 | (s.pid >> 8);
    data[at + 2] = s.pid & 0xff;
    data[at + 3] = 0xf0;
    data[at + 4] = 0;
  });
  return section(TABLE_ID.PMT, programNumber, data);
}
