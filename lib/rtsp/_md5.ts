/**
 * Synchronous MD5 (RFC 1321) for HTTP Digest authentication (RFC 2617, RFC
 * 7616). WebCrypto has no MD5, and the RTSP stages stay synchronous; the
 * inputs are a few short strings per request, so speed is no concern.
 *
 * MD5 is broken as a hash; Digest uses it only because RTSP clients (ffmpeg,
 * VLC, cameras) know nothing better.
 *
 * @module
 */

/** RFC 1321 §3.4: per-round left-rotation amounts. */
const SHIFT = [
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
];

/** RFC 1321 §3.4: T[i] = floor(2^32 × |sin(i + 1)|). */
const T = Int32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0,
);

const encoder = new TextEncoder();

/** The 16-byte MD5 digest of `data` (RFC 1321). */
export function md5(data: Uint8Array): Uint8Array<ArrayBuffer> {
  // §3.1–3.2: pad with 0x80, zeros to 56 mod 64, then the bit length (64-bit little-endian).
  const blocks = ((data.length + 8) >>> 6) + 1;
  const padded = new Uint8Array(blocks * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (data.length * 8) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(data.length / 0x20000000), true);

  // §3.3: A, B, C, D
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  const x = new Int32Array(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getInt32(block + i * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + T[i]! + x[g]!) | 0;
      const s = SHIFT[i]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  // §3.5: the output is A, B, C, D, each little-endian.
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  outView.setInt32(0, a0, true);
  outView.setInt32(4, b0, true);
  outView.setInt32(8, c0, true);
  outView.setInt32(12, d0, true);
  return out;
}

/** Lower-case hex MD5 of the UTF-8 bytes of `text`, as Digest writes it (RFC 2617 §3.1.3). */
export function md5Hex(text: string): string {
  const digest = md5(encoder.encode(text));
  let out = "";
  for (const byte of digest) out += byte.toString(16).padStart(2, "0");
  return out;
}
