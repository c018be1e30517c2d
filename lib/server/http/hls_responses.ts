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
  let headers = PLAYLIST_HEADERS.get(cache);
  if (headers === undefined) {
    headers = {
      "content-type": "application/vnd.apple.mpegurl",
      "cache-control": cache,
      "access-control-allow-origin": ANY_ORIGIN,
    };
    PLAYLIST_HEADERS.set(cache, headers);
  }
  return { status: 200, headers, body: playlistBytes(body) };
}

/** A playlist's headers by Cache-Control: one record each, shared. */
const PLAYLIST_HEADERS = new Map<string, Record<string, string>>();

/** Playlists encoded lately: their viewers share the bytes. */
const ENCODED = new Map<string, Uint8Array>();
/** Playlists kept encoded at most. */
const MAX_ENCODED = 256;
const encoder = new TextEncoder();

/**
 * `text` as UTF-8, encoded once for every viewer who asks for the same
 * playlist (the segmenter hands out one rendering per version): shared
 * bytes are what the HTTP server can write without a copy of its own.
 */
function playlistBytes(text: string): Uint8Array {
  let bytes = ENCODED.get(text);
  if (bytes === undefined) {
    if (ENCODED.size >= MAX_ENCODED) ENCODED.clear();
    bytes = encoder.encode(text);
    ENCODED.set(text, bytes);
  }
  return bytes;
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
