/**
 * The RTMP handshake (Adobe RTMP specification 1.0, §5.2), server and client
 * side, as synchronous state machines: bytes in, bytes to send out.
 *
 * Besides the plain form of the specification, the server answers the digest
 * ("complex") handshake that Flash Player, ffmpeg and many encoders send:
 * their C1 carries an HMAC-SHA256 digest, and players such as ffmpeg check the
 * digests in S1 and S2 before they go on.
 *
 * ```
 * C0/S0  version (1 byte, 3)
 * C1/S1  time (4) | zero, or a version in the digest form (4) | random (1528)
 * C2/S2  time (4) | time2 (4) | echo of the peer's random (1528)
 *        digest form: random (1504) | digest (32)
 * ```
 *
 * @module
 */
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { hmacSha256, SHA256_SIZE } from "./_hmac_sha256.ts";

/** The plain RTMP version byte of C0 and S0 (§5.2.2). */
export const RTMP_VERSION = 3;
/** Bytes in C1, S1, C2 and S2 (§5.2.3, §5.2.4). */
export const HANDSHAKE_SIZE = 1536;

/** `Genuine Adobe Flash Player 001` then 32 fixed bytes: the client's key. */
const FP_KEY = withKeyTail("Genuine Adobe Flash Player 001");
/** `Genuine Adobe Flash Media Server 001` then the same 32 bytes: the server's key. */
const FMS_KEY = withKeyTail("Genuine Adobe Flash Media Server 001");
/** C1 digests are keyed with the text part of the player key only. */
const FP_KEY_TEXT = FP_KEY.subarray(0, 30);
/** S1 digests are keyed with the text part of the server key only. */
const FMS_KEY_TEXT = FMS_KEY.subarray(0, 36);

/**
 * The version S1 states in the digest form. ffmpeg checks S1 and S2 digests
 * only when the first byte is 3 or more; in the plain form the field is zero,
 * so no client looks for digests we did not write.
 */
const SERVER_VERSION = new Uint8Array([5, 0, 3, 1]);
/** RTMPE (encrypted) handshakes: 6 (Diffie-Hellman + RC4), 8 and 9 (XTEA, Blowfish). */
const RTMPE_VERSIONS = new Set([6, 8, 9]);

/**
 * Where a digest sits in C1 or S1. In scheme 0 the 4 bytes at offset 8 give
 * it (sum mod 728, plus 12), in scheme 1 those at offset 772 (sum mod 728,
 * plus 776). ffmpeg and librtmp write scheme 0; Flash Player 10 and later
 * write scheme 1. (crtmpserver's numbering; SRS calls them the other way round.)
 */
export type DigestScheme = 0 | 1;

/** Options of {@link HandshakeServer}. */
export interface HandshakeServerOptions {
  /** What S1's time field says, in milliseconds (the server's uptime, say). @default {0} */
  timeMs?: number;
  /** Answer a C1 that carries a valid digest in the digest form. @default {true} */
  digest?: boolean;
}

/**
 * The server side of the handshake. Feed it the socket's bytes with
 * {@link HandshakeServer.push}; once C0 and C1 are in, `push` returns S0, S1
 * and S2 as one buffer to write. After C2, `done` is true and `rest` holds the
 * bytes that followed it (ffmpeg sends `connect` right behind C2, often in the
 * same read); they belong to the chunk stream.
 */
export class HandshakeServer {
  readonly #in = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
  #fill = 0;
  #rest: Uint8Array = new Uint8Array(0);
  #scheme: DigestScheme | undefined;
  readonly #timeMs: number;
  readonly #digest: boolean;

  constructor(options: HandshakeServerOptions = {}) {
    this.#timeMs = options.timeMs ?? 0;
    this.#digest = options.digest ?? true;
  }

  /** Whether C2 has arrived: from here on, bytes go to the chunk demuxer. */
  get done(): boolean {
    return this.#fill === this.#in.length;
  }

  /** The bytes that followed C2 in the read that completed it. */
  get rest(): Uint8Array {
    return this.#rest;
  }

  /** The digest scheme C1 used, or `undefined` when the answer was plain. */
  get scheme(): DigestScheme | undefined {
    return this.#scheme;
  }

