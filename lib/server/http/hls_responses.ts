/**
 * The responses of the HLS routes, with the Cache-Control each object
 * gets: immutable media, cacheable blocking answers, short playlists and
 * 404s, unstored request errors. They are {@link Answer}s: the HTTP
 * server writes them without a `Response`.
 *
 * @module
 */

import type { Answer } from "../../net/http1/answer.ts";

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

/**
 * Headers every HLS answer carries: players on any origin may read it
 * (the HTTP server's CORS adds the same to its other routes).
 */
const ANY_ORIGIN = "*";

/** Headers of an answer no cache may keep. */
export function noStore(): Record<string, string> {
  return { "cache-control": CACHE.none };
}

/** `body` and a newline as `text/plain`, with any extra `headers` (lower-case names). */
export function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "access-control-allow-origin": ANY_ORIGIN,
      ...headers,
    },
    body: `${body}\n`,
  };
}

/** A playlist with its Cache-Control. */
export function playlist(body: string, cache: string): Answer {
  return {
    status: 200,
    headers: {
      "content-type": "application/vnd.apple.mpegurl",
      "cache-control": cache,
      "access-control-allow-origin": ANY_ORIGIN,
    },
    body,
  };
}

const MEDIA_HEADERS = new Map(
  ["video/mp2t", "video/mp4"].map((type) => [type, {
    "content-type": type,
    "cache-control": CACHE.immutable,
    "access-control-allow-origin": ANY_ORIGIN,
  }]),
);

/** A segment, part or init segment: immutable, written without a copy. */
export function media(
  bytes: Uint8Array,
  type: "video/mp2t" | "video/mp4",
): Answer {
  return { status: 200, headers: MEDIA_HEADERS.get(type)!, body: bytes };
}

/** 404, briefly cacheable (a name that is gone stays gone). */
export function notFound(detail?: string): Answer {
  return text(
    404,
    detail === undefined ? "Not Found" : `Not Found: ${detail}`,
    { "cache-control": CACHE.notFound },
  );
}

/** A refusal of this viewer (401, 429) as no cache may keep it. */
export function forThisViewer(refusal: Answer): Answer {
  return {
    ...refusal,
    headers: {
      ...refusal.headers,
      "cache-control": CACHE.none,
      "access-control-allow-origin": ANY_ORIGIN,
    },
  };
}

/** 429: too many blocked requests. */
export function tooMany(): Answer {
  return text(429, "Too Many Requests: too many blocked requests", {
    "cache-control": CACHE.none,
    "retry-after": "1",
  });
}
