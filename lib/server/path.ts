/**
 * Stream paths: what makes one valid, and how RTMP names become one.
 *
 * @module
 */

/** Longest path accepted, in UTF-16 units (names of 256+ bytes crashed other servers). */
export const MAX_PATH_LENGTH = 255;

/**
 * The hub path of `app` + `name`: `live` + `cam1?token=x` is `live/cam1`.
 * The query is left out (credentials travel there), slashes are collapsed,
 * and names with control characters, `..` segments or over
 * {@link MAX_PATH_LENGTH} give `undefined`.
 */
export function rtmpPath(app: string, name: string): string | undefined {
  const q = name.indexOf("?");
  const bare = q === -1 ? name : name.slice(0, q);
  const appBare = app.split("?")[0]!;
  const segments = `${appBare}/${bare}`.split("/").filter((s) => s !== "");
  if (segments.length < 1 || bare.replaceAll("/", "") === "") return undefined;
  const path = segments.join("/");
  return isValidPath(path) ? path : undefined;
}

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
