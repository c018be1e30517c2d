/**
 * A levelled logger writing one line per event:
 *
 * ```text
 * 2025-01-02T03:04:05.678Z INFO  [rtmp#12 127.0.0.1:51514] publishing path=live/cam1 tracks=2
 * ```
 *
 * ISO time, level, context in brackets, message, then `key=value` fields.
 * Values that would break the line apart (spaces, quotes, `=`, control
 * characters) are quoted, and newlines are escaped, so a peer-sent stream name
 * can never forge a log line.
 *
 * @module
 */

/** Log levels from the most to the least severe. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * How lines look: `text` for people, `json` for log collectors (one object
 * per line: `time`, `level`, `msg`, `scope`, `fields`).
 */
export const LOG_FORMATS = ["text", "json"] as const;

/** One of {@link LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Extra `key=value` pairs of an event; `undefined` values are left out. */
export type LogFields = Record<string, unknown>;

/** A levelled logger; {@link createLogger} makes one. */
export interface Logger {
  /** The least severe level that is written. */
  readonly level: LogLevel;
  /** Whether events of `level` are written: guard costly fields with it. */
  enabled(level: LogLevel): boolean;
  /** A logger for one connection, session or stream; contexts nest with a space. */
  child(context: string): Logger;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The least severe level written. @default {"info"} */
  level?: LogLevel;
  /** How each line is written. @default {"text"} */
  format?: LogFormat;
  /** Receives each line without its newline. @default writes the line to stderr */
  write?: (line: string) => void;
  /** Context of the root logger, shown in brackets. @default {""} (none) */
  context?: string;
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const LABEL: Record<LogLevel, string> = {
  error: "ERROR",
  warn: "WARN ",
  info: "INFO ",
  debug: "DEBUG",
};
// Anything that would make a value ambiguous or split the line when unquoted.
const NEEDS_QUOTES = /[\s"'=\\[\]\p{Cc}]/u;
// Line breaks and other control characters inside a message.
const CONTROL = /\p{Cc}/gu;

/**
 * Creates a logger; lines below `level` cost one comparison.
 *
 * @example One line per event, with the connection as context
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", write: (line) => lines.push(line), now: () => 0 });
 * const conn = log.child("rtmp#12 127.0.0.1:51514");
 * conn.info("publishing", { path: "live/cam1", reason: "new stream" });
 * conn.debug("chunk", { size: 4096 }); // below the level: nothing written
 * assert.deepEqual(lines, [
 *   '1970-01-01T00:00:00.000Z INFO  [rtmp#12 127.0.0.1:51514] publishing path=live/cam1 reason="new stream"',
 * ]);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): RootLogger {
  const level = options.level ?? "info";
  if (!Object.hasOwn(RANK, level)) {
    throw new RangeError(`Cannot create logger: unknown level "${level}"`);
  }
  const format = options.format ?? "text";
  if (!LOG_FORMATS.includes(format)) {
    throw new RangeError(`Cannot create logger: unknown format "${format}"`);
  }
  return new LineLogger(
    { rank: RANK[level] },
    options.write ?? writeStderr,
    options.now ?? Date.now,
    options.context ?? "",
    format === "json",
  );
}

/** The logger {@link createLogger} makes: its level can change while it runs. */
export interface RootLogger extends Logger {
  /** Changes the level of this logger and of every child it made (a hot reload). */
  setLevel(level: LogLevel): void;
}

/** Shared by a root logger and its children, so one level change reaches all. */
interface LevelState {
  rank: number;
}

class LineLogger implements RootLogger {
  readonly #state: LevelState;
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #prefix: string;
  readonly #context: string;
  readonly #json: boolean;

  constructor(
    state: LevelState,
    write: (line: string) => void,
    now: () => number,
    context: string,
    json: boolean,
  ) {
    this.#state = state;
    this.#json = json;
    this.#write = write;
    this.#now = now;
    this.#context = context;
    this.#prefix = context === "" ? "" : ` [${escapeControl(context)}]`;
  }

  get level(): LogLevel {
    return LOG_LEVELS[this.#state.rank]!;
  }

  setLevel(level: LogLevel): void {
    if (!Object.hasOwn(RANK, level)) {
      throw new RangeError(`Cannot set log level: unknown level "${level}"`);
    }
    this.#state.rank = RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.#state.rank;
  }

  child(context: string): Logger {
    const nested = this.#context === ""
      ? context
      : `${this.#context} ${context}`;
    return new LineLogger(
      this.#state,
      this.#write,
      this.#now,
      nested,
      this.#json,
    );
  }

  error(message: string, fields?: LogFields): void {
    if (this.#state.rank >= 0) this.#emit("error", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (this.#state.rank >= 1) this.#emit("warn", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (this.#state.rank >= 2) this.#emit("info", message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    if (this.#state.rank >= 3) this.#emit("debug", message, fields);
  }

  #emit(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.#json) {
      this.#write(jsonLine(this.#now(), level, this.#context, message, fields));
      return;
    }
    let line = `${new Date(this.#now()).toISOString()} ${
      LABEL[level]
    }${this.#prefix} ${escapeControl(message)}`;
    if (fields !== undefined) {
      for (const key in fields) {
        const value = fields[key];
        if (value !== undefined) {
          line += ` ${formatKey(key)}=${formatValue(value)}`;
        }
      }
    }
    this.#write(line);
  }
}

/**
 * One JSON object: JSON.stringify escapes every control character, so a
 * peer-sent name can no more split a JSON line than a text one.
 */
function jsonLine(
  nowMs: number,
  level: LogLevel,
  scope: string,
  msg: string,
  fields: LogFields | undefined,
): string {
  const out: Record<string, unknown> = {};
  if (fields !== undefined) {
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) out[key] = jsonValue(value);
    }
  }
  const time = new Date(nowMs).toISOString();
  const replacer = (_: string, v: unknown) =>
    typeof v === "bigint" ? String(v) : v;
  try {
    return JSON.stringify({ time, level, msg, scope, fields: out }, replacer);
  } catch {
    // A field with a cycle: every field as its text form, still one object.
    const flat: Record<string, string> = {};
    for (const key in out) flat[key] = formatValue(out[key]);
    return JSON.stringify({ time, level, msg, scope, fields: flat });
  }
}

/** A field value as JSON can carry it: errors as their message, bytes as their size. */
function jsonValue(value: unknown): unknown {
  switch (typeof value) {
    case "bigint":
    case "symbol":
    case "function":
      return String(value);
    case "object":
      if (value instanceof Error) return value.message;
      if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
      return value;
    default:
      return value;
  }
}

/** Renders one field value: plain when unambiguous, JSON-quoted otherwise. */
function formatValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value === "" || NEEDS_QUOTES.test(value)
        ? JSON.stringify(value)
        : value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "symbol":
    case "function":
      return formatValue(String(value));
    default:
      if (value === null) return "null";
      if (value instanceof Error) return formatValue(value.message);
      if (value instanceof Uint8Array) {
        return formatValue(`<${value.byteLength} bytes>`);
      }
      return formatValue(safeJson(value));
  }
}

function formatKey(key: string): string {
  return key === "" || NEEDS_QUOTES.test(key) ? JSON.stringify(key) : key;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(
      value,
      (_, v) => typeof v === "bigint" ? String(v) : v,
    ) ?? String(value);
  } catch {
    return String(value); // cycles
  }
}

function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}
