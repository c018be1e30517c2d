import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidPath, MAX_PATH_LENGTH, parsePath } from "../lib/path.ts";

// RFC 3986 §3.3 (dot-segments), §2.1 (percent-encoding): what must never
// become another path, as a client or an attacker would write it.
const REFUSED: [string, string][] = [
  ["a parent segment", "/live/../../etc/passwd"],
  ["a parent segment at the start", "../live/cam"],
  ["a current segment", "/live/./cam"],
  ["a trailing parent segment", "/live/cam/.."],
  ["an encoded parent segment", "/live/%2e%2e/cam"],
  ["an encoded parent segment in capitals", "/live/%2E%2E/cam"],
  ["a half-encoded parent segment", "/live/.%2e/cam"],
  ["a double-encoded parent segment", "/live/%252e%252e/cam"],
  ["an encoded slash", "/live%2fcam"],
  ["a double-encoded slash", "/live/..%252fetc"],
  ["a backslash", "/live\\..\\cam"],
  ["an encoded backslash", "/live/..%5c..%5cetc"],
  ["a NUL", "/live/cam\0.flv"],
  ["an encoded NUL", "/live/cam%00"],
  ["a double-encoded NUL", "/live/cam%2500"],
  ["an overlong UTF-8 dot (%c0%ae)", "/live/%c0%ae%c0%ae/cam"],
  ["broken percent-encoding", "/live/%E0%A4%A"],
  ["a control character", "/live/ca\x1bm"],
  ["no segment at all", "///"],
  ["the empty string", ""],
  ["a path over the length limit", `/live/${"a".repeat(MAX_PATH_LENGTH)}`],
];
for (const [name, raw] of REFUSED) {
  Deno.test(`parsePath refuses ${name}`, () => {
    assert.equal(parsePath(raw), undefined);
  });
}

const ACCEPTED: [string, string, string][] = [
  [
    "collapses leading, trailing and doubled slashes",
    "//live//cam1/",
    "live/cam1",
  ],
  ["decodes UTF-8 once", "/live/caf%C3%A9", "live/café"],
  [
    "keeps dots that are not dot-segments",
    "/live/cam.v2/...",
    "live/cam.v2/...",
  ],
  ["keeps a lone percent sign", "/live/100%25", "live/100%"],
  [
    "keeps the longest path",
    `/${"a".repeat(MAX_PATH_LENGTH)}`,
    "a".repeat(MAX_PATH_LENGTH),
  ],
];
for (const [name, raw, path] of ACCEPTED) {
  Deno.test(`parsePath ${name}`, () => {
    assert.equal(parsePath(raw), path);
  });
}

/** Every UTF-8 byte of `s` as `%XX`. */
function encodeAll(s: string, upper: boolean): string {
  const hex = Array.from(
    new TextEncoder().encode(s),
    (b) => `%${b.toString(16).padStart(2, "0")}`,
  ).join("");
  return upper ? hex.toUpperCase() : hex;
}

/** The characters of `s` where `mask` says so percent-encoded, the rest as they are. */
function encodeSome(s: string, mask: readonly boolean[], upper: boolean) {
  return Array.from(
    s,
    (c, i) => (mask[i % mask.length] ? encodeAll(c, upper) : c),
  )
    .join("");
}

const SAFE = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..."-._~!$&'()*+,;=:@ é日本😀",
];
/** A segment that may name part of a stream, with any character but `%`. */
const plainSegment = fc.string({
  unit: fc.constantFrom(...SAFE),
  minLength: 1,
  maxLength: 12,
}).filter((s) => s !== "." && s !== "..");
/** The same, with `%`, `?` and `#` too (they travel percent-encoded). */
const anySegment = fc.string({
  unit: fc.constantFrom(...SAFE, "%", "?", "#", "/"),
  minLength: 1,
  maxLength: 12,
}).filter((s) =>
  s !== "." && s !== ".." && !s.includes("/") && !/%[0-9A-Fa-f]{2}/.test(s)
);
const slashes = fc.integer({ min: 1, max: 3 }).map((n) => "/".repeat(n));
const validPath = (segment: fc.Arbitrary<string>) =>
  fc.array(segment, { minLength: 1, maxLength: 6 }).filter((s) =>
    s.join("/").length <= MAX_PATH_LENGTH
  );

Deno.test("parsePath: a valid path written plainly comes back as it is, whatever the slashes", () => {
  fc.assert(
    fc.property(
      validPath(plainSegment),
      fc.array(slashes, { minLength: 8, maxLength: 8 }),
      fc.boolean(),
      (segments, gaps, lead) => {
        const raw = (lead ? gaps[7]! : "") +
          segments.map((s, i) => s + gaps[i]!).join("");
        assert.equal(parsePath(raw), segments.join("/"));
      },
    ),
  );
});

Deno.test("parsePath: a valid path percent-encoded once comes back decoded", () => {
  fc.assert(
    fc.property(
      validPath(anySegment),
      fc.array(fc.boolean(), { minLength: 1 }),
      fc.boolean(),
      (segments, mask, upper) => {
        const raw = segments.map((s) => {
          const must = encodeURIComponent(s);
          // encodeURIComponent leaves some characters alone; encode others at random too
          return must === s ? encodeSome(s, mask, upper) : must;
        }).join("/");
        const path = parsePath(`/${raw}`);
        assert.equal(path, segments.join("/"));
        assert.ok(isValidPath(path!));
      },
    ),
  );
});

/** A segment that must be refused however it is written: a dot-segment, or one holding `\`, NUL, a control character or `/`. */
const badSegment = fc.oneof(
  fc.constantFrom(".", ".."),
  fc.tuple(
    fc.string({ unit: fc.constantFrom(...SAFE), maxLength: 4 }),
    fc.constantFrom("\\", "\0", "\x1f", "\x7f", "/"),
    fc.string({ unit: fc.constantFrom(...SAFE), maxLength: 4 }),
  ).map(([a, bad, b]) => a + bad + b),
);

type Writing = "plain" | "once" | "some" | "twice" | "some twice";
const writing = fc.constantFrom<Writing>(
  "plain",
  "once",
  "some",
  "twice",
  "some twice",
);

function write(
  s: string,
  how: Writing,
  mask: readonly boolean[],
  upper: boolean,
): string {
  const once = how === "plain"
    ? s
    : how === "once" || how === "twice"
    ? encodeAll(s, upper)
    : encodeSome(s, mask, upper);
  return how === "twice" || how === "some twice"
    ? once.replaceAll("%", "%25")
    : once;
}

Deno.test("parsePath refuses any path with a dot-segment, backslash, NUL or slash in a segment, written plainly, encoded once or twice", () => {
  fc.assert(
    fc.property(
      validPath(plainSegment),
      fc.nat(),
      badSegment,
      writing,
      fc.array(fc.boolean(), { minLength: 1 }),
      fc.boolean(),
      (segments, at, bad, how, mask, upper) => {
        const written = write(bad, how, mask, upper);
        // a slash left plain is a separator, not part of the segment
        fc.pre(!written.includes("/"));
        // a double encoding must leave at least one escape for the test to mean "twice"
        fc.pre(!how.endsWith("twice") || written.includes("%25"));
        const parts = [...segments];
        parts.splice(at % (parts.length + 1), 0, written);
        assert.equal(parsePath(parts.join("/")), undefined, parts.join("/"));
      },
    ),
  );
});

Deno.test("parsePath: any text gives a valid path or undefined, never a throw", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (raw) => {
      const path = parsePath(raw);
      if (path !== undefined) assert.ok(isValidPath(path), path);
    }),
  );
});
