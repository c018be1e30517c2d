/**
 * WWW-Authenticate and Authorization (RFC 2326 §12.44, §12.5, which defer to
 * HTTP): Basic (RFC 7617) and Digest with MD5 (RFC 2617; RFC 7616 §3.4).
 *
 * ```
 * WWW-Authenticate: Digest realm="cam", nonce="1ae117ce84194f06", algorithm="MD5"
 * WWW-Authenticate: Basic realm="/"
 * Authorization: Digest username="admin", realm="cam", nonce="1ae117ce84194f06",
 *                uri="rtsp://10.0.0.1:554/live", response="fcde779aa1c6a5b955823f59ca6e9df2"
 * Authorization: Basic YWRtaW46c2VjcmV0
 * ```
 *
 * A parameter given twice, an open quote, or two credentials in one field are
 * a 400: live555 read such fields past their end (CVE-2019-7732,
 * CVE-2019-9215). Digest SHA-256 is not offered: ffmpeg cannot answer it.
 * A server should offer Digest without `qop`: live555-based clients (VLC,
 * many NVRs) answer the RFC 2069 way regardless, and {@link verifyDigest}
 * checks either form.
 *
 * @module
 */
import { md5Hex } from "../_md5.ts";
import { quote, rtspError } from "../error.ts";
import { quoteString, splitOutsideQuotes, unquote } from "./_params.ts";

/** A Basic challenge (RFC 7617 §2). */
export interface BasicChallenge {
  /** The scheme, as the union's tag. */
  scheme: "Basic";
  /** Shown to the user; empty if the field had none. */
  realm: string;
}

/** A Digest challenge (RFC 2617 §3.2.1; RFC 7616 §3.3). */
export interface DigestChallenge {
  /** The scheme, as the union's tag. */
  scheme: "Digest";
  /** Part of HA1: the credentials' realm must match. */
  realm: string;
  /** The server's one-time value. */
  nonce: string;
  /** To be echoed unchanged. */
  opaque?: string;
  /** As written (`MD5`, `MD5-sess`, `SHA-256` …); absent means MD5. */
  algorithm?: string;
  /** The qop options offered (`auth`, `auth-int`). */
  qop?: string[];
  /** The nonce expired but the credentials were right: retry without asking the user. */
  stale?: boolean;
}

/** What a WWW-Authenticate field may offer. */
export type AuthChallenge = BasicChallenge | DigestChallenge;

/** Basic credentials, decoded (RFC 7617 §2: user-id ":" password, UTF-8). */
export interface BasicCredentials {
  /** The scheme, as the union's tag. */
  scheme: "Basic";
  /** Before the first colon. */
  username: string;
  /** After the first colon; may hold colons. */
  password: string;
}

/** Digest credentials (RFC 2617 §3.2.2). */
export interface DigestCredentials {
  /** The scheme, as the union's tag. */
  scheme: "Digest";
  /** As the user typed it. */
  username: string;
  /** The challenge's realm. */
  realm: string;
  /** The challenge's nonce. */
  nonce: string;
  /** The digest-uri the client hashed: VLC sends the base URL with a trailing slash, HappyTime without. */
  uri: string;
  /** 32 hex digits: see {@link digestResponse}. */
  response: string;
  /** Echoed from the challenge. */
  algorithm?: string;
  /** Echoed from the challenge. */
  opaque?: string;
  /** `auth` when the challenge offered it. */
  qop?: string;
  /** Nonce count, 8 hex digits; present with qop. */
  nc?: string;
  /** The client's nonce; present with qop or MD5-sess. */
  cnonce?: string;
}

/** What an Authorization field carries. */
export type AuthCredentials = BasicCredentials | DigestCredentials;

