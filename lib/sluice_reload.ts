/**
 * How a running {@link Sluice} carries out a hot reload: the plan of
 * `reload.ts` applied to the instance's configuration object, the log
 * level, the relays, the listeners that can move, and the authenticator
 * and webhooks (new users, endpoints and hooks hold for the next session).
 *
 * @module
 */

import type { Config, ListenAddress } from "./config/schema.ts";
import { parseAddress } from "./config/schema.ts";
import type { Logger, RootLogger } from "./log.ts";
import {
  isEmptyPlan,
  type LIVE_KEYS,
  planReload,
  type ReloadPlan,
} from "./reload.ts";

/** Moves one listener; false when that server is not running. */
export type MoveListener = (address: ListenAddress) => boolean;

/** What {@link applyReload} changes besides the configuration object. */
export interface ReloadTargets {
  /** The instance's configuration, changed in place. */
  config: Config;
  /** The instance's root logger (its level changes when it is one). */
  log: Logger;
  /** Where the reload's own lines go. */
  reloadLog: Logger;
  relays: {
    reconfigure(paths: Config["paths"], restart: readonly string[]): void;
  };
  /** The listeners that can move, by address key. */
  listeners: Record<
    "rtmpAddress" | "rtspAddress" | "httpAddress",
    MoveListener
  >;
  /** Takes the new users, auth endpoint and JWKS. */
  auth: { configure(config: Config): void };
  /** Takes the new hooks. */
  webhooks: { configure(hooks: Config["webhooks"]): void };
}

/** Applies `next` to the running instance; answers what it did. */
export function applyReload(t: ReloadTargets, next: Config): ReloadPlan {
  const { config, reloadLog } = t;
  const plan = planReload(config, next);
  if (isEmptyPlan(plan)) {
    reloadLog.info("configuration unchanged");
    return plan;
  }
  if (plan.applied.includes("logLevel")) {
    const root = t.log as Partial<RootLogger>;
    if (typeof root.setLevel === "function") root.setLevel(next.logLevel);
    else {
      // A logger of the embedder's own, whose level is not ours to change.
      plan.applied.splice(plan.applied.indexOf("logLevel"), 1);
      plan.needsRestart.push("logLevel");
    }
  }
  const writable = config as Record<LiveKeyOf, unknown>;
  for (const key of plan.applied) writable[key] = next[key];
  config.paths = next.paths;
  // Users, the auth endpoint and per-path credentials: for the next session.
  t.auth.configure(config);
  t.webhooks.configure(config.webhooks);
  t.relays.reconfigure(next.paths, plan.relaysRestarted);
  moveListeners(t, plan, next);
  reloadLog.info("configuration reloaded", {
    added: list(plan.added),
    removed: list(plan.removed),
    changed: list(plan.changed),
    relaysRestarted: list(plan.relaysRestarted),
    applied: list(plan.applied),
    listenersMoved: list(plan.listenersMoved),
  });
  if (plan.needsRestart.length > 0) {
    reloadLog.warn("some keys take effect only after a restart", {
      needsRestart: plan.needsRestart.join(","),
    });
  }
  return plan;
}

/** A listener whose address changed moves; its sessions stay on the old one. */
function moveListeners(t: ReloadTargets, plan: ReloadPlan, next: Config) {
  const { listeners, config } = t;
  for (const key of Object.keys(listeners) as (keyof typeof listeners)[]) {
    if (!plan.needsRestart.includes(key)) continue;
    try {
      if (!listeners[key](parseAddress(next[key]))) continue;
    } catch (e) {
      // A taken port: the old listener stays, and so does its key.
      t.reloadLog.error(
        `Cannot move ${key}: ${e instanceof Error ? e.message : e}`,
      );
      continue;
    }
    config[key] = next[key];
    plan.needsRestart.splice(plan.needsRestart.indexOf(key), 1);
    plan.listenersMoved.push(key);
  }
}

type LiveKeyOf = typeof LIVE_KEYS[number];

/** A list as one log field, or nothing when empty. */
function list(items: readonly string[]): string | undefined {
  return items.length === 0 ? undefined : items.join(",");
}
