/**
 * The `Host` header every HTTP/1.1 request must carry.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** Options of {@link requireHost}. */
export interface RequireHostOptions {
  /** Longest `Host` value accepted, in bytes (a DNS name has at most 253). @default {255} */
  maxLength?: number;
  /** Called for each refused request with the `Host` it had, if any (for a log line). */
  onRefused?: (host: string | undefined) => void;
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2–3.2.3: `uri-host [ ":" port ]`, the host an
 * IP-literal in brackets, an IPv4 address or a reg-name (unreserved,
 * sub-delims and percent-escapes); never empty, since an `http` URI always
 * has an authority. Only ASCII matches, so the length in UTF-16 units is
 * the length in bytes.
 */
const HOST =
  /^(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]*)?$/;

/**
 * A hono middleware that answers 400 to a request without a `Host` header
 * or with one that is too long or not a host (RFC 9112 §3.2: "A server
 * MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
 * message that lacks a Host header field … or a Host header field with an
 * invalid field-value"). Sluice's HTTP server already answers 400 to a
 * request with two `Host` lines; the handler is not told the HTTP version,
 * so an HTTP/1.0 request without `Host` is refused too (ffmpeg, GStreamer, VLC and
 * browsers send it with HTTP/1.0 as well).
 */
export function requireHost(
  options: RequireHostOptions = {},
): MiddlewareHandler {
  const maxLength = options.maxLength ?? 255;
  return async function requireHost(c, next) {
    // The header itself, not Request.url, whose host the server fills in when it is missing.
    const host = c.req.raw.headers.get("Host") ?? undefined;
    if (!validHost(host, maxLength)) {
      options.onRefused?.(host);
      return new Response("Bad Request: missing or invalid Host\n", {
        status: 400,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    }
    await next();
  };
}

/** Whether `host` (a `Host` value, if any) is one {@link requireHost} lets through. */
export function validHost(host: string | undefined, maxLength = 255): boolean {
  return host !== undefined && host.length <= maxLength && HOST.test(host);
}
