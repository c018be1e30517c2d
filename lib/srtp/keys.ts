/**
 * Master keys and session keys of AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.3,
 * with the key derivation rate 0 that every RTSP peer uses).
 *
 * @module
 */

import { AesCounter } from "./_cipher.ts";

/** Bytes of the master key (AES-128). */
export const SRTP_MASTER_KEY_SIZE = 16;
/** Bytes of the master salt (112 bits). */
export const SRTP_MASTER_SALT_SIZE = 14;
/** Bytes of the HMAC-SHA1 session key. */
export const SRTP_AUTH_KEY_SIZE = 20;
/** Bytes of the authentication tag of the `_80` suite. */
export const SRTP_AUTH_TAG_SIZE = 10;

/** The key derivation labels, RFC 3711 §4.3.1 and §4.3.2. */
export const SRTP_LABEL = {
  RTP_ENCRYPTION: 0,
  RTP_AUTH: 1,
  RTP_SALT: 2,
  RTCP_ENCRYPTION: 3,
  RTCP_AUTH: 4,
  RTCP_SALT: 5,
} as const;

/** A master key and master salt: what MIKEY carries (30 bytes together). */
export interface SrtpMasterKey {
  key: Uint8Array;
  salt: Uint8Array;
}

/** The session keys of one direction of SRTP or SRTCP. */
export interface SrtpSessionKeys {
  encryption: Uint8Array;
  auth: Uint8Array;
  salt: Uint8Array;
}

/** A fresh master key and salt from the platform's random generator. */
export function randomMasterKey(): SrtpMasterKey {
  const bytes = crypto.getRandomValues(
    new Uint8Array(SRTP_MASTER_KEY_SIZE + SRTP_MASTER_SALT_SIZE),
  );
  return {
    key: bytes.slice(0, SRTP_MASTER_KEY_SIZE),
    salt: bytes.slice(SRTP_MASTER_KEY_SIZE),
  };
}

/** Checks the sizes of a master key; throws a RangeError otherwise. */
export function checkMasterKey(master: SrtpMasterKey): void {
  if (
    master.key.length !== SRTP_MASTER_KEY_SIZE ||
    master.salt.length !== SRTP_MASTER_SALT_SIZE
  ) {
    throw new RangeError(
      `Cannot use SRTP master key: ${master.key.length}-byte key and ${master.salt.length}-byte salt, expected 16 and 14`,
    );
  }
}

/**
 * One session key (RFC 3711 §4.3.1): the AES-CM keystream of the master key
 * at IV = (master salt XOR label·2^48)·2^16, cut to `length` bytes. With a
 * key derivation rate of 0 the packet index plays no part.
 */
export function deriveSessionKey(
  master: SrtpMasterKey,
  label: number,
  length: number,
): Uint8Array {
  checkMasterKey(master);
  const iv = new Uint8Array(16);
  iv.set(master.salt);
  iv[7]! ^= label; // key_id = label || r (48 bits, 0): the label sits 7 bytes from the salt's end
  return new AesCounter(master.key).keystream(iv, length).slice();
}

/** The session keys for SRTP (`rtcp` false) or SRTCP. */
export function deriveSessionKeys(
  master: SrtpMasterKey,
  rtcp: boolean,
): SrtpSessionKeys {
  const base = rtcp ? SRTP_LABEL.RTCP_ENCRYPTION : SRTP_LABEL.RTP_ENCRYPTION;
  return {
    encryption: deriveSessionKey(master, base, SRTP_MASTER_KEY_SIZE),
    auth: deriveSessionKey(master, base + 1, SRTP_AUTH_KEY_SIZE),
    salt: deriveSessionKey(master, base + 2, SRTP_MASTER_SALT_SIZE),
  };
}