  /**
   * Takes bytes from the client; returns S0+S1+S2 once C0 and C1 are complete
   * (exactly once), else `undefined`.
   */
  push(bytes: Uint8Array): Uint8Array | undefined {
    if (this.done) {
      throw new TypeError("Cannot push handshake bytes: the handshake is done");
    }
    const before = this.#fill;
    const take = Math.min(bytes.length, this.#in.length - before);
    this.#in.set(bytes.subarray(0, take), before);
    this.#fill += take;
    if (before === 0 && take > 0) checkVersion(this.#in[0]!, "C0");
    if (this.done) this.#rest = bytes.subarray(take);
    const c1End = 1 + HANDSHAKE_SIZE;
    if (before < c1End && this.#fill >= c1End) {
      return this.#reply(this.#in.subarray(1, c1End));
    }
    return undefined;
  }

  #reply(c1: Uint8Array): Uint8Array {
    const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    crypto.getRandomValues(s1.subarray(8));
    new DataView(s1.buffer, s1.byteOffset, 4).setUint32(0, this.#timeMs >>> 0);
    const found = this.#digest ? findDigest(c1, FP_KEY_TEXT) : undefined;
    if (found === undefined) {
      // §5.2.4 would put our read time in bytes 4..7; an exact echo keeps
      // rtmpdump from warning that "client signature does not match".
      s2.set(c1);
      return out;
    }
    this.#scheme = found.scheme;
    s1.set(SERVER_VERSION, 4);
    imprintDigest(s1, found.scheme, FMS_KEY_TEXT);
    // S2: random, then a digest of it keyed on the client's C1 digest.
    crypto.getRandomValues(s2);
    const key = hmacSha256(
      FMS_KEY,
      c1.subarray(found.offset, found.offset + SHA256_SIZE),
    );
    s2.set(
      hmacSha256(key, s2.subarray(0, HANDSHAKE_SIZE - SHA256_SIZE)),
      HANDSHAKE_SIZE - SHA256_SIZE,
    );
    return out;
  }
}

/** Options of {@link HandshakeClient}. */
export interface HandshakeClientOptions {
  /** What C1's time field says, in milliseconds. @default {0} */
  timeMs?: number;
}

/**
 * The client side of the plain handshake: {@link HandshakeClient.start} gives
 * C0+C1, `push` takes the server's bytes and returns C2 (an echo of S1) once
 * S0 and S1 are in; after S2, `done` is true and `rest` holds what followed.
 */
export class HandshakeClient {
  readonly #in = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
  #fill = 0;
  #rest: Uint8Array = new Uint8Array(0);
  #started = false;
  readonly #timeMs: number;

  constructor(options: HandshakeClientOptions = {}) {
    this.#timeMs = options.timeMs ?? 0;
  }

  /** Whether S2 has arrived. */
  get done(): boolean {
    return this.#fill === this.#in.length;
  }

  /** The bytes that followed S2 in the read that completed it. */
  get rest(): Uint8Array {
    return this.#rest;
  }

  /** C0 and C1, to send first; C1's version field is zero (plain handshake). */
  start(): Uint8Array {
    if (this.#started) {
      throw new TypeError("Cannot start handshake: it was already started");
    }
    this.#started = true;
    const out = new Uint8Array(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    crypto.getRandomValues(out.subarray(9));
    new DataView(out.buffer).setUint32(1, this.#timeMs >>> 0);
    return out;
  }

  /** Takes bytes from the server; returns C2 once S0 and S1 are in (exactly once). */
  push(bytes: Uint8Array): Uint8Array | undefined {
    if (!this.#started) {
      throw new TypeError(
        "Cannot push handshake bytes: start() was not called",
      );
    }
    if (this.done) {
      throw new TypeError("Cannot push handshake bytes: the handshake is done");
    }
    const before = this.#fill;
    const take = Math.min(bytes.length, this.#in.length - before);
    this.#in.set(bytes.subarray(0, take), before);
    this.#fill += take;
    if (before === 0 && take > 0) checkVersion(this.#in[0]!, "S0");
    if (this.done) this.#rest = bytes.subarray(take);
    const s1End = 1 + HANDSHAKE_SIZE;
    if (before < s1End && this.#fill >= s1End) return this.#in.slice(1, s1End);
    return undefined;
  }
}

function checkVersion(version: number, what: string): void {
  if (version === RTMP_VERSION) return;
  const detail = RTMPE_VERSIONS.has(version)
    ? `version ${version} is encrypted RTMPE`
    : `version ${version} is not ${RTMP_VERSION}`;
  throw fail("unsupported", `${what} ${detail}`);
}

/** Offset of the digest in a C1 or S1 under `scheme`. */
function digestOffset(block: Uint8Array, scheme: DigestScheme): number {
  const base = scheme === 0 ? 8 : 772;
  const sum = block[base]! + block[base + 1]! + block[base + 2]! +
    block[base + 3]!;
  return (sum % 728) + base + 4;
}

/** HMAC-SHA256 of the block without its 32 digest bytes. */
function digestAt(
  block: Uint8Array,
  offset: number,
  key: Uint8Array,
): Uint8Array {
  return hmacSha256(
    key,
    block.subarray(0, offset),
    block.subarray(offset + SHA256_SIZE),
  );
}

function findDigest(
  c1: Uint8Array,
  key: Uint8Array,
): { scheme: DigestScheme; offset: number } | undefined {
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(c1, scheme);
    const expected = digestAt(c1, offset, key);
    let same = true;
    for (let i = 0; i < SHA256_SIZE; i++) {
      if (expected[i] !== c1[offset + i]) same = false;
    }
    if (same) return { scheme, offset };
  }
  return undefined;
}

function imprintDigest(
  block: Uint8Array,
  scheme: DigestScheme,
  key: Uint8Array,
): void {
  const offset = digestOffset(block, scheme);
  block.set(digestAt(block, offset, key), offset);
}

function withKeyTail(text: string): Uint8Array {
  const tail = [
    0xf0,
    0xee,
    0xc2,
    0x4a,
    0x80,
    0x68,
    0xbe,
    0xe8,
    0x2e,
    0x00,
    0xd0,
    0xd1,
    0x02,
    0x9e,
    0x7e,
    0x57,
    0x6e,
    0xec,
    0x5d,
    0x2d,
    0x29,
    0x80,
    0x6f,
    0xab,
    0x93,
    0xb8,
    0xe6,
    0x36,
    0xcf,
    0xeb,
    0x31,
    0xae,
  ];
  const head = new TextEncoder().encode(text);
  const key = new Uint8Array(head.length + tail.length);
  key.set(head);
  key.set(tail, head.length);
  return key;
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot complete RTMP handshake: ${detail}`, {
    protocol: "rtmp",
    code,
  });
}
