/**
 * The configured users and their permissions: who is allowed an action on a
 * path from an address, with a plain or hashed password, a Digest answer, or
 * as `any` (everyone, with or without credentials).
 *
 * @module
 */
import type { AuthAction, UserConfig } from "../config/auth_schema.ts";
import { constantTimeEqual } from "./credentials.ts";
import { ipInRange, type IpRange, parseIpRange } from "./ip.ts";
import { verifyPasswordHash } from "./password.ts";

/** A permission as written: an action and an optional path pattern. */
export interface Permission {
  action: string;
  path?: string;
}

/** The users when the configuration names none: what MediaMTX also allows by default. */
export const DEFAULT_USERS: readonly UserConfig[] = [
  {
    user: "any",
    permissions: [
      { action: "publish" },
      { action: "read" },
      { action: "playback" },
    ],
  },
  {
    user: "any",
    ips: ["127.0.0.1", "::1"],
    permissions: [{ action: "api" }, { action: "metrics" }],
  },
];

/** What a check knows of the client's credentials. */
export interface GivenCredentials {
  user: string;
  pass: string;
  /** An RTSP Digest answer: whether it was made with this password. */
  digest?: (pass: string) => boolean;
}

/** Whether `pattern` (exact, `~regex`, or absent for every path) covers `path`. */
export function pathMatches(
  pattern: string | undefined,
  path: string,
  compiled?: Map<string, RegExp>,
): boolean {
  if (pattern === undefined || pattern === "") return true;
  if (!pattern.startsWith("~")) return pattern === path;
  let re = compiled?.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern.slice(1));
    compiled?.set(pattern, re);
  }
  return re.test(path);
}

/** Whether one of `permissions` allows `action` on `path`. */
export function permits(
  permissions: readonly Permission[],
  action: AuthAction,
  path: string,
  compiled?: Map<string, RegExp>,
): boolean {
  return permissions.some((p) =>
    p.action === action && pathMatches(p.path, path, compiled)
  );
}

interface CompiledUser {
  config: UserConfig;
  ranges: IpRange[] | undefined;
}

/** The configured users, ready to check. */
export class UserTable {
  readonly #users: CompiledUser[];
  readonly #regex = new Map<string, RegExp>();
  /** Whether every named user has a plain password, so RTSP Digest can verify them all. */
  readonly digestUsable: boolean;

  constructor(users: readonly UserConfig[] | undefined) {
    this.#users = (users ?? DEFAULT_USERS).map((config) => ({
      config,
      ranges: config.ips?.map((r) => parseIpRange(r)!),
    }));
    this.digestUsable = this.#users.every((u) =>
      u.config.user === "any" || u.config.passHash === undefined
    );
  }

  /** Whether any user has a permission for `action` (API and metrics fall back to loopback without one). */
  grants(action: AuthAction): boolean {
    return this.#users.some((u) =>
      u.config.permissions.some((p) => p.action === action)
    );
  }

  /**
   * The name of a user that allows `action` on `path` from `ip` with
   * `given`, or `undefined`. `anonymous: false` skips `any` (a path with its
   * own credentials needs them).
   */
  async find(
    given: GivenCredentials,
    action: AuthAction,
    path: string,
    ip: string,
    anonymous = true,
  ): Promise<string | undefined> {
    for (const u of this.#users) {
      const c = u.config;
      if (!permits(c.permissions, action, path, this.#regex)) continue;
      if (u.ranges !== undefined && !u.ranges.some((r) => ipInRange(ip, r))) {
        continue;
      }
      if (c.user === "any") {
        if (anonymous) return "any";
        continue;
      }
      if (!constantTimeEqual(given.user, c.user)) continue;
      if (await passwordMatches(given, c)) return c.user;
    }
    return undefined;
  }
}

async function passwordMatches(
  given: GivenCredentials,
  c: UserConfig,
): Promise<boolean> {
  if (c.passHash !== undefined) {
    // A Digest answer cannot be checked against a hash: Basic only.
    return given.digest === undefined &&
      await verifyPasswordHash(given.pass, c.passHash);
  }
  const pass = c.pass ?? "";
  if (given.digest !== undefined) return given.digest(pass);
  return constantTimeEqual(given.pass, pass);
}
