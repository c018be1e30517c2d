/**
 * Wire numbers of MIKEY (RFC 3830) shared by the encoder and the decoder.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

/** Payload types, RFC 3830 §6.1. */
export const MIKEY_PAYLOAD = {
  LAST: 0,
  KEMAC: 1,
  PKE: 2,
  DH: 3,
  SIGN: 4,
  T: 5,
  ID: 6,
  CERT: 7,
  CHASH: 8,
  V: 9,
  SP: 10,
  RAND: 11,
  ERR: 12,
  KEY_DATA: 20,
  GENERAL_EXT: 21,
} as const;

/** SRTP policy parameters, RFC 3830 §6.10.1. */
export const MIKEY_SRTP_PARAM = {
  ENCRYPTION: 0,
  ENCRYPTION_KEY_LENGTH: 1,
  AUTH: 2,
  AUTH_KEY_LENGTH: 3,
  SALT_LENGTH: 4,
  PRF: 5,
  KEY_DERIVATION_RATE: 6,
  SRTP_ENCRYPTION: 7,
  SRTCP_ENCRYPTION: 8,
  FEC_ORDER: 9,
  SRTP_AUTH: 10,
  AUTH_TAG_LENGTH: 11,
  PREFIX_LENGTH: 12,
} as const;

export const VERSION = 1;
export const TYPE_PSK_INIT = 0;
export const MAP_SRTP_ID = 0;
export const PROTOCOL_SRTP = 0;
/** Key data types (§6.13): TGK, TGK+SALT, TEK, TEK+SALT. */
export const KEY_TGK = 0;
export const KEY_TEK = 2;
export const KV_NULL = 0;
export const KV_SPI = 1;
export const NTP_UNIX_OFFSET_S = 2208988800;
/** Largest MIKEY message read (real ones are about 100 bytes). */
export const MAX_SIZE = 4096;
/** Most payloads read from one message. */
export const MAX_PAYLOADS = 32;

/** A MIKEY message that cannot be used: the SDP (or the request) is refused. */
export class MikeyError extends ProtocolError {
  constructor(code: ProtocolErrorCode, detail: string) {
    super(`Cannot read MIKEY message: ${detail}`, { protocol: "sdp", code });
    this.name = "MikeyError";
  }
}
