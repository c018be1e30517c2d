/**
 * A parsed request head and body as a fetch `Request`, for handlers
 * written for `Deno.serve` (hono's `app.fetch`).
 *
 * @module
 */

import type { RequestHead } from "./head.ts";

/** What {@link toRequest} needs of the connection. */
export interface RequestContext {
  scheme: "http" | "https";
  /** The authority for a request without `Host` (HTTP/1.0). */
  defaultHost: string;
}

/**
 * A dot-segment (`.`, `..`, or either percent-encoded) or a backslash in
 * the path: the URL parser would resolve it into another path, so the
 * target the handler sees would not be the one sent. Such a request is
 * refused instead.
 */
const RESOLVED = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|\\/i;

/**
 * The `Request` of `head` and `body` (streamed as it arrives), or the 400 answer when the target
 * cannot be one (an authority that is not a host, a path the URL parser
 * would rewrite).
 */
export function toRequest(
  head: RequestHead,
  body: ReadableStream<Uint8Array> | null,
  context: RequestContext,
  signal: AbortSignal,
): Request | Response {
  let url: string;
  const target = head.target;
  if (target.charCodeAt(0) === 47) {
    const q = target.indexOf("?");
    if (RESOLVED.test(q < 0 ? target : target.slice(0, q))) {
      return errorResponse(400, "Bad Request: invalid path");
    }
    url = `${context.scheme}://${head.host ?? context.defaultHost}${target}`;
  } else if (/^https?:\/\//i.test(target)) {
    url = target; // absolute form (RFC 9112 §3.2.2)
  } else if (target === "*" && head.method === "OPTIONS") {
    url = `${context.scheme}://${head.host ?? context.defaultHost}/`;
  } else {
    return errorResponse(400, "Bad Request: invalid request target");
  }
  const hasBody = body !== null && head.method !== "GET" &&
    head.method !== "HEAD";
  try {
    return new Request(url, {
      method: head.method,
      headers: head.fields,
      body: hasBody ? body : undefined,
      signal,
    });
  } catch {
    return errorResponse(400, "Bad Request");
  }
}

/** A plain-text answer to a request the server refuses itself. */
export function errorResponse(status: number, reason: string): Response {
  return new Response(`${reason}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}
