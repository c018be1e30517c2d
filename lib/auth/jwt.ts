/**
 * JWT bearer tokens verified against a JWKS (`authJWTJWKS`: an http(s) URL,
 * fetched and cached by `jose`, or the JWKS itself as JSON text). What a
 * token allows is its `sluice_permissions` claim, a list of `{action, path}`
 * as in the configuration (`mediamtx_permissions` is read too, so tokens
 * issued for MediaMTX carry over). Expired or not-yet-valid tokens, wrong
 * signatures and unknown keys are refused.
 *
 * @module
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import type { Permission } from "./users.ts";

/** The claims a token's permissions are read from, in order. */
export const PERMISSION_CLAIMS = [
  "sluice_permissions",
  "mediamtx_permissions",
] as const;

/** The outcome of {@link JwtVerifier.verify}. */
export type JwtResult =
  | { ok: true; subject: string; permissions: Permission[] }
  | { ok: false; reason: string };

/** Verifies tokens against one JWKS. */
export class JwtVerifier {
  readonly #keys: JWTVerifyGetKey;
  /** The URL or JSON the keys come from. */
  readonly source: string;

  /** @throws {SyntaxError} when `jwks` is neither a URL nor JWKS JSON */
  constructor(jwks: string, options: { timeoutMs?: number } = {}) {
    this.source = jwks;
    const text = jwks.trim();
    this.#keys = text.startsWith("{")
      ? createLocalJWKSet(JSON.parse(text) as JSONWebKeySet)
      : createRemoteJWKSet(new URL(text), {
        timeoutDuration: options.timeoutMs ?? 3000,
        cooldownDuration: 5000,
      });
  }

  /** Whether `token` is signed by a key of the set and still valid, and what it allows. */
  async verify(token: string): Promise<JwtResult> {
    try {
      const { payload } = await jwtVerify(token, this.#keys);
      const claim = PERMISSION_CLAIMS.map((c) => payload[c]).find((c) =>
        c !== undefined
      );
      const permissions = Array.isArray(claim)
        ? claim.filter((p): p is Permission =>
          typeof p === "object" && p !== null &&
          typeof (p as Permission).action === "string" &&
          ((p as Permission).path === undefined ||
            typeof (p as Permission).path === "string")
        )
        : [];
      return { ok: true, subject: payload.sub ?? "", permissions };
    } catch (e) {
      return {
        ok: false,
        reason: `invalid token: ${e instanceof Error ? e.message : e}`,
      };
    }
  }
}
