/**
 * Stream paths: what makes one valid.
 *
 * @module
 */

/** Longest path accepted, in UTF-16 units (names of 256+ bytes crashed other servers). */
export const MAX_PATH_LENGTH = 255;

/**
 * Whether `path` (slashes already collapsed) may name a stream: not empty,
 * at most {@link MAX_PATH_LENGTH} long, no control characters, backslashes
 * or `.`/`..` segments.
 */
export function isValidPath(path: string): boolean {
  if (path === "" || path.length > MAX_PATH_LENGTH) return false;
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(path)) return false;
  return !path.split("/").some((s) => s === "." || s === "..");
}
