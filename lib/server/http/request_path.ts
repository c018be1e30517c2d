/**
 * The path of an HTTP request as the client sent it.
 *
 * @module
 */

const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The path of the request-target in `url` (a `Request.url`), as the client
 * sent it: without scheme, authority, query and fragment, nothing decoded
 * or resolved. Sluice's HTTP server builds `Request.url` from
 * `http://<Host>` and the request-target unchanged (and refuses
 * dot-segments with 400 before that), whereas
 * `new URL()` resolves `/live/../../etc/passwd.flv` into `/etc/passwd.flv`;
 * stream paths are read from this text so that such a target is refused,
 * not served as another path. The authority ends at the first `/` because
 * {@link requireHost} has refused a Host with one.
 */
export function requestPath(url: string): string {
  const rest = url.replace(ORIGIN, "");
  const end = rest.search(/[?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}
