/**
 * RTSP URLs as clients and cameras really write them: SETUP URLs built from
 * a base and an SDP `a=control` (RFC 2326 §C.1.1), and request URLs matched
 * to a stream path however they end.
 *
 * @module
 */
// The one reading of a stream path for every protocol; it imports nothing,
// so this stage still needs nothing of the hub's (LAYOUT.md).
import { parsePath } from "../path.ts";
import type { RtspHeaders } from "./message.ts";

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The base URL for relative controls (RFC 2326 §C.1.1): Content-Base, else
 * Content-Location, else the request URL.
 */
export function baseUrl(headers: RtspHeaders, requestUrl: string): string {
  return headers.get("Content-Base") || headers.get("Content-Location") ||
    requestUrl;
}

/**
 * The URL to SETUP (or PLAY) for an `a=control` value, built the way ffmpeg
 * and live555 build it rather than by RFC 3986 resolution, which would drop
 * the last path segment of a base without a trailing slash:
 *
 * - absent, empty or `*`: the base itself (aggregate control);
 * - absolute (`rtsp://…`, any scheme): as given;
 * - `/path`: the base's scheme and authority, then the path;
 * - `?query`: the base without its trailing slash, then the query;
 * - anything else: the base, a `/` unless it ends with one, then the control,
 *   so Dahua's base `…/realmonitor?channel=1&subtype=0/` and `trackID=0`
 *   give `…?channel=1&subtype=0/trackID=0`.
 */
export function resolveControl(
  base: string,
  control: string | undefined,
): string {
  const c = control?.trim() ?? "";
  if (c === "" || c === "*") return base;
  if (SCHEME.test(c)) return c;
  if (c.startsWith("/")) {
    const origin = ORIGIN.exec(base);
    return origin === null ? c : origin[0] + c;
  }
  if (c.startsWith("?")) return base.replace(/\/+$/, "") + c;
  return base.endsWith("/") ? base + c : `${base}/${c}`;
}

/**
 * The stream path of a request URL: without scheme, authority, query and
 * fragment, read by {@link parsePath} from the text as the client sent it,
 * so `rtsp://h/live/../cam` is refused rather than read as `cam`. A URL
 * without a path (`rtsp://h:8554/`) gives `""`, the server's root, which no
 * stream has; `*`, and a path `parsePath` refuses, give `undefined`.
 */
export function rtspPath(url: string): string | undefined {
  if (url === "*") return undefined;
  let path = url.replace(ORIGIN, "");
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  if (/^\/*$/.test(path)) return "";
  return parsePath(path);
}

/**
 * How a request URL relates to the stream at `path`: `""` when it names the
 * stream, the rest (a track control such as `trackID=0`) when it names
 * something below it, `undefined` otherwise. VLC sends the base URL with a
 * trailing slash, HappyTime without, Bosch BVMS a relative path: all match.
 */
export function matchPath(url: string, path: string): string | undefined {
  const p = rtspPath(url);
  const target = path.split("/").filter((s) => s !== "").join("/");
  if (p === undefined) return undefined;
  if (p === target) return "";
  if (target === "") return p;
  return p.startsWith(`${target}/`) ? p.slice(target.length + 1) : undefined;
}

/** Whether two URLs name the same path (Digest `uri=` against the request URL). */
export function sameResource(a: string, b: string): boolean {
  const pa = rtspPath(a);
  return pa !== undefined && pa === rtspPath(b);
}
