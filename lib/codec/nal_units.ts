/**
 * NAL unit framing shared by H.264 and H.265: Annex-B start codes, length
 * prefixes (ISO/IEC 14496-15 §5.3.2 / §8.3.2), and emulation prevention.
 *
 * @module
 */

import { codecError } from "./_error.ts";

/**
 * Splits an Annex-B byte stream (ITU-T H.264 Annex B, H.265 Annex B) into NAL
 * units: views of `data` without start codes or trailing zero bytes. Bytes
 * before the first start code count as a unit, so a bare NAL unit comes back
 * as itself.
 */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let from = 0;
  let i = 0;
  while (i + 2 < data.length) {
    const b2 = data[i + 2]!;
    if (b2 > 1) {
      i += 3; // no start code can end in this window
    } else if (b2 === 1 && data[i + 1] === 0 && data[i] === 0) {
      pushTrimmed(units, data, from, i);
      i += 3;
      from = i;
    } else {
      i++;
    }
  }
  pushTrimmed(units, data, from, data.length);
  return units;
}

function pushTrimmed(
  units: Uint8Array[],
  data: Uint8Array,
  from: number,
  to: number,
): void {
  // A NAL unit never ends in 0x00 (rbsp_trailing_bits), so zeros at the end
  // are the first byte of a 4-byte start code or trailing_zero_8bits.
  while (to > from && data[to - 1] === 0) to--;
  if (to > from) units.push(data.subarray(from, to));
}

/**
 * Splits NAL units that each carry a big-endian length prefix of
 * `lengthSize` (1 to 4) bytes, as in FLV and MP4 samples. Returns views of
 * `data`; empty units are skipped. A length that runs past the end is a
 * `truncated` {@link ProtocolError}.
 */
export function splitLengthPrefixed(
  data: Uint8Array,
  lengthSize: number,
): Uint8Array[] {
  if (!Number.isInteger(lengthSize) || lengthSize < 1 || lengthSize > 4) {
    throw new RangeError(
      `Cannot split NAL units: length size "${lengthSize}" is not 1 to 4`,
    );
  }
  const units: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < lengthSize) {
      throw codecError(
        "split NAL units",
        "truncated",
        `${data.length - pos} bytes left for a ${lengthSize}-byte length`,
      );
    }
    let size = 0;
    for (let k = 0; k < lengthSize; k++) size = size * 256 + data[pos + k]!;
    pos += lengthSize;
    if (size > data.length - pos) {
      throw codecError(
        "split NAL units",
        "truncated",
        `unit of ${size} bytes with only ${data.length - pos} left`,
      );
    }
    if (size > 0) units.push(data.subarray(pos, pos + size));
    pos += size;
  }
  return units;
}

/**
 * Removes emulation prevention bytes (the 0x03 in 0x000003, H.264 §7.4.1,
 * H.265 §7.4.2): NAL unit payload → RBSP. Returns `nal` itself when there is
 * nothing to remove.
 */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let first = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = new Uint8Array(nal.length);
  out.set(nal.subarray(0, first));
  let n = first;
  let zeros = 0;
  for (let i = first + 1; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
