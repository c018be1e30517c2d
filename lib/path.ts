/**
 * Stream paths: the one place that reads a path from the wire and says
 * whether it may name a stream. RTSP, RTMP and HTTP all come through
 * {@link parsePath}, so a path is the same stream over every protocol and
 * none of them can be talked into another path.
 *
 * @module
 */

/** Longest path accepted, in UTF-16 units (names of 256+ bytes crashed other servers). */
export const MAX_PATH_LENGTH = 255;

/** Longest raw text read: every character of a longest path percent-encoded as 3 bytes of UTF-8. */
const MAX_RAW_LENGTH = MAX_PATH_LENGTH * 9;

// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\x00-\x1f\x7f\\]/;
/** A percent-escape left after one decoding: the text was encoded twice. */
const ESCAPE = /%[0-9A-Fa-f]{2}/;

/**
 * The stream path that `raw` names, or `undefined` to refuse it. `raw` is
 * the path exactly as it came on the wire, before anything normalised it:
 * the path of an RTSP request URL, an RTMP app and stream name joined with
 * `/`, the target of an HTTP request, each without its query.
 *
 * Empty segments go (leading, trailing and doubled slashes), each segment
 * is percent-decoded once, and the path is refused when a segment is or
 * hides anything that could make it another path (RFC 3986 §3.3, §6.2.2):
 *
 * - a dot-segment, `.` or `..`, written plainly or percent-encoded (`%2e%2e`);
 * - a slash inside a segment (`%2f`), a backslash, NUL or another control
 *   character, plainly or encoded;
 * - a percent-escape left after decoding: the text was encoded twice
 *   (`%252f`, `%252e%252e`), which a later decoding would turn into one of
 *   the above;
 * - broken percent-encoding or UTF-8, no segment at all, or a result longer
 *   than {@link MAX_PATH_LENGTH}.
 *
 * Nothing is resolved: `live/../cam` is refused, never read as `cam`.
 *
 * @example Paths from the wire
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePath } from "./path.ts";
 *
 * assert.equal(parsePath("/live//cam1/"), "live/cam1");
 * assert.equal(parsePath("/live/caf%C3%A9"), "live/café");
 * assert.equal(parsePath("/live/../../etc/passwd"), undefined);
 * assert.equal(parsePath("/live/%2e%2e/cam1"), undefined);
 * assert.equal(parsePath("/live/%252e%252e/cam1"), undefined);
 * ```
 */
export function parsePath(raw: string): string | undefined {
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "") continue;
    const decoded = decodeSegment(segment);
    if (decoded === undefined) return undefined;
    segments.push(decoded);
  }
  const path = segments.join("/");
  // Each segment passed isValidPath's checks as it was decoded: only the
  // whole's length is left to check.
  return path !== "" && path.length <= MAX_PATH_LENGTH ? path : undefined;
}

/** One segment decoded, or `undefined` when it is or hides a way out of its place. */
function decodeSegment(segment: string): string | undefined {
  if (FORBIDDEN.test(segment)) return undefined;
  // Without a `%` there is nothing to decode, and `decodeURIComponent` is a
  // call into V8's C++: every HLS request's path came through here.
  let decoded = segment;
  if (segment.includes("%")) {
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined; // broken escapes or UTF-8 (overlong `%c0%ae` among them)
    }
  }
  if (
    decoded === "." || decoded === ".." || decoded.includes("/") ||
    FORBIDDEN.test(decoded) || ESCAPE.test(decoded)
  ) return undefined;
  return decoded;
}

/**
 * Whether `path`, already decoded with its slashes collapsed, may name a
 * stream: not empty, at most {@link MAX_PATH_LENGTH} long, no control
 * characters, backslashes or `.`/`..` segments. Every path
 * {@link parsePath} returns is one.
 */
export function isValidPath(path: string): boolean {
  if (path === "" || path.length > MAX_PATH_LENGTH) return false;
  if (FORBIDDEN.test(path)) return false;
  return !path.split("/").some((s) => s === "" || s === "." || s === "..");
}
