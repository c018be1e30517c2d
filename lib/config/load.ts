/**
 * Reads Sluice's configuration from a file, the environment and flags.
 *
 * Precedence: defaults < file < environment < flags. The file comes from
 * `--config <file>` or `SLUICE_CONFIG` (YAML or JSON, by extension);
 * environment variables are `SLUICE_<KEY>` (`SLUICE_RTMPADDRESS`); flags are
 * the kebab-case key (`--rtmp-address :1935`, `--log-level=debug`). Every
 * problem is collected and reported at once, one line each.
 *
 * @module
 */
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import {
  type Config,
  CONFIG_KEYS,
  ConfigSchema,
  PATH_SETTINGS,
  settingDefault,
  settingDescription,
  type SettingKey,
  SETTINGS,
} from "./schema.ts";

/** The configuration could not be read or is invalid; `problems` has one line each. */
export class ConfigError extends Error {
  /** One line per problem, e.g. `Invalid config rtmpAddress "nope": expected host:port`. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(problems.join("\n"), options);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Where {@link loadConfig} reads from; the edge passes the real ones. */
export interface LoadConfigOptions {
  /** Command-line arguments (`Deno.args`). @default {[]} */
  args?: readonly string[];
  /** Environment variables (`Deno.env.toObject()`). @default {{}} */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads the configuration file. @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
}

const ENV_PREFIX = "SLUICE_";
const ENV_CONFIG = "SLUICE_CONFIG";
const KEYS = Object.keys(SETTINGS) as SettingKey[];
const FLAG_KEYS = new Map(KEYS.map((key) => [flagName(key), key]));
const ENV_KEYS = new Map(KEYS.map((key) => [envName(key), key]));
const HELP_FLAGS = new Set(["--help", "-h"]);

/** `rtmpAddress` → `rtmp-address`. */
export function flagName(key: SettingKey): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `rtmpAddress` → `SLUICE_RTMPADDRESS`. */
export function envName(key: SettingKey): string {
  return ENV_PREFIX + key.toUpperCase();
}

/** Whether the arguments ask for {@link usage} (`--help` or `-h`). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.some((arg) => HELP_FLAGS.has(arg));
}

/** The `--help` text: every flag with its meaning, default and variable. */
export function usage(): string {
  const rows: [string, string][] = [
    ["--config <file>", `configuration file, YAML or JSON (env ${ENV_CONFIG})`],
    ...KEYS.map((key): [string, string] => [
      `--${flagName(key)} <value>`,
      `${settingDescription(key)} (default ${settingDefault(key)}, env ${
        envName(key)
      })`,
    ]),
    ["--help", "show this text"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    "Usage: sluice [--config <file>] [--<key> <value> | --<key>=<value>]...",
    "",
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    "",
    "Durations: 10s, 500ms, 2m, 1h or milliseconds. Sizes: 8MiB, 512KiB, 1MB or bytes.",
  ].join("\n");
}

/**
 * Builds the configuration from defaults, file, environment and flags.
 *
 * @example Flags win over the environment, which wins over the file
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load.ts";
 *
 * const config = await loadConfig({
 *   args: ["--config", "sluice.yml", "--log-level=debug"],
 *   env: { SLUICE_READTIMEOUT: "30s", SLUICE_LOGLEVEL: "warn" },
 *   readTextFile: () => Promise.resolve("readTimeout: 5s\nrtmpAddress: 127.0.0.1:0\n"),
 * });
 * assert.equal(config.logLevel, "debug");
 * assert.equal(config.readTimeout, 30_000); // milliseconds
 * assert.equal(config.rtmpAddress, "127.0.0.1:0");
 * assert.equal(config.writeQueueSize, 8 * 1024 * 1024); // bytes, the default
 * ```
 *
 * @throws {ConfigError} listing every problem found, one line each
 */
export async function loadConfig(
  options: LoadConfigOptions = {},
): Promise<Config> {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  const flags = readFlags(options.args ?? [], problems);
  const env = readEnv(options.env ?? {}, problems);
  const file = flags.file ?? env.file;
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined) {
    fromFile = await readFile(
      file,
      options.readTextFile ?? Deno.readTextFile,
      problems,
    );
    for (const key of Object.keys(fromFile)) sources.set(key, file);
  }
  for (const key of Object.keys(env.values)) {
    sources.set(key, envName(key as SettingKey));
  }
  for (const key of Object.keys(flags.values)) {
    sources.set(key, `--${flagName(key as SettingKey)}`);
  }
  const merged = { ...fromFile, ...env.values, ...flags.values };
  const result = v.safeParse(ConfigSchema, merged);
  if (!result.success) {
    problems.push(
      ...result.issues.map((issue) => describeIssue(issue, sources)),
    );
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.output;
}

/**
 * Parses an already-read configuration object (a file's content): defaults
 * fill what is missing.
 *
 * @throws {ConfigError} listing every invalid field, one line each
 */
export function parseConfig(input: unknown): Config {
  const result = v.safeParse(ConfigSchema, input ?? {});
  if (result.success) return result.output;
  throw new ConfigError(
    result.issues.map((issue) => describeIssue(issue, new Map())),
  );
}

interface Layer {
  values: Partial<Record<SettingKey, string>>;
  file?: string;
}

function readFlags(args: readonly string[], problems: string[]): Layer {
  const layer: Layer = { values: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (HELP_FLAGS.has(arg)) continue;
    if (!arg.startsWith("--") || arg === "--") {
      problems.push(`Invalid argument "${arg}": expected --<key> <value>`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    const key = FLAG_KEYS.get(name);
    if (name !== "config" && key === undefined) {
      const near = closest(name, [...FLAG_KEYS.keys(), "config"]);
      problems.push(
        `Invalid flag --${name}: unknown${
          near ? `, did you mean --${near}?` : ""
        }`,
      );
      if (
        eq < 0 && args[i + 1] !== undefined && !args[i + 1]!.startsWith("-")
      ) i++; // its value
      continue;
    }
    if (value === undefined) {
      const next = args[i + 1];
      if (key !== undefined && typeof SETTINGS[key].default === "boolean") {
        // A bare boolean flag means true; an explicit true/false may follow it.
        const word = next?.toLowerCase();
        value = word === "true" || word === "false" ? next! : "true";
        if (value === next) i++;
      } else if (next === undefined || next.startsWith("--")) {
        problems.push(`Invalid flag --${name}: expected a value after it`);
        continue;
      } else {
        value = next;
        i++;
      }
    }
    if (key === undefined) layer.file = value;
    else layer.values[key] = value;
  }
  return layer;
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Layer {
  const layer: Layer = { values: {} };
  for (const [name, value] of Object.entries(env)) {
    // An empty variable counts as unset, as shells use `VAR= command` to clear one.
    if (!name.startsWith(ENV_PREFIX) || value === undefined || value === "") {
      continue;
    }
    if (name === ENV_CONFIG) {
      layer.file = value;
      continue;
    }
    const key = ENV_KEYS.get(name);
    if (key === undefined) {
      const near = closest(name, [...ENV_KEYS.keys(), ENV_CONFIG]);
      problems.push(
        `Invalid environment variable ${name}: unknown${
          near ? `, did you mean ${near}?` : ""
        }`,
      );
    } else {
      layer.values[key] = value;
    }
  }
  return layer;
}

async function readFile(
  path: string,
  readTextFile: (path: string) => Promise<string>,
  problems: string[],
): Promise<Record<string, unknown>> {
  const kind = /\.ya?ml$/i.test(path)
    ? "yaml"
    : /\.json$/i.test(path)
    ? "json"
    : undefined;
  if (kind === undefined) {
    problems.push(
      `Cannot read config file "${path}": expected a .yml, .yaml or .json file`,
    );
    return {};
  }
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "not found"
      : firstLine(error);
    problems.push(`Cannot read config file "${path}": ${why}`);
    return {};
  }
  let content: unknown;
  try {
    content = kind === "yaml" ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    problems.push(`Cannot parse config file "${path}": ${firstLine(error)}`);
    return {};
  }
  if (content === null || content === undefined) return {}; // an empty file
  if (typeof content !== "object" || Array.isArray(content)) {
    problems.push(
      `Cannot parse config file "${path}": expected a mapping of keys to values`,
    );
    return {};
  }
  return content as Record<string, unknown>;
}

type Issue = v.InferIssue<typeof ConfigSchema>;

/** One line for a valibot issue: field path, value, what was expected, source. */
function describeIssue(
  issue: Issue,
  sources: ReadonlyMap<string, string>,
): string {
  const path = issue.path ?? [];
  const keys = path.map((item) => String(item.key));
  const source = keys[0] === undefined ? undefined : sources.get(keys[0]);
  const from = source === undefined ? "" : ` (from ${source})`;
  if (keys.length === 0) {
    return `Invalid config: expected a mapping of keys to values${from}`;
  }
  const field = fieldPath(keys);
  if (issue.type === "never") {
    const siblings = keys.length === 1
      ? CONFIG_KEYS
      : Object.keys(PATH_SETTINGS);
    const near = closest(keys.at(-1)!, siblings);
    return `Invalid config ${field}: unknown key${
      near ? `, did you mean ${near}?` : ""
    }${from}`;
  }
  const expected = issue.message.startsWith("expected ")
    ? issue.message
    : `expected ${issue.expected ?? "another value"}`;
  return `Invalid config ${field} ${
    showValue(issue.input)
  }: ${expected}${from}`;
}

function fieldPath(keys: string[]): string {
  return keys.map((key, i) =>
    /^[A-Za-z_$][\w$]*$/.test(key)
      ? (i === 0 ? key : `.${key}`)
      : `[${JSON.stringify(key)}]`
  ).join("");
}

function showValue(value: unknown): string {
  const text = value === undefined
    ? "undefined"
    : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0]!.trim();
}

/** The candidate nearest to `name` within a few edits, ignoring case. */
function closest(
  name: string,
  candidates: readonly string[],
): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost);
    }
    row = next;
  }
  return row[b.length]!;
}
