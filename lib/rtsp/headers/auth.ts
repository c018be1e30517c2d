/**
 * WWW-Authenticate and Authorization (RFC 2326 §12.44, §12.5, which defer to
 * HTTP): Basic (RFC 7617) and Digest with MD5 (RFC 2617; RFC 7616 §3.4).
 * The challenge and credential types are `auth_types.ts`, the Digest
 * computation `digest.ts`; both are re-exported here.
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
import { quote, rtspError } from "../error.ts";
import { quoteString, splitOutsideQuotes, unquote } from "./_params.ts";
import type {
  AuthChallenge,
  AuthCredentials,
  DigestChallenge,
  DigestCredentials,
} from "./auth_types.ts";

export type * from "./auth_types.ts";
export * from "./digest.ts";

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

function fail(action: string, detail: string) {
  return rtspError(action, "malformed", detail, 400);
}
