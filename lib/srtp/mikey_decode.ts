/**
 * Reading MIKEY messages (RFC 3830): what GStreamer's rtspclientsink and
 * rtspsrc send, and Sluice's own. Every length is checked against the
 * message before it is used; anything else than an unencrypted
 * pre-shared-key init for AES_CM_128_HMAC_SHA1_80 without MKI is a
 * {@link MikeyError}.
 *
 * @module
 */

import {
  SRTP_MASTER_KEY_SIZE,
  SRTP_MASTER_SALT_SIZE,
  type SrtpMasterKey,
} from "./keys.ts";
import {
  KEY_TEK,
  KEY_TGK,
  KV_NULL,
  KV_SPI,
  MAP_SRTP_ID,
  MAX_PAYLOADS,
  MAX_SIZE,
  MIKEY_PAYLOAD,
  MIKEY_SRTP_PARAM,
  MikeyError,
  PROTOCOL_SRTP,
  TYPE_PSK_INIT,
  VERSION,
} from "./_mikey.ts";
import type { MikeyCryptoSession, MikeyMessage } from "./mikey.ts";

/** Reads a MIKEY message; throws a {@link MikeyError} for one Sluice cannot use. */
export function decodeMikey(bytes: Uint8Array): MikeyMessage {
  if (bytes.length > MAX_SIZE) {
    throw new MikeyError("limit", `${bytes.length} bytes exceeds ${MAX_SIZE}`);
  }
  const r = new Reader(bytes);
  if (r.u8() !== VERSION) {
    throw new MikeyError("unsupported", "version is not 1");
  }
  const type = r.u8();
  if (type !== TYPE_PSK_INIT) {
    throw new MikeyError(
      "unsupported",
      `data type ${type}: only a pre-shared-key init is read`,
    );
  }
  let next = r.u8();
  r.u8(); // V, PRF
  const csbId = r.u32();
  const count = r.u8();
  const mapType = r.u8();
  if (mapType !== MAP_SRTP_ID) {
    throw new MikeyError("unsupported", `CS ID map type ${mapType}`);
  }
  const sessions: MikeyCryptoSession[] = [];
  for (let i = 0; i < count; i++) {
    sessions.push({ policy: r.u8(), ssrc: r.u32(), roc: r.u32() });
  }
  let master: SrtpMasterKey | undefined;
  let policySeen = false;
  for (let n = 0; next !== MIKEY_PAYLOAD.LAST; n++) {
    if (n >= MAX_PAYLOADS) {
      throw new MikeyError("limit", `over ${MAX_PAYLOADS} payloads`);
    }
    const type = next;
    next = r.u8();
    switch (type) {
      case MIKEY_PAYLOAD.T: {
        const ts = r.u8();
        r.skip(ts === 2 ? 4 : ts <= 1 ? 8 : bad(`timestamp type ${ts}`));
        break;
      }
      case MIKEY_PAYLOAD.RAND:
        r.skip(r.u8());
        break;
      case MIKEY_PAYLOAD.SP:
        readPolicy(r);
        policySeen = true;
        break;
      case MIKEY_PAYLOAD.KEMAC:
        master = readKemac(r);
        break;
      case MIKEY_PAYLOAD.V:
        r.skip(r.u8() === 0 ? 0 : 20);
        break;
      case MIKEY_PAYLOAD.ID:
      case MIKEY_PAYLOAD.CERT:
      case MIKEY_PAYLOAD.GENERAL_EXT:
        r.u8();
        r.skip(r.u16());
        break;
      case MIKEY_PAYLOAD.ERR:
        throw new MikeyError("unsupported", `the peer sent error ${r.u8()}`);
      default:
        throw new MikeyError("unsupported", `payload type ${type}`);
    }
  }
  if (master === undefined) {
    throw new MikeyError("malformed", "no KEMAC with a key");
  }
  void policySeen; // without SP, the defaults of §6.10.1 are AES_CM_128_HMAC_SHA1_80
  return { csbId, sessions, master };
}

/** The SRTP policy must be AES_CM_128_HMAC_SHA1_80 (RFC 3830 §6.10.1). */
function readPolicy(r: Reader): void {
  r.u8(); // policy number
  const protocol = r.u8();
  if (protocol !== PROTOCOL_SRTP) {
    throw new MikeyError("unsupported", `security protocol ${protocol}`);
  }
  const length = r.u16();
  const end = r.pos + length;
  const P = MIKEY_SRTP_PARAM;
  while (r.pos < end) {
    const type = r.u8();
    const length = r.u8();
    if (length !== 1) {
      r.skip(length);
      continue;
    }
    const v = r.u8();
    const unsupported = (what: string) => {
      throw new MikeyError(
        "unsupported",
        `${what} ${v}: only AES_CM_128_HMAC_SHA1_80`,
      );
    };
    if (type === P.ENCRYPTION && v !== 1) unsupported("encryption");
    if (type === P.ENCRYPTION_KEY_LENGTH && v !== 16) unsupported("key length");
    if (type === P.AUTH && v !== 1) unsupported("authentication");
    // GStreamer writes the tag length (10) here; RFC 3830 means the key (20).
    if (type === P.AUTH_KEY_LENGTH && v !== 20 && v !== 10) {
      unsupported("auth key length");
    }
    if (type === P.SALT_LENGTH && v !== 14) unsupported("salt length");
    if (type === P.KEY_DERIVATION_RATE && v !== 0) {
      unsupported("key derivation rate");
    }
    if (type === P.AUTH_TAG_LENGTH && v !== 10) unsupported("tag length");
    if (type === P.PREFIX_LENGTH && v !== 0) unsupported("prefix length");
  }
  if (r.pos !== end) throw new MikeyError("malformed", "SP parameters overrun");
}

