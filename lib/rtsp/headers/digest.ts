/**
 * Digest with MD5 (RFC 2617; RFC 7616 §3.4): the response a client computes
 * and a server checks, in the RFC 2069 form (no `qop`, as live555-based
 * clients answer) and with `qop=auth`.
 *
 * @module
 */
import { md5Hex } from "../_md5.ts";
import { quote, rtspError } from "../error.ts";
import type { DigestChallenge, DigestCredentials } from "./auth_types.ts";

/** What a Digest response is computed from (RFC 2617 §3.2.2.1–3). */
export interface DigestInput {
  /** As the user typed it. */
  username: string;
  /** In clear: Digest needs it (or HA1) on both sides. */
  password: string;
  /** The challenge's realm. */
  realm: string;
  /** The challenge's nonce. */
  nonce: string;
  /** The request method, e.g. `DESCRIBE`. */
  method: string;
  /** The digest-uri, exactly as sent in `uri=`. */
  uri: string;
  /** `MD5` or `MD5-sess`, any case. @default {"MD5"} */
  algorithm?: string;
  /** `auth`, or absent for the RFC 2069 form. */
  qop?: string;
  /** 8 hex digits, with qop. */
  nc?: string;
  /** The client's nonce, with qop or MD5-sess. */
  cnonce?: string;
}

/**
 * The 32 hex digits of `response=` (RFC 2617 §3.2.2.1): MD5 of
 * `HA1:nonce:HA2` without qop, `HA1:nonce:nc:cnonce:qop:HA2` with qop=auth;
 * HA1 = MD5(user:realm:password), for MD5-sess MD5(HA1:nonce:cnonce); HA2 =
 * MD5(method:uri). Other algorithms and qop=auth-int are an RtspError.
 */
export function digestResponse(input: DigestInput): string {
  const algorithm = (input.algorithm ?? "MD5").toUpperCase();
  if (algorithm !== "MD5" && algorithm !== "MD5-SESS") {
    throw rtspError(
      "compute digest",
      "unsupported",
      `algorithm ${quote(input.algorithm ?? "")}`,
    );
  }
  let ha1 = md5Hex(`${input.username}:${input.realm}:${input.password}`);
  if (algorithm === "MD5-SESS") {
    ha1 = md5Hex(`${ha1}:${input.nonce}:${input.cnonce ?? ""}`);
  }
  const ha2 = md5Hex(`${input.method}:${input.uri}`);
  if (input.qop === undefined) return md5Hex(`${ha1}:${input.nonce}:${ha2}`);
  if (input.qop.toLowerCase() !== "auth") {
    throw rtspError("compute digest", "unsupported", `qop ${quote(input.qop)}`);
  }
  return md5Hex(
    `${ha1}:${input.nonce}:${input.nc ?? ""}:${
      input.cnonce ?? ""
    }:${input.qop}:${ha2}`,
  );
}

/** Options of {@link digestAuthorization}. */
export interface DigestAuthorizationOptions {
  /** As the user typed it. */
  username: string;
  /** In clear. */
  password: string;
  /** The method of the request to send. */
  method: string;
  /** The request URL, as it will be sent. */
  uri: string;
  /** Needed when the challenge offers qop=auth or MD5-sess: a fresh random string per nonce. */
  cnonce?: string;
  /** How many requests used this nonce so far, counting this one. @default {1} */
  count?: number;
}

/** A client's answer to a Digest challenge: qop=auth when offered, the algorithm and opaque echoed. */
export function digestAuthorization(
  challenge: DigestChallenge,
  options: DigestAuthorizationOptions,
): DigestCredentials {
  const qop = challenge.qop?.some((q) => q.toLowerCase() === "auth")
    ? "auth"
    : undefined;
  const sess = challenge.algorithm?.toUpperCase() === "MD5-SESS";
  if ((qop !== undefined || sess) && options.cnonce === undefined) {
    throw new TypeError(
      "Cannot answer digest challenge: qop or MD5-sess needs a cnonce",
    );
  }
  const nc = qop === undefined
    ? undefined
    : (options.count ?? 1).toString(16).padStart(8, "0");
  const response = digestResponse({
    username: options.username,
    password: options.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    method: options.method,
    uri: options.uri,
    algorithm: challenge.algorithm,
    qop,
    nc,
    cnonce: options.cnonce,
  });
  const credentials: DigestCredentials = {
    scheme: "Digest",
    username: options.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    uri: options.uri,
    response,
  };
  if (challenge.algorithm !== undefined) {
    credentials.algorithm = challenge.algorithm;
  }
  if (challenge.opaque !== undefined) credentials.opaque = challenge.opaque;
  if (qop !== undefined) {
    credentials.qop = qop;
    credentials.nc = nc;
    credentials.cnonce = options.cnonce;
  } else if (sess) credentials.cnonce = options.cnonce;
  return credentials;
}

/** Options of {@link verifyDigest}. */
export interface VerifyDigestOptions {
  /** The user's password, in clear. */
  password: string;
  /** The method of the request that carried the credentials. */
  method: string;
}

/**
 * Whether `response=` matches the password, compared in constant time. The
 * caller still checks that realm and nonce are its own (and fresh) and that
 * `uri=` names the requested resource (see `sameResource`).
 */
export function verifyDigest(
  credentials: DigestCredentials,
  options: VerifyDigestOptions,
): boolean {
  let expected: string;
  try {
    expected = digestResponse({
      ...credentials,
      password: options.password,
      method: options.method,
    });
  } catch {
    return false; // an algorithm or qop we do not compute
  }
  const given = credentials.response.toLowerCase();
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}
