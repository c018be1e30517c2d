/**
 * HLS requests answered straight from their head, without hono, a
 * `Request` or a `Response`, where the head allows it.
 *
 * @module
 */

import type { RequestHead } from "../../net/http1/head.ts";
import type { Answer } from "../../net/http1/answer.ts";
import { credentialsOf } from "../../auth/http.ts";
import { VOD_PREFIX } from "../../vod/folder.ts";
import { validHost } from "./require_host.ts";
import { HlsHandler } from "./hls.ts";
import type { HlsRequest } from "./hls_request.ts";
import { VodHls } from "./vod_hls.ts";

/** What answers HLS requests: the live routes or those of files. */
export interface HlsAnswers {
  answer(req: HlsRequest): Promise<Answer | Response>;
}

/**
 * The answer to an HLS request of `live` (playlists, parts, segments) or of
 * `vod` (files) made straight from its head, or `undefined` for the usual
 * route: anything but a `GET` or `HEAD` of such a file, a target another
 * route claims, or a target or `Host` that `Request.url` would not keep as
 * it is. The usual route answers those the same but for the work.
 */
export function directHls(
  head: RequestHead,
  remote: Deno.NetAddr,
  signal: AbortSignal,
  live: HlsAnswers | undefined,
  vod: HlsAnswers | undefined,
): Promise<Answer | Response> | undefined {
  if (head.method !== "GET" && head.method !== "HEAD") return undefined;
  const target = head.target;
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const hls = VodHls.isFile(path)
    ? vod
    : OTHER_ROUTES.test(path) || !HlsHandler.isFile(path)
    ? undefined
    : live;
  if (
    hls === undefined || !PLAIN_TARGET.test(target) || !plainHost(head.host)
  ) return undefined;
  const raw = q < 0 ? "" : target.slice(q + 1);
  const query = new URLSearchParams(raw);
  const authorization = head.fields.find(([n]) => n === "authorization");
  return hls.answer({
    target: path,
    query,
    credentials: credentialsOf(query, raw, authorization?.[1]),
    client: remote.hostname,
    signal,
  });
}

/**
 * A request-target the URL parser keeps as it is: an origin-form path and
 * query of unreserved, sub-delim and percent-escape characters, no
 * dot-segment (`Request.url` would differ from it otherwise).
 */
const PLAIN_TARGET =
  /^(?!.*(?:^|\/)(?:\.|%2e){1,2}(?:[/?]|$))\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?$/i;

/** Paths of the routes mounted before the HLS ones (API, metrics, recordings, files). */
const OTHER_ROUTES = new RegExp(
  `^/(?:api/|metrics$|playback/|${VOD_PREFIX.replace("/", "\\/")})`,
);

/** `Host` values known to pass `requireHost` and to make a `Request.url`, a few. */
const plainHosts = new Set<string>();

/**
 * Whether `host` is one that `requireHost` takes and `Request.url` keeps:
 * the usual route would take the request as the fast one does.
 */
function plainHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  if (plainHosts.has(host)) return true;
  if (!validHost(host)) return false;
  try {
    if (new URL(`http://${host}/`).host !== host.toLowerCase()) return false;
  } catch {
    return false;
  }
  if (plainHosts.size >= 64) plainHosts.clear();
  plainHosts.add(host);
  return true;
}
