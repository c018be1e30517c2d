/**
 * The valibot schemas of single setting values shared by the configuration
 * schema files: booleans, durations, sizes, addresses, ranges, choices, and
 * `setting()`, which gives a key its default and its `--help` line.
 *
 * @module
 */
import * as v from "valibot";
import {
  parseAddress,
  parseDuration,
  parseMulticastRange,
  parseSize,
} from "./units.ts";

export const TRUE = new Set(["true", "yes", "on", "1"]);
export const FALSE = new Set(["false", "no", "off", "0"]);

/** A value `parse` turned into the output, or an issue naming `expected`. */
export function scalar<T>(
  expected: string,
  parse: (input: unknown) => T | undefined,
) {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const out = parse(dataset.value);
      if (out !== undefined) return out;
      addIssue({ message: expected, expected });
      return NEVER;
    }),
  );
}

/** `true`/`false`, also as the strings `true|false|yes|no|on|off|1|0`. */
export function parseBool(input: unknown): boolean | undefined {
  if (typeof input === "boolean") return input;
  if (typeof input !== "string") return undefined;
  const text = input.trim().toLowerCase();
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
}

/** `true`/`false`; see {@link parseBool}. */
export const Bool = scalar("expected true or false", parseBool);

/**
 * When a new publisher takes over a busy path: `"auto"` (the current one
 * has sent nothing for `overridePublisherIdle`, or the newcomer gave the
 * path's publish credentials), `true` (always) or `false` (never).
 */
export const Override = scalar<boolean | "auto">(
  'expected "auto", true or false',
  (input) =>
    typeof input === "string" && input.trim().toLowerCase() === "auto"
      ? "auto"
      : parseBool(input),
);

/** Milliseconds; see {@link parseDuration}. */
export const Duration = scalar(
  'expected a duration such as "10s", "500ms", "2m" or a number of milliseconds',
  parseDuration,
);

/** Bytes; see {@link parseSize}. */
export const Size = scalar(
  'expected a size such as "8MiB", "512KiB", "1MB" or a number of bytes',
  parseSize,
);

/** `"host:port"` or `":port"`; a bare port number becomes `":port"`. */
export const Address = scalar("expected host:port", (input) => {
  const text = typeof input === "number" && Number.isInteger(input)
    ? `:${input}`
    : input;
  if (typeof text !== "string") return undefined;
  try {
    parseAddress(text);
    return text;
  } catch {
    return undefined;
  }
});

/** `"a:1,b:2"`, `["a:1", "b:2"]` or `""` (none): a list of addresses. */
export const AddressList = scalar<string[]>(
  "expected a list of host:port, or host:port separated by commas",
  (input) => {
    const items = Array.isArray(input)
      ? input
      : typeof input === "string"
      ? input.split(",").map((s) => s.trim()).filter((s) => s !== "")
      : undefined;
    if (items === undefined) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const text = typeof item === "number" ? `:${item}` : item;
      if (typeof text !== "string") return undefined;
      try {
        parseAddress(text);
      } catch {
        return undefined;
      }
      out.push(text);
    }
    return out;
  },
);

/** An IPv4 multicast range such as `"224.1.0.0/16"` (within 224.0.0.0/4). */
export const MulticastRange = scalar(
  "expected an IPv4 multicast range such as 224.1.0.0/16",
  (input) =>
    typeof input === "string" && parseMulticastRange(input) !== undefined
      ? input.trim()
      : undefined,
);

/**
 * A recording path pattern: it names `%path` and every time field from
 * `%Y` to `%S` (so segments of one path never collide and the index can
 * read a segment's start from its name) and has no `..` segment.
 */
export const RecordPath = scalar(
  "expected a pattern with %path, %Y, %m, %d, %H, %M and %S and no .. segment",
  (input) => {
    if (typeof input !== "string") return undefined;
    const text = input.trim();
    const fields = ["%path", "%Y", "%m", "%d", "%H", "%M", "%S"];
    if (!fields.every((f) => text.includes(f))) return undefined;
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\\]/.test(text)) return undefined;
    if (text.split("/").some((s) => s === "..")) return undefined;
    return text;
  },
);

/** `false`, `"part"` or a count of parts between fsyncs. */
export const Fsync = scalar<false | "part" | number>(
  'expected false, "part" or a number of parts',
  (input) => {
    if (input === "part") return "part";
    const n = typeof input === "string" && /^\s*\d+\s*$/.test(input)
      ? Number(input)
      : input;
    if (typeof n === "number" && Number.isInteger(n) && n >= 1) {
      return n === 1 ? "part" : n;
    }
    return parseBool(input) === false || n === 0 ? false : undefined;
  },
);

/** An integer in `min..max`, also as a string of digits. */
export function IntRange(min: number, max: number) {
  return scalar(`expected an integer from ${min} to ${max}`, (input) => {
    const n = typeof input === "string" && /^\s*-?\d+\s*$/.test(input)
      ? Number(input)
      : input;
    return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
      ? n
      : undefined;
  });
}

/** One of `options`. */
export function OneOf<const T extends readonly string[]>(options: T) {
  const expected = `expected one of ${options.map((o) => `"${o}"`).join(", ")}`;
  return scalar<T[number]>(
    expected,
    (input) => options.find((o) => o === input),
  );
}

/**
 * An object whose unknown keys are errors, each named (valibot's
 * `strictObject` stops at the first one).
 */
export function Strict<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    Mapping("expected a mapping of keys to values"),
    v.objectWithRest(entries, v.never("unknown key")),
    v.transform((value): v.InferOutput<v.ObjectSchema<E, undefined>> => value),
  );
}

/** A plain object (not an array), as YAML and JSON mappings parse to. */
export function Mapping(expected: string) {
  return v.custom<Record<string, unknown>>(
    (input) =>
      typeof input === "object" && input !== null && !Array.isArray(input),
    expected,
  );
}

/** A key with its default and the one line `--help` shows for it. */
export function setting<
  const S extends v.GenericSchema,
  const D extends v.InferInput<S>,
>(
  schema: S,
  defaultValue: D,
  description: string,
) {
  return v.optional(v.pipe(schema, v.description(description)), defaultValue);
}

/** `lowLatency`, `fmp4` or `mpegts`. */
export const HlsVariant = OneOf(["lowLatency", "fmp4", "mpegts"] as const);
