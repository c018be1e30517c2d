/**
 * SRTP and SRTCP with AES_CM_128_HMAC_SHA1_80, RFC 3711: one master key,
 * one context per direction, any number of SSRCs in it.
 *
 * ```
 * SRTP (§3.1):  | RTP header | encrypted payload            | auth tag (10) |
 *                 \________ authenticated, with the 32-bit ROC appended __/
 * SRTCP (§3.4): | header + SSRC (8) | encrypted rest | E|index (4) | tag (10) |
 *                 \_____________ authenticated ________________/
 * ```
 *
 * No MKI: GStreamer's SRTP decoder cannot take one (INTEROP.md). The packet
 * index of SRTP is ROC·2^16 + SEQ, the ROC estimated by the receiver
 * (§3.3.1, Appendix A); SRTCP carries its own 31-bit index. Both are
 * checked against a replay window before authentication and remembered
 * after it.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { AesCounter, HmacSha1 } from "./_cipher.ts";
import {
  deriveSessionKeys,
  SRTP_AUTH_TAG_SIZE,
  type SrtpMasterKey,
  type SrtpSessionKeys,
} from "./keys.ts";
import { ReplayWindow } from "./replay.ts";

/** Why a packet was refused. */
export type SrtpFailure =
  | "truncated"
  | "malformed"
  | "auth"
  | "replay"
  | "limit";

/** A packet SRTP cannot protect or accept: it is dropped, the session goes on. */
export class SrtpError extends ProtocolError {
  readonly reason: SrtpFailure;
  constructor(message: string, reason: SrtpFailure) {
    const code: ProtocolErrorCode = reason === "auth"
      ? "malformed"
      : reason === "replay"
      ? "sequence"
      : reason;
    super(message, { protocol: "rtp", code });
    this.name = "SrtpError";
    this.reason = reason;
  }
}

/** Options of {@link SrtpContext}. */
export interface SrtpContextOptions {
  /** Roll-over counters by SSRC to start from (MIKEY's CS map). @default {none: 0} */
  rocs?: ReadonlyMap<number, number>;
  /** SSRCs one context keeps state for. @default {64} */
  maxSsrcs?: number;
}

interface SsrcState {
  /** Sender and receiver: the roll-over counter. */
  roc: number;
  /** Highest sequence number seen (s_l), -1 before the first packet. */
  seq: number;
  window: ReplayWindow;
  /** SRTCP: the sender's next index, the receiver's window. */
  rtcpIndex: number;
  rtcpWindow: ReplayWindow;
}

const RTP_MIN = 12;
const RTCP_MIN = 8;
const E_INDEX_SIZE = 4;
const MAX_SRTCP_INDEX = 0x7fffffff;

class Keys {
  readonly aes: AesCounter;
  readonly hmac: HmacSha1;
  readonly salt: Uint8Array;
  constructor(k: SrtpSessionKeys) {
    this.aes = new AesCounter(k.encryption);
    this.hmac = new HmacSha1(k.auth);
    this.salt = k.salt;
  }
}

/**
 * SRTP and SRTCP of one master key: `protect*` for the sending side,
 * `unprotect*` for the receiving side (use one context per direction).
 */
export class SrtpContext {
  readonly #rtp: Keys;
  readonly #rtcp: Keys;
  readonly #states = new Map<number, SsrcState>();
  readonly #rocs: ReadonlyMap<number, number>;
  readonly #maxSsrcs: number;
  readonly #iv = new Uint8Array(16);
  readonly #roc = new Uint8Array(4);

  constructor(master: SrtpMasterKey, options: SrtpContextOptions = {}) {
    this.#rtp = new Keys(deriveSessionKeys(master, false));
    this.#rtcp = new Keys(deriveSessionKeys(master, true));
    this.#rocs = options.rocs ?? new Map();
    this.#maxSsrcs = options.maxSsrcs ?? 64;
  }

