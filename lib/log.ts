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
  /** Receives each line without its newline. @default writes the line to stderr */
  write?: (line: string) => void;
  /** Context of the root logger, shown in brackets. @default {""} (none) */
  context?: string;
  /** Clock in milliseconds since the epoch. @default {Date.now} */
  now?: () => number;
  /**
   * `text` lines as above, or `json`: one object per line (`time`, `level`,
   * `context`, `msg`, then the fields) for log collectors. @default {"text"}
   */
  format?: "text" | "json";
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
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!Object.hasOwn(RANK, level)) {
    throw new RangeError(`Cannot create logger: unknown level "${level}"`);
  }
  return new LineLogger(
    level,
    options.write ?? writeStderr,
    options.now ?? Date.now,
    options.context ?? "",
    options.format === "json",
  );
}

class LineLogger implements Logger {
  readonly level: LogLevel;
  readonly #rank: number;
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #prefix: string;
  readonly #context: string;
  readonly #json: boolean;

  constructor(
    level: LogLevel,
    write: (line: string) => void,
    now: () => number,
    context: string,
    json: boolean,
  ) {
    this.level = level;
    this.#json = json;
    this.#rank = RANK[level];
    this.#write = write;
    this.#now = now;
    this.#context = context;
    this.#prefix = context === "" ? "" : ` [${escapeControl(context)}]`;
  }

  /** The context, for JSON lines. */
  get context(): string {
    return this.#context;
  }

  /** Now, by the logger's clock. */
  nowMs(): number {
    return this.#now();
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.#rank;
  }

  child(context: string): Logger {
    const nested = this.#context === ""
      ? context
      : `${this.#context} ${context}`;
    return new LineLogger(
      this.level,
      this.#write,
      this.#now,
      nested,
      this.#json,
    );
  }

  error(message: string, fields?: LogFields): void {
    if (this.#rank >= 0) this.#emit("error", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (this.#rank >= 1) this.#emit("warn", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (this.#rank >= 2) this.#emit("info", message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    if (this.#rank >= 3) this.#emit("debug", message, fields);
  }

  #emit(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.#json) return this.#write(jsonLine(this, level, message, fields));
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

/** One event as a JSON object: `time`, `level`, `context`, `msg`, then the fields. */
function jsonLine(
  logger: LineLogger,
  level: LogLevel,
  message: string,
  fields: LogFields | undefined,
): string {
  const out: Record<string, unknown> = {
    time: new Date(logger.nowMs()).toISOString(),
    level,
  };
  if (logger.context !== "") out.context = logger.context;
  out.msg = message;
  for (const key in fields) {
    const v = fields[key];
    if (v === undefined || key in out) continue;
    out[key] = v instanceof Error
      ? v.message
      : v instanceof Uint8Array
      ? `<${v.byteLength} bytes>`
      : typeof v === "bigint"
      ? String(v)
      : v;
  }
  return safeJson(out);
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
