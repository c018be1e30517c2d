/**
 * PES packet headers, ISO/IEC 13818-1 §2.4.3.6, with PTS and DTS in 90 kHz
 * ticks (33 bits, wrapping).
 *
 * ```
 * packet_start_code_prefix 0x000001 (24) | stream_id (8) | PES_packet_length (16)
 * '10' | scrambling (2) | priority (1) | alignment (1) | copyright (1) | original (1)
 * PTS_DTS_flags (2) | ESCR … extension flags (6) | PES_header_data_length (8)
 * PTS: '0011' or '0010' | [32..30] | 1 | [29..15] | 1 | [14..0] | 1   (5 bytes)
 * DTS: '0001' | [32..30] | 1 | [29..15] | 1 | [14..0] | 1             (5 bytes)
 * ```
 *
 * @module
 */

/** stream_id values, Table 2-22. */
export const STREAM_ID = { VIDEO: 0xe0, AUDIO: 0xc0 } as const;

const WRAP = 2 ** 33;

/**
 * The header of a PES packet of `payloadSize` bytes; DTS is written only
 * when it differs from PTS. A video packet over 65535 bytes gets length 0
 * (unbounded, §2.4.3.7 allows it for video in a transport stream).
 */
export function pesHeader(
  streamId: number,
  payloadSize: number,
  pts: number,
  dts: number,
): Uint8Array {
  const withDts = dts !== pts;
  const headerData = withDts ? 10 : 5;
  const out = new Uint8Array(9 + headerData);
  const length = 3 + headerData + payloadSize;
  out[2] = 1;
  out[3] = streamId;
  if (length <= 0xffff) {
    out[4] = length >> 8;
    out[5] = length & 0xff;
  }
  out[6] = 0x84; // '10', data_alignment_indicator: the payload starts an access unit
  out[7] = withDts ? 0xc0 : 0x80;
  out[8] = headerData;
  writeTimestamp(out, 9, withDts ? 0x3 : 0x2, pts);
  if (withDts) writeTimestamp(out, 14, 0x1, dts);
  return out;
}

function writeTimestamp(
  out: Uint8Array,
  at: number,
  prefix: number,
  ticks: number,
): void {
  const t = ((Math.round(ticks) % WRAP) + WRAP) % WRAP;
  const high = Math.floor(t / 2 ** 30); // bits 32..30
  const low = t % 2 ** 30;
  out[at] = (prefix << 4) | (high << 1) | 1;
  out[at + 1] = (low >>> 22) & 0xff;
  out[at + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  out[at + 3] = (low >>> 7) & 0xff;
  out[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** Reads a 33-bit timestamp written by {@link pesHeader} (for tests and probes). */
export function readTimestamp(b: Uint8Array, at: number): number {
  return ((b[at]! >> 1) & 0x07) * 2 ** 30 + (b[at + 1]! << 22) +
    ((b[at + 2]! >> 1) << 15) + (b[at + 3]! << 7) + (b[at + 4]! >> 1);
}