const MAX_LENGTH = 4096;
const MAX_ITEMS = 32;
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const PARAM_ITEM = new RegExp(`^(${TOKEN})\\s*=\\s*(.*)$`, "s");
const SCHEME_ITEM = new RegExp(`^(${TOKEN})(?:\\s+(.*))?$`, "s");
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BARE_VALUE = /^[^\s",;\\]+$/;
const NC = /^[0-9A-Fa-f]{8}$/;

interface Item {
  scheme: string;
  params: Map<string, string>;
  /** Basic credentials carry a token68, not parameters. */
  token68?: string;
}

/** Reads `scheme params, scheme params …`: the grammar both fields share (RFC 7235 §2.1). */
function readItems(value: string, action: string): Item[] {
  if (value.length > MAX_LENGTH) {
    throw fail(action, `longer than ${MAX_LENGTH} characters`);
  }
  const parts = splitOutsideQuotes(value, ",");
  if (parts === undefined) throw fail(action, "a quote is left open");
  if (parts.length > MAX_ITEMS) {
    throw fail(action, `more than ${MAX_ITEMS} items`);
  }
  const items: Item[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") continue;
    let param = PARAM_ITEM.exec(part);
    if (param === null) {
      const scheme = SCHEME_ITEM.exec(part);
      if (scheme === null) throw fail(action, `item ${quote(part)}`);
      const item: Item = { scheme: scheme[1]!, params: new Map() };
      items.push(item);
      const rest = scheme[2]?.trim() ?? "";
      if (rest === "") continue;
      param = PARAM_ITEM.exec(rest);
      if (param === null || TOKEN68.test(rest) && /=$/.test(rest)) {
        if (!TOKEN68.test(rest)) {
          throw fail(action, `${scheme[1]} followed by ${quote(rest)}`);
        }
        item.token68 = rest;
        continue;
      }
    }
    const item = items[items.length - 1];
    if (item === undefined) {
      throw fail(action, `parameter ${quote(param[1]!)} before a scheme`);
    }
    if (item.token68 !== undefined) {
      throw fail(
        action,
        `parameter ${quote(param[1]!)} after ${item.scheme} credentials`,
      );
    }
    const key = param[1]!.toLowerCase();
    const text = param[2]!.trim();
    const v = text.startsWith('"')
      ? unquote(text)
      : BARE_VALUE.test(text)
      ? text
      : undefined;
    if (v === undefined) throw fail(action, `${param[1]} value ${quote(text)}`);
    if (item.params.has(key)) throw fail(action, `${param[1]} given twice`);
    item.params.set(key, v);
  }
  return items;
}

/**
 * The Basic and Digest challenges of one WWW-Authenticate value (cameras
 * send one field per scheme; a field may also list several). Other schemes
 * are skipped; malformed fields are an {@link RtspError}.
 */
export function parseWwwAuthenticate(value: string): AuthChallenge[] {
  const action = `parse WWW-Authenticate ${quote(value)}`;
  const out: AuthChallenge[] = [];
  for (const item of readItems(value, action)) {
    const scheme = item.scheme.toLowerCase();
    const p = item.params;
    if (scheme === "basic") {
      out.push({ scheme: "Basic", realm: p.get("realm") ?? "" });
    } else if (scheme === "digest") {
      const realm = p.get("realm");
      const nonce = p.get("nonce");
      if (realm === undefined || nonce === undefined) {
        throw fail(action, "Digest without realm or nonce");
      }
      const challenge: DigestChallenge = { scheme: "Digest", realm, nonce };
      const opaque = p.get("opaque");
      if (opaque !== undefined) challenge.opaque = opaque;
      const algorithm = p.get("algorithm");
      if (algorithm !== undefined) challenge.algorithm = algorithm;
      const qop = p.get("qop");
      if (qop !== undefined) {
        challenge.qop = qop.split(",").map((q) => q.trim()).filter((q) =>
          q !== ""
        );
      }
      const stale = p.get("stale");
      if (stale !== undefined) challenge.stale = stale.toLowerCase() === "true";
      out.push(challenge);
    }
  }
  return out;
}

/** One challenge as a WWW-Authenticate value. */
export function stringifyWwwAuthenticate(challenge: AuthChallenge): string {
  if (challenge.scheme === "Basic") {
    return `Basic realm=${quoteString(challenge.realm)}`;
  }
  const parts = [
    `realm=${quoteString(challenge.realm)}`,
    `nonce=${quoteString(challenge.nonce)}`,
  ];
  if (challenge.algorithm !== undefined) {
    parts.push(`algorithm=${challenge.algorithm}`);
  }
  if (challenge.qop !== undefined) {
    parts.push(`qop=${quoteString(challenge.qop.join(","))}`);
  }
  if (challenge.opaque !== undefined) {
    parts.push(`opaque=${quoteString(challenge.opaque)}`);
  }
  if (challenge.stale !== undefined) {
    parts.push(`stale=${challenge.stale ? "true" : "false"}`);
  }
  return `Digest ${parts.join(", ")}`;
}

/**
 * The credentials of an Authorization value: one Basic or Digest credential,
 * else an {@link RtspError} with status 400 (malformed) or 401 (another scheme).
 */
export function parseAuthorization(value: string): AuthCredentials {
  const action = `parse Authorization ${quote(value)}`;
  const items = readItems(value, action);
  if (items.length !== 1) {
    throw fail(action, items.length === 0 ? "empty" : "several credentials");
  }
  const item = items[0]!;
  const scheme = item.scheme.toLowerCase();
  if (scheme === "basic") {
    if (item.token68 === undefined || item.params.size > 0) {
      throw fail(action, "Basic without a token");
    }
    let text: string;
    try {
      const binary = atob(item.token68);
      text = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(binary, (c) => c.charCodeAt(0)),
      );
    } catch {
      throw fail(action, "Basic token is not base64 of UTF-8 text");
    }
    const colon = text.indexOf(":");
    if (colon < 0) throw fail(action, "Basic token has no colon");
    return {
      scheme: "Basic",
      username: text.slice(0, colon),
      password: text.slice(colon + 1),
    };
  }
  if (scheme !== "digest") {
    throw rtspError(action, "unsupported", `scheme ${quote(item.scheme)}`, 401);
  }
  if (item.token68 !== undefined) {
    throw fail(action, "Digest with a token instead of parameters");
  }
  const p = item.params;
  const need = (name: string): string => {
    const v = p.get(name);
    if (v === undefined) throw fail(action, `Digest without ${name}`);
    return v;
  };
  const credentials: DigestCredentials = {
    scheme: "Digest",
    username: need("username"),
    realm: need("realm"),
    nonce: need("nonce"),
    uri: need("uri"),
    response: need("response"),
  };
  for (const name of ["algorithm", "opaque", "qop", "nc", "cnonce"] as const) {
    const v = p.get(name);
    if (v !== undefined) credentials[name] = v;
  }
  if (credentials.qop !== undefined) {
    if (credentials.nc === undefined || credentials.cnonce === undefined) {
      throw fail(action, "qop without nc and cnonce");
    }
    if (!NC.test(credentials.nc)) {
      throw fail(action, `nc ${quote(credentials.nc)} is not 8 hex digits`);
    }
  }
  return credentials;
}

/** Credentials as an Authorization value. */
export function stringifyAuthorization(credentials: AuthCredentials): string {
  if (credentials.scheme === "Basic") {
    const bytes = new TextEncoder().encode(
      `${credentials.username}:${credentials.password}`,
    );
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  const c = credentials;
  const parts = [
    `username=${quoteString(c.username)}`,
    `realm=${quoteString(c.realm)}`,
    `nonce=${quoteString(c.nonce)}`,
    `uri=${quoteString(c.uri)}`,
    `response=${quoteString(c.response)}`,
  ];
  if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quoteString(c.opaque)}`);
  if (c.qop !== undefined) {
    parts.push(
      `qop=${c.qop}`,
      `nc=${c.nc}`,
      `cnonce=${quoteString(c.cnonce ?? "")}`,
    );
  }
  return `Digest ${parts.join(", ")}`;
}

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

function fail(action: string, detail: string) {
  return rtspError(action, "malformed", detail, 400);
}
