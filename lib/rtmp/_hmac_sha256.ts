/**
 * Synchronous SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the RTMP
 * digest handshake. WebCrypto only offers promises, and the handshake core
 * stays synchronous like every other stage; the inputs are a few kilobytes
 * per connection, so speed is no concern.
 *
 * @module
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const H0 = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

const BLOCK_SIZE = 64;
/** Bytes in a SHA-256 digest. */
export const SHA256_SIZE = 32;

/** An incremental SHA-256 hash. */
export class Sha256 {
  readonly #h = new Int32Array(H0);
  readonly #w = new Int32Array(64);
  readonly #block = new Uint8Array(BLOCK_SIZE);
  #fill = 0;
  #length = 0;
  #done = false;

  /** Feeds more bytes. */
  update(bytes: Uint8Array): this {
    if (this.#done) {
      throw new TypeError("Cannot update SHA-256: digest() was already called");
    }
    this.#length += bytes.length;
    let pos = 0;
    if (this.#fill > 0) {
      const take = Math.min(BLOCK_SIZE - this.#fill, bytes.length);
      this.#block.set(bytes.subarray(0, take), this.#fill);
      this.#fill += take;
      pos = take;
      if (this.#fill < BLOCK_SIZE) return this;
      this.#compress(this.#block, 0);
      this.#fill = 0;
    }
    for (; pos + BLOCK_SIZE <= bytes.length; pos += BLOCK_SIZE) {
      this.#compress(bytes, pos);
    }
    if (pos < bytes.length) {
      this.#block.set(bytes.subarray(pos));
      this.#fill = bytes.length - pos;
    }
    return this;
  }

  /** The 32-byte digest of everything fed (FIPS 180-4 §5.1.1 padding). */
  digest(): Uint8Array<ArrayBuffer> {
    if (this.#done) {
      throw new TypeError("Cannot finish SHA-256: digest() was already called");
    }
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#fill++] = 0x80;
    if (this.#fill > BLOCK_SIZE - 8) {
      block.fill(0, this.#fill);
      this.#compress(block, 0);
      this.#fill = 0;
    }
    block.fill(0, this.#fill);
    const view = new DataView(block.buffer);
    view.setUint32(56, Math.floor(bits / 0x100000000));
    view.setUint32(60, bits >>> 0);
    this.#compress(block, 0);
    this.#done = true;
    const out = new Uint8Array(SHA256_SIZE);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setInt32(i * 4, this.#h[i]!);
    return out;
  }

  /** FIPS 180-4 §6.2.2: one 64-byte block. */
  #compress(bytes: Uint8Array, at: number): void {
    const w = this.#w;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) |
        bytes[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^
        (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    const h = this.#h;
    let a = h[0]!,
      b = h[1]!,
      c = h[2]!,
      d = h[3]!,
      e = h[4]!,
      f = h[5]!,
      g = h[6]!,
      k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^
        ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (k + s1 + ch + K[i]! + w[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^
        ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + k) | 0;
  }
}

/** SHA-256 of the parts, as if joined. */
export function sha256(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const hash = new Sha256();
  for (const p of parts) hash.update(p);
  return hash.digest();
}

/** HMAC-SHA256 (RFC 2104) of the parts, as if joined, under `key`. */
export function hmacSha256(
  key: Uint8Array,
  ...parts: Uint8Array[]
): Uint8Array<ArrayBuffer> {
  const k = new Uint8Array(BLOCK_SIZE);
  k.set(key.length > BLOCK_SIZE ? sha256(key) : key);
  const pad = new Uint8Array(BLOCK_SIZE);
  for (let i = 0; i < BLOCK_SIZE; i++) pad[i] = k[i]! ^ 0x36;
  const inner = new Sha256().update(pad);
  for (const p of parts) inner.update(p);
  const innerDigest = inner.digest();
  for (let i = 0; i < BLOCK_SIZE; i++) pad[i] = k[i]! ^ 0x5c;
  return new Sha256().update(pad).update(innerDigest).digest();
}
