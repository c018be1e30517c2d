/**
 * What the HLS routes (live and of files) read of a request, whether it
 * came through hono or straight from its head (`hls_direct.ts`).
 *
 * @module
 */

import { credentialsOf, type HttpCredentials } from "../../auth/http.ts";

/** What the HLS routes read of a request. */
export interface HlsRequest {
  /** The request path as sent, without the query. */
  target: string;
  query: URLSearchParams;
  credentials: HttpCredentials;
  /** The client's address: for the authenticator and the blocking limits. */
  client: string;
  /** Aborts when the client leaves. */
  signal: AbortSignal;
}

/** The {@link HlsRequest} of a hono route's request. */
export function hlsRequest(
  req: Request,
  target: string,
  client: string,
): HlsRequest {
  const url = new URL(req.url);
  return {
    target,
    query: url.searchParams,
    credentials: credentialsOf(
      url.searchParams,
      url.search.slice(1),
      req.headers.get("Authorization") ?? undefined,
    ),
    client,
    signal: req.signal,
  };
}
