/**
 * Who may read or publish a path: credentials per path and action from the
 * configuration, checked the same way whether they arrive as RTSP Basic or
 * Digest (RFC 2617 / RFC 7616, MD5) or in an RTMP URL's query.
 *
 * @module
 */

import type { RtspHeaders } from "../rtsp/message.ts";
import {
  type AuthCredentials,
  type DigestCredentials,
  parseAuthorization,
  stringifyWwwAuthenticate,
  verifyDigest,
} from "../rtsp/headers/auth.ts";
import { sameResource } from "../rtsp/url.ts";

/** What a client wants to do with a path, as the per-path credentials name it. */
export type AuthAction = "read" | "publish";

/** A user name and password. */
export interface Credentials {
  user: string;
  pass: string;
}

/** The per-path keys that hold credentials. */
export interface PathCredentials {
  readUser?: string;
  readPass?: string;
  publishUser?: string;
  publishPass?: string;
}

/** The credentials `action` on `path` requires, if any. */
export function requiredCredentials(
  paths:
    | Readonly<Record<string, PathCredentials | null | undefined>>
    | undefined,
  path: string,
  action: AuthAction,
): Credentials | undefined {
  const p = paths?.[path];
  if (p === undefined || p === null) return undefined;
  const user = action === "read" ? p.readUser : p.publishUser;
  const pass = action === "read" ? p.readPass : p.publishPass;
  if (user === undefined && pass === undefined) return undefined;
  return { user: user ?? "", pass: pass ?? "" };
}

/** Whether two strings are equal, in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0); // past the end: NaN | 0 is 0
  }
  return diff === 0;
}

/** Whether `user` and `pass` are the `required` ones (compared in constant time). */
export function matchesCredentials(
  user: string,
  pass: string,
  required: Credentials,
): boolean {
  // Both compared always: the time does not tell which one was wrong.
  const userOk = constantTimeEqual(user, required.user);
  const passOk = constantTimeEqual(pass, required.pass);
  return userOk && passOk;
}

/** Whether the `user` and `pass` of a URL query (RTMP stream name, HTTP-FLV URL) match. */
export function checkQueryCredentials(
  query: string,
  required: Credentials,
): boolean {
  const params = new URLSearchParams(query);
  return matchesCredentials(
    params.get("user") ?? "",
    params.get("pass") ?? "",
    required,
  );
}

/** Options of {@link RtspAuthenticator}. */
export interface RtspAuthenticatorOptions {
  /** @default {"Sluice"} */
  realm?: string;
  /** How long a nonce is good for; an older one gets `stale=true`. @default {300000} */
  nonceTtlMs?: number;
  /** Most nonces remembered at once (oldest forgotten first). @default {10000} */
  maxNonces?: number;
  /** @default {Date.now} */
  now?: () => number;
}

/** Outcome of {@link RtspAuthenticator.check}. */
export type AuthResult =
  | { ok: true }
  | { ok: false; challenges: string[]; reason: string };

/**
 * Checks RTSP `Authorization` headers and makes `WWW-Authenticate`
 * challenges: Digest MD5 (what ffmpeg, VLC and GStreamer speak; ffmpeg
 * cannot do SHA-256) first, then Basic.
 */
export class RtspAuthenticator {
  readonly #realm: string;
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Nonces handed out, by issue time; a Map keeps insertion order for eviction. */
  readonly #nonces = new Map<string, number>();

  constructor(options: RtspAuthenticatorOptions = {}) {
    this.#realm = options.realm ?? "Sluice";
    this.#ttl = options.nonceTtlMs ?? 300_000;
    this.#max = options.maxNonces ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether the request carries `required` credentials. A missing, wrong or
   * stale answer gives the challenges to send with 401. A repeated or
   * malformed `Authorization` field throws an RtspError (answered with 400).
   */
  check(
    request: { method: string; url: string; headers: RtspHeaders },
    required: Credentials,
  ): AuthResult {
    const value = request.headers.getOne("Authorization");
    if (value === undefined) return this.#deny("no credentials");
    const creds: AuthCredentials = parseAuthorization(value);
    if (creds.scheme === "Basic") {
      return matchesCredentials(creds.username, creds.password, required)
        ? { ok: true }
        : this.#deny("wrong user or password");
    }
    const issued = this.#nonces.get(creds.nonce);
    if (creds.realm !== this.#realm || issued === undefined) {
      return this.#deny("unknown nonce");
    }
    if (!sameResource(creds.uri, request.url) && creds.uri !== request.url) {
      return this.#deny("uri does not name the requested resource");
    }
    const good = constantTimeEqual(creds.username, required.user) &&
      verifyDigest(creds, { password: required.pass, method: request.method });
    if (!good) return this.#deny("wrong user or password");
    if (this.#now() - issued > this.#ttl) {
      return this.#deny("stale nonce", true);
    }
    return { ok: true };
  }

  /**
   * Whether a Digest answer is to this server's challenge (realm, a nonce
   * it issued and still remembers, the requested resource), and then a
   * check of the answer against a candidate password. `stale` when the
   * nonce is too old: the client may answer a fresh one without asking its
   * user.
   */
  digest(
    request: { method: string; url: string },
    creds: DigestCredentials,
  ):
    | { ok: true; verify: (pass: string) => boolean }
    | { ok: false; reason: string; stale: boolean } {
    const issued = this.#nonces.get(creds.nonce);
    if (creds.realm !== this.#realm || issued === undefined) {
      return { ok: false, reason: "unknown nonce", stale: false };
    }
    if (!sameResource(creds.uri, request.url) && creds.uri !== request.url) {
      return {
        ok: false,
        reason: "uri does not name the requested resource",
        stale: false,
      };
    }
    if (this.#now() - issued > this.#ttl) {
      return { ok: false, reason: "stale nonce", stale: true };
    }
    return {
      ok: true,
      verify: (password) =>
        verifyDigest(creds, { password, method: request.method }),
    };
  }

  /** The `WWW-Authenticate` values of a 401: Digest (when `digest`) with a fresh nonce, then Basic. */
  challenges(options: { digest: boolean; stale?: boolean }): string[] {
    const basic = stringifyWwwAuthenticate({
      scheme: "Basic",
      realm: this.#realm,
    });
    if (!options.digest) return [basic];
    return [
      stringifyWwwAuthenticate({
        scheme: "Digest",
        realm: this.#realm,
        nonce: this.#nonce(),
        ...(options.stale ? { stale: true } : {}),
      }),
      basic,
    ];
  }

  #deny(reason: string, stale = false): AuthResult {
    const nonce = this.#nonce();
    return {
      ok: false,
      reason,
      challenges: [
        stringifyWwwAuthenticate({
          scheme: "Digest",
          realm: this.#realm,
          nonce,
          ...(stale ? { stale: true } : {}),
        }),
        stringifyWwwAuthenticate({ scheme: "Basic", realm: this.#realm }),
      ],
    };
  }

  #nonce(): string {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const nonce = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    if (this.#nonces.size >= this.#max) {
      this.#nonces.delete(this.#nonces.keys().next().value!);
    }
    this.#nonces.set(nonce, this.#now());
    return nonce;
  }
}
