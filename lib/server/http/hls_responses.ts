/**
 * The responses of the HLS routes, with the Cache-Control each object
 * gets: immutable media, cacheable blocking answers, short playlists and
 * 404s, unstored request errors.
 *
 * @module
 */

import { text } from "./text.ts";
import { sharedBytesResponse } from "../../net/http1/respond.ts";

export { text } from "./text.ts";

/** Cache-Control by object. */
export const CACHE = {
  /** Segments, parts, init segments: names unique per muxer run. */
  immutable: "public, max-age=31536000, immutable",
  blocking: "public, max-age=60",
  playlist: "public, max-age=1",
  multivariant: "public, max-age=5",
  notFound: "public, max-age=1",
  none: "no-store",
} as const;

/** Headers of an answer no cache may keep. */
export function noStore(): Record<string, string> {
  return { "Cache-Control": CACHE.none };
}

/** A playlist with its Cache-Control. */
export function playlist(body: string, cache: string): Response {
  return new Response(body, {
    headers: {
      "Content-Type": "application/vnd.apple.mpegurl",
      "Cache-Control": cache,
    },
  });
}

/** A segment, part or init segment: immutable, written without a copy. */
export function media(bytes: Uint8Array, type: string): Response {
  return sharedBytesResponse(bytes, {
    headers: {
      "Content-Type": type,
      "Content-Length": String(bytes.length),
      "Cache-Control": CACHE.immutable,
    },
  });
}

/** 404, briefly cacheable (a name that is gone stays gone). */
export function notFound(detail?: string): Response {
  return text(
    404,
    detail === undefined ? "Not Found" : `Not Found: ${detail}`,
    {
      "Cache-Control": CACHE.notFound,
    },
  );
}

/** 429: too many blocked requests. */
export function tooMany(): Response {
  return text(429, "Too Many Requests: too many blocked requests", {
    "Cache-Control": CACHE.none,
    "Retry-After": "1",
  });
}