/** The master key of an unencrypted KEMAC: its first TEK or TGK, with its salt. */
function readKemac(r: Reader): SrtpMasterKey {
  const encryption = r.u8();
  if (encryption !== 0) {
    throw new MikeyError(
      "unsupported",
      `KEMAC encryption ${encryption}: no pre-shared key is configured`,
    );
  }
  const length = r.u16();
  const end = r.pos + length;
  let master: SrtpMasterKey | undefined;
  let next: number = MIKEY_PAYLOAD.KEY_DATA;
  for (let n = 0; next !== MIKEY_PAYLOAD.LAST; n++) {
    if (n >= MAX_PAYLOADS || r.pos >= end) {
      throw new MikeyError(
        "malformed",
        "key data sub-payloads overrun the KEMAC",
      );
    }
    next = r.u8();
    const typeKv = r.u8();
    const keyType = typeKv >> 4;
    const kv = typeKv & 0x0f;
    const key = r.take(r.u16());
    let salt: Uint8Array | undefined;
    if (keyType === KEY_TGK + 1 || keyType === KEY_TEK + 1) {
      salt = r.take(r.u16());
    }
    if (kv === KV_SPI) {
      throw new MikeyError(
        "unsupported",
        "an MKI (SPI key validity): Sluice sends and reads SRTP without one",
      );
    }
    if (kv === 2) { // interval: from and to, each with a length byte
      r.skip(r.u8());
      r.skip(r.u8());
    } else if (kv !== KV_NULL) {
      throw new MikeyError("unsupported", `key validity ${kv}`);
    }
    if (keyType > KEY_TEK + 1) {
      throw new MikeyError("unsupported", `key type ${keyType}`);
    }
    if (master !== undefined) continue;
    const all = salt === undefined ? key : new Uint8Array([...key, ...salt]);
    if (all.length !== SRTP_MASTER_KEY_SIZE + SRTP_MASTER_SALT_SIZE) {
      throw new MikeyError(
        "unsupported",
        `a ${all.length}-byte key and salt, expected 30`,
      );
    }
    master = { key: all.slice(0, 16), salt: all.slice(16) };
  }
  if (r.pos !== end) {
    throw new MikeyError(
      "malformed",
      "KEMAC length does not match its key data",
    );
  }
  const mac = r.u8();
  r.skip(mac === 0 ? 0 : mac === 1 ? 20 : bad(`MAC algorithm ${mac}`));
  if (master === undefined) {
    throw new MikeyError("malformed", "KEMAC without key data");
  }
  return master;
}

function bad(detail: string): never {
  throw new MikeyError("unsupported", detail);
}

/** Bounds-checked reading of the message. */
class Reader {
  pos = 0;
  readonly #b: Uint8Array;
  constructor(b: Uint8Array) {
    this.#b = b;
  }
  #need(n: number): void {
    if (this.pos + n > this.#b.length) {
      throw new MikeyError(
        "truncated",
        `${n} more bytes needed at ${this.pos} of ${this.#b.length}`,
      );
    }
  }
  u8(): number {
    this.#need(1);
    return this.#b[this.pos++]!;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return ((this.u16() << 16) | this.u16()) >>> 0;
  }
  take(n: number): Uint8Array {
    this.#need(n);
    const v = this.#b.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  skip(n: number): void {
    this.#need(n);
    this.pos += n;
  }
}

/** The value of `a=key-mgmt` (RFC 4567 §3.1) for a MIKEY message: `mikey <base64>`. */
export function stringifyKeyMgmt(message: Uint8Array): string {
  let text = "";
  for (const b of message) text += String.fromCharCode(b);
  return `mikey ${btoa(text)}`;
}

/**
 * The MIKEY message of an `a=key-mgmt` value; `undefined` when it names
 * another protocol. Throws a {@link MikeyError} for bad base64 or a
 * message Sluice cannot use.
 */
export function parseKeyMgmt(value: string): MikeyMessage | undefined {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (m === null) {
    throw new MikeyError("malformed", "key-mgmt is not <protocol> <data>");
  }
  if (m[1]!.toLowerCase() !== "mikey") return undefined;
  const data = m[2]!;
  if (data.length > (MAX_SIZE * 4) / 3 + 4) {
    throw new MikeyError("limit", `base64 of ${data.length} characters`);
  }
  let text: string;
  try {
    text = atob(data);
  } catch {
    throw new MikeyError("malformed", "key-mgmt data is not base64");
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return decodeMikey(bytes);
}