  /**
   * SRTP of an RTP packet (a new array; the packet is left as it is). The
   * ROC is the sender's own count of sequence wraps per SSRC unless `roc`
   * names the one the packet was sent with.
   */
  protectRtp(packet: Uint8Array, roc?: number): Uint8Array {
    const header = rtpHeaderSize(packet, packet.length);
    const ssrc = readU32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    const s = this.#state(ssrc);
    let r = roc;
    if (r === undefined) {
      if (s.seq >= 0 && seq < s.seq && s.seq - seq > 0x8000) s.roc++;
      s.seq = seq;
      r = s.roc;
    }
    const out = new Uint8Array(packet.length + SRTP_AUTH_TAG_SIZE);
    out.set(packet);
    const k = this.#rtp;
    k.aes.xor(
      this.#ivOf(k.salt, ssrc, r, seq),
      out.subarray(header, packet.length),
    );
    const tag = k.hmac.mac(out.subarray(0, packet.length), this.#rocBytes(r));
    out.set(tag.subarray(0, SRTP_AUTH_TAG_SIZE), packet.length);
    return out;
  }

  /** The RTP packet inside an SRTP packet; throws an {@link SrtpError} for a packet to drop. */
  unprotectRtp(packet: Uint8Array): Uint8Array {
    const end = packet.length - SRTP_AUTH_TAG_SIZE;
    if (end < RTP_MIN) throw fail("truncated", `${packet.length} bytes`);
    const header = rtpHeaderSize(packet, end);
    const ssrc = readU32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    // A new SSRC is remembered only once a packet of it authenticates.
    const s = this.#states.get(ssrc) ?? this.#newState(ssrc);
    const v = estimateRoc(s, seq);
    const index = v * 0x10000 + seq;
    if (v < 0 || !s.window.fresh(index)) {
      throw fail(
        "replay",
        `SSRC ${ssrc} index ${index} was seen or is too old`,
      );
    }
    const k = this.#rtp;
    const tag = k.hmac.mac(packet.subarray(0, end), this.#rocBytes(v));
    if (!tagMatches(tag, packet, end)) {
      throw fail("auth", `SSRC ${ssrc} sequence ${seq} failed authentication`);
    }
    this.#keep(ssrc, s);
    s.window.accept(index);
    if (v > s.roc) {
      s.roc = v;
      s.seq = seq;
    } else if (v === s.roc && seq > s.seq) s.seq = seq;
    const out = packet.slice(0, end);
    k.aes.xor(this.#ivOf(k.salt, ssrc, v, seq), out.subarray(header));
    return out;
  }

  /** SRTCP of a compound RTCP packet, encrypted, with the SSRC's next index. */
  protectRtcp(packet: Uint8Array): Uint8Array {
    checkRtcp(packet, packet.length);
    const ssrc = readU32(packet, 4);
    const s = this.#state(ssrc);
    const index = s.rtcpIndex;
    s.rtcpIndex = index === MAX_SRTCP_INDEX ? 0 : index + 1;
    const n = packet.length;
    const out = new Uint8Array(n + E_INDEX_SIZE + SRTP_AUTH_TAG_SIZE);
    out.set(packet);
    const k = this.#rtcp;
    k.aes.xor(this.#ivOf(k.salt, ssrc, 0, 0, index), out.subarray(RTCP_MIN, n));
    writeU32(out, n, (0x80000000 | index) >>> 0); // E = 1: encrypted
    const tag = k.hmac.mac(out.subarray(0, n + E_INDEX_SIZE), EMPTY);
    out.set(tag.subarray(0, SRTP_AUTH_TAG_SIZE), n + E_INDEX_SIZE);
    return out;
  }

  /** The compound RTCP packet inside an SRTCP packet; throws an {@link SrtpError} for one to drop. */
  unprotectRtcp(packet: Uint8Array): Uint8Array {
    const tagAt = packet.length - SRTP_AUTH_TAG_SIZE;
    const end = tagAt - E_INDEX_SIZE;
    if (end < RTCP_MIN) throw fail("truncated", `${packet.length} bytes`);
    checkRtcp(packet, end);
    const ssrc = readU32(packet, 4);
    const eIndex = readU32(packet, end);
    const index = eIndex & MAX_SRTCP_INDEX;
    const s = this.#states.get(ssrc) ?? this.#newState(ssrc);
    if (!s.rtcpWindow.fresh(index)) {
      throw fail(
        "replay",
        `SRTCP SSRC ${ssrc} index ${index} was seen or is too old`,
      );
    }
    const k = this.#rtcp;
    const tag = k.hmac.mac(packet.subarray(0, tagAt), EMPTY);
    if (!tagMatches(tag, packet, tagAt)) {
      throw fail(
        "auth",
        `SRTCP SSRC ${ssrc} index ${index} failed authentication`,
      );
    }
    this.#keep(ssrc, s);
    s.rtcpWindow.accept(index);
    const out = packet.slice(0, end);
    if ((eIndex & 0x80000000) !== 0) {
      k.aes.xor(this.#ivOf(k.salt, ssrc, 0, 0, index), out.subarray(RTCP_MIN));
    }
    return out;
  }

  /** The roll-over counter of `ssrc` as this context sees it (0 for an SSRC not seen). */
  roc(ssrc: number): number {
    return this.#states.get(ssrc >>> 0)?.roc ?? this.#rocs.get(ssrc >>> 0) ?? 0;
  }

  #state(ssrc: number): SsrcState {
    let s = this.#states.get(ssrc);
    if (s === undefined) {
      s = this.#newState(ssrc);
      this.#keep(ssrc, s);
    }
    return s;
  }

  #newState(ssrc: number): SsrcState {
    return {
      roc: this.#rocs.get(ssrc) ?? 0,
      seq: -1,
      window: new ReplayWindow(),
      rtcpIndex: 0,
      rtcpWindow: new ReplayWindow(),
    };
  }

  #keep(ssrc: number, s: SsrcState): void {
    if (this.#states.has(ssrc)) return;
    if (this.#states.size >= this.#maxSsrcs) {
      throw fail("limit", `more than ${this.#maxSsrcs} SSRCs`);
    }
    this.#states.set(ssrc, s);
  }

  /**
   * IV = (salt·2^16) XOR (SSRC·2^64) XOR (index·2^16), RFC 3711 §4.1.1; the
   * index is ROC·2^16 + SEQ for SRTP, the SRTCP index for SRTCP.
   */
  #ivOf(
    salt: Uint8Array,
    ssrc: number,
    roc: number,
    seq: number,
    rtcpIndex?: number,
  ): Uint8Array {
    const iv = this.#iv;
    iv.set(salt);
    iv[14] = 0;
    iv[15] = 0;
    iv[4]! ^= ssrc >>> 24;
    iv[5]! ^= (ssrc >>> 16) & 0xff;
    iv[6]! ^= (ssrc >>> 8) & 0xff;
    iv[7]! ^= ssrc & 0xff;
    if (rtcpIndex !== undefined) {
      // A 31-bit index: the low 32 of the 48 bits.
      iv[10]! ^= rtcpIndex >>> 24;
      iv[11]! ^= (rtcpIndex >>> 16) & 0xff;
      iv[12]! ^= (rtcpIndex >>> 8) & 0xff;
      iv[13]! ^= rtcpIndex & 0xff;
      return iv;
    }
    iv[8]! ^= roc >>> 24;
    iv[9]! ^= (roc >>> 16) & 0xff;
    iv[10]! ^= (roc >>> 8) & 0xff;
    iv[11]! ^= roc & 0xff;
    iv[12]! ^= seq >>> 8;
    iv[13]! ^= seq & 0xff;
    return iv;
  }

  #rocBytes(roc: number): Uint8Array {
    writeU32(this.#roc, 0, roc >>> 0);
    return this.#roc;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The receiver's guess of the ROC a packet was sent with (RFC 3711 §3.3.1):
 * the one that puts its index nearest the highest seen so far.
 */
function estimateRoc(s: SsrcState, seq: number): number {
  if (s.seq < 0) return s.roc;
  if (s.seq < 0x8000) {
    return seq - s.seq > 0x8000 ? s.roc - 1 : s.roc;
  }
  return s.seq - 0x8000 > seq ? s.roc + 1 : s.roc;
}

/** Bytes of an RTP header with its CSRCs and extension, within `end` (RFC 3550 §5.1). */
function rtpHeaderSize(packet: Uint8Array, end: number): number {
  if (end < RTP_MIN) throw fail("truncated", `RTP header of ${end} bytes`);
  const b0 = packet[0]!;
  if (b0 >> 6 !== 2) throw fail("malformed", `RTP version ${b0 >> 6}`);
  let size = RTP_MIN + 4 * (b0 & 0x0f);
  if ((b0 & 0x10) !== 0) {
    if (size + 4 > end) throw fail("truncated", "RTP header extension");
    size += 4 + 4 * ((packet[size + 2]! << 8) | packet[size + 3]!);
  }
  if (size > end) {
    throw fail("truncated", `RTP header of ${size} bytes in ${end}`);
  }
  return size;
}

function checkRtcp(packet: Uint8Array, end: number): void {
  if (end < RTCP_MIN) throw fail("truncated", `RTCP packet of ${end} bytes`);
  if (packet[0]! >> 6 !== 2) {
    throw fail("malformed", `RTCP version ${packet[0]! >> 6}`);
  }
}

function tagMatches(mac: Uint8Array, packet: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < SRTP_AUTH_TAG_SIZE; i++) {
    diff |= mac[i]! ^ packet[at + i]!;
  }
  return diff === 0;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) |
    b[at + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function fail(reason: SrtpFailure, detail: string): SrtpError {
  const action = reason === "auth" || reason === "replay"
    ? "accept SRTP packet"
    : "read SRTP packet";
  return new SrtpError(`Cannot ${action}: ${detail}`, reason);
}
