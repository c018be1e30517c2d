/**
 * The configuration through the API: shown with its secrets hidden, and
 * changed by a JSON merge patch (RFC 7396) validated by the same schema as
 * the file.
 *
 * @module
 */

import * as v from "valibot";
import { type Config, ConfigSchema } from "../config/schema.ts";
import type { FieldError } from "./problem.ts";

/** What a hidden secret reads as; patched back unchanged, it keeps the secret. */
export const HIDDEN = "********";

/** Keys whose values are secrets. */
const SECRET_KEY = /pass|secret|token|hash/i;

/** A deep copy of `config` with passwords, secrets and URL credentials hidden. */
export function redactConfig(config: Config): Record<string, unknown> {
  return redact(config) as Record<string, unknown>;
}

function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (SECRET_KEY.test(key) && value !== "") return HIDDEN;
    return hideUrlPassword(value);
  }
  if (Array.isArray(value)) return value.map((x) => redact(x, key));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = redact(x, k);
    return out;
  }
  return value;
}

/** `rtsp://user:pw@host/…` → `rtsp://user:********@host/…`. */
function hideUrlPassword(text: string): string {
  return text.replace(
    /^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@/\s]*@/i,
    `$1:${HIDDEN}@`,
  );
}

/** The result of {@link patchConfig}: the new configuration, or why not. */
export type PatchResult =
  | { ok: true; config: Config }
  | { ok: false; errors: FieldError[] };

/**
 * Applies a JSON merge patch to the configuration in effect and validates
 * the result as a whole. `null` removes a key (its default applies again);
 * a hidden secret sent back unchanged keeps its value.
 */
export function patchConfig(current: Config, patch: unknown): PatchResult {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return {
      ok: false,
      errors: [{
        field: "",
        value: patch,
        expected: "a JSON object of configuration keys",
      }],
    };
  }
  const merged = merge(current, patch);
  const result = v.safeParse(ConfigSchema, merged);
  if (result.success) return { ok: true, config: result.output };
  return {
    ok: false,
    errors: result.issues.map((issue) => ({
      field: v.getDotPath(issue) ?? "",
      value: issue.input,
      expected: issue.expected === null || issue.message.includes("expected")
        ? issue.message
        : issue.expected,
    })),
  };
}

function merge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return patch === HIDDEN ? target : patch;
  }
  const base = typeof target === "object" && target !== null &&
      !Array.isArray(target)
    ? { ...target as Record<string, unknown> }
    : {};
  for (const [k, x] of Object.entries(patch)) {
    if (x === null) delete base[k];
    else base[k] = merge(base[k], x);
  }
  return base;
}
