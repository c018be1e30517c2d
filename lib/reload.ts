/**
 * What a new configuration changes, key by key and path by path: the plan
 * of a hot reload. {@link planReload} is pure; `sluice.ts` carries it out.
 *
 * - A path whose settings are equal keeps everything: publisher, readers,
 *   relays.
 * - A changed path restarts only its relays, and only when a relay key
 *   changed (`source`, `sourceOnDemand`, `sourceOnDemandCloseAfter`,
 *   `rtspTransport`, `push`, `register`); its other keys (credentials,
 *   `overridePublisher`) take effect for the next session that asks.
 * - Top-level keys read when a session starts ({@link LIVE_KEYS}) take effect
 *   for new sessions; the others (listeners, the hub, the log) keep their old
 *   value until a restart and are reported in {@link ReloadPlan.needsRestart},
 *   except the listener addresses the instance can move
 *   ({@link ReloadPlan.listenersMoved}).
 *
 * @module
 */

import type { Config, PathConfig } from "./config/schema.ts";

/**
 * Top-level keys a reload applies at once: the servers read them when a
 * session or a request starts, so new sessions get the new value and
 * running ones keep theirs; the log level changes for every line from then
 * on; users, the auth endpoint, the JWKS and the webhooks go to the
 * authenticator and the hooks at once.
 */
export const LIVE_KEYS = [
  "logLevel",
  "readTimeout",
  "writeTimeout",
  "writeQueueSize",
  "playWaitTimeout",
  "overridePublisher",
  "rtmpChunkSize",
  "rtmpMaxMessageSize",
  "rtmpMaxChunkSize",
  "rtspSessionTimeout",
  "users",
  "authHTTPAddress",
  "authJWTJWKS",
  "webhooks",
] as const satisfies readonly (keyof Config)[];

/** A top-level key a reload applies at once. */
export type LiveKey = typeof LIVE_KEYS[number];

/** The per-path keys a pull, push or registration is built from. */
export const RELAY_KEYS = [
  "source",
  "sourceOnDemand",
  "sourceOnDemandCloseAfter",
  "rtspTransport",
  "push",
  "register",
] as const satisfies readonly (keyof PathConfig)[];

/** What a reload does; also what `Sluice.reload` answers. */
export interface ReloadPlan {
  /** Paths only the new configuration has. */
  added: string[];
  /** Paths only the old configuration had. */
  removed: string[];
  /** Paths in both whose settings differ. */
  changed: string[];
  /** Paths whose relays stop and start again from the new settings. */
  relaysRestarted: string[];
  /** Changed top-level keys now in force for new sessions. */
  applied: LiveKey[];
  /**
   * Listener addresses moved without a restart (`rtmpAddress`,
   * `rtspAddress`, `httpAddress`): the new address is bound, the old one
   * closed, sessions of the old one go on. {@link planReload} leaves it
   * empty; the instance fills it as it moves them.
   */
  listenersMoved: string[];
  /**
   * Changed top-level keys that need a restart of Sluice (listener
   * addresses, TLS files, the hub's policies, the log): their old value
   * stays in force until then.
   */
  needsRestart: string[];
}

const LIVE = new Set<string>(LIVE_KEYS);

/**
 * Compares two valid configurations.
 *
 * @example A path's source changes, another path comes, the rest stays
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config/load.ts";
 * import { planReload } from "./reload.ts";
 *
 * const old = parseConfig({ paths: { cam: { source: "rtsp://a/1" }, live: {} } });
 * const next = parseConfig({
 *   readTimeout: "30s",
 *   rtmpAddress: ":1936",
 *   paths: { cam: { source: "rtsp://b/1" }, live: {}, extra: { readUser: "u" } },
 * });
 * assert.deepEqual(planReload(old, next), {
 *   added: ["extra"],
 *   removed: [],
 *   changed: ["cam"],
 *   relaysRestarted: ["cam"],
 *   applied: ["readTimeout"],
 *   listenersMoved: [],
 *   needsRestart: ["rtmpAddress"],
 * });
 * ```
 */
export function planReload(old: Config, next: Config): ReloadPlan {
  const plan: ReloadPlan = {
    added: [],
    removed: [],
    changed: [],
    relaysRestarted: [],
    applied: [],
    listenersMoved: [],
    needsRestart: [],
  };
  // Both sides' keys: an optional key (`users`) may be absent from one.
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  for (const key of keys as Set<keyof Config>) {
    if (key === "paths" || equal(old[key], next[key])) continue;
    if (LIVE.has(key)) plan.applied.push(key as LiveKey);
    else plan.needsRestart.push(key);
  }
  for (const [path, cfg] of Object.entries(next.paths)) {
    const before = old.paths[path];
    if (before === undefined) {
      plan.added.push(path);
      // A new path with a source starts pulling; one with none has no relay.
      if (hasRelay(cfg)) plan.relaysRestarted.push(path);
      continue;
    }
    if (equal(before, cfg)) continue;
    plan.changed.push(path);
    if (RELAY_KEYS.some((k) => !equal(before[k], cfg[k]))) {
      plan.relaysRestarted.push(path);
    }
  }
  for (const [path, cfg] of Object.entries(old.paths)) {
    if (Object.hasOwn(next.paths, path)) continue;
    plan.removed.push(path);
    if (hasRelay(cfg)) plan.relaysRestarted.push(path);
  }
  return plan;
}

/** Whether a reload changes nothing at all. */
export function isEmptyPlan(plan: ReloadPlan): boolean {
  return plan.added.length + plan.removed.length + plan.changed.length +
      plan.applied.length + plan.needsRestart.length === 0;
}

function hasRelay(cfg: PathConfig): boolean {
  return RELAY_KEYS.some((k) => cfg[k] !== undefined);
}

/** Structural equality of parsed configuration values (JSON-like data). */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as never)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as never)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    equal(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
    )
  );
}
