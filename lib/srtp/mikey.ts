/**
 * MIKEY (RFC 3830) as RTSP peers use it in SDP (RFC 4567,
 * `a=key-mgmt:mikey <base64>`): an initiator's pre-shared-key message whose
 * KEMAC is not encrypted (the RTSP connection's TLS protects it), carrying
 * one SRTP master key and salt. GStreamer and live555 exchange this shape:
 *
 * ```
 * HDR   version 1 | type 0 (PSK init) | next | V,PRF | CSB ID (32) | #CS | map type 0 (SRTP-ID)
 *       per CS: policy (8) | SSRC (32) | ROC (32)
 * T     next | type 0 (NTP-UTC) | 64-bit NTP time
 * RAND  next | length | random bytes (16)
 * SP    next | policy | protocol 0 (SRTP) | params length (16) | type, length, value …
 * KEMAC next | encryption 0 (NULL) | length (16) | key data sub-payloads | MAC 0 (NULL)
 * key data sub-payload: next | type (4) TEK | KV (4) NULL | length (16) | key ‖ salt (30)
 * ```
 *
 * Sluice writes no MKI (KV NULL): GStreamer's SRTP decoder rejects one
 * (INTEROP.md). It reads what GStreamer's rtspclientsink and rtspsrc write,
 * including GStreamer's habit of giving the tag length (10) as the SP's
 * "session auth. key length".
 *
 * @module
 */

import {
  checkMasterKey,
  SRTP_AUTH_KEY_SIZE,
  SRTP_AUTH_TAG_SIZE,
  SRTP_MASTER_KEY_SIZE,
  SRTP_MASTER_SALT_SIZE,
  type SrtpMasterKey,
} from "./keys.ts";
import {
  KEY_TEK,
  KV_NULL,
  MAP_SRTP_ID,
  MIKEY_PAYLOAD,
  MIKEY_SRTP_PARAM,
  NTP_UNIX_OFFSET_S,
  PROTOCOL_SRTP,
  TYPE_PSK_INIT,
  VERSION,
} from "./_mikey.ts";

export { MIKEY_PAYLOAD, MIKEY_SRTP_PARAM, MikeyError } from "./_mikey.ts";

/** One crypto session of the SRTP-ID map: an SSRC and its roll-over counter. */
export interface MikeyCryptoSession {
  policy: number;
  ssrc: number;
  roc: number;
}

/** What a MIKEY message gives SRTP. */
export interface MikeyMessage {
  /** Crypto session bundle id. */
  csbId: number;
  /** The SRTP-ID map: SSRCs and ROCs (may be empty). */
  sessions: MikeyCryptoSession[];
  /** The master key and salt of AES_CM_128_HMAC_SHA1_80. */
  master: SrtpMasterKey;
}

/** Options of {@link encodeMikey}. */
export interface MikeyEncodeOptions {
  /** SSRCs (with their ROCs) the key is for. @default {[]} */
  sessions?: { ssrc: number; roc: number }[];
  /** @default {random} */
  csbId?: number;
  /** 16 random bytes for RAND. @default {random} */
  rand?: Uint8Array;
  /** The time for T. @default {Date.now()} */
  nowMs?: number;
}

/**
 * A pre-shared-key init message without encryption or MAC, carrying
 * `master` for AES_CM_128_HMAC_SHA1_80 and no MKI.
 */
export function encodeMikey(
  master: SrtpMasterKey,
  options: MikeyEncodeOptions = {},
): Uint8Array {
  checkMasterKey(master);
  const sessions = options.sessions ?? [];
  if (sessions.length > 255) {
    throw new RangeError("more than 255 crypto sessions");
  }
  const out: number[] = [];
  const u8 = (v: number) => out.push(v & 0xff);
  const u16 = (v: number) => out.push((v >>> 8) & 0xff, v & 0xff);
  const u32 = (v: number) => {
    u16(v >>> 16);
    u16(v & 0xffff);
  };
  const bytes = (b: Uint8Array) => {
    for (const x of b) out.push(x);
  };
  // HDR (§6.1)
  u8(VERSION);
  u8(TYPE_PSK_INIT);
  u8(MIKEY_PAYLOAD.T);
  u8(0); // V = 0 (no verification message), PRF = MIKEY-1
  u32(options.csbId ?? crypto.getRandomValues(new Uint32Array(1))[0]!);
  u8(sessions.length);
  u8(MAP_SRTP_ID);
  for (const s of sessions) {
    u8(0); // policy 0: the SP below
    u32(s.ssrc >>> 0);
    u32(s.roc >>> 0);
  }
  // T (§6.6): NTP-UTC
  u8(MIKEY_PAYLOAD.RAND);
  u8(0);
  const ms = options.nowMs ?? Date.now();
  const seconds = Math.floor(ms / 1000) + NTP_UNIX_OFFSET_S;
  u32(seconds);
  u32(Math.floor(((ms % 1000) / 1000) * 0x100000000));
  // RAND (§6.11)
  const rand = options.rand ?? crypto.getRandomValues(new Uint8Array(16));
  u8(MIKEY_PAYLOAD.SP);
  u8(rand.length);
  bytes(rand);
  // SP (§6.10): policy 0, SRTP, AES_CM_128_HMAC_SHA1_80
  const P = MIKEY_SRTP_PARAM;
  const params: [number, number][] = [
    [P.ENCRYPTION, 1], // AES-CM
    [P.ENCRYPTION_KEY_LENGTH, SRTP_MASTER_KEY_SIZE],
    [P.AUTH, 1], // HMAC-SHA-1
    [P.AUTH_KEY_LENGTH, SRTP_AUTH_KEY_SIZE],
    [P.SALT_LENGTH, SRTP_MASTER_SALT_SIZE],
    [P.PRF, 0], // AES-CM
    [P.KEY_DERIVATION_RATE, 0],
    [P.SRTP_ENCRYPTION, 1],
    [P.SRTCP_ENCRYPTION, 1],
    [P.SRTP_AUTH, 1],
    [P.AUTH_TAG_LENGTH, SRTP_AUTH_TAG_SIZE],
  ];
  u8(MIKEY_PAYLOAD.KEMAC);
  u8(0);
  u8(PROTOCOL_SRTP);
  u16(params.length * 3);
  for (const [type, value] of params) {
    u8(type);
    u8(1);
    u8(value);
  }
  // KEMAC (§6.2) with one key data sub-payload (§6.13): TEK, no KV, key ‖ salt
  const keyLength = SRTP_MASTER_KEY_SIZE + SRTP_MASTER_SALT_SIZE;
  u8(MIKEY_PAYLOAD.LAST);
  u8(0); // encryption NULL
  u16(4 + keyLength);
  u8(MIKEY_PAYLOAD.LAST);
  u8((KEY_TEK << 4) | KV_NULL);
  u16(keyLength);
  bytes(master.key);
  bytes(master.salt);
  u8(0); // MAC NULL
  return new Uint8Array(out);
}
