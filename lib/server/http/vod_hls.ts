/**
 * HLS of the VOD folder's files, as nginx-vod-module serves them:
 *
 * - `/vod/<file>/index.m3u8`: the multivariant playlist;
 * - `/vod/<file>/stream.m3u8`: the whole file as a VOD media playlist
 *   (`EXT-X-PLAYLIST-TYPE:VOD`, `EXT-X-ENDLIST`), segments cut on the
 *   file's keyframes, at least `hlsSegmentDuration` long;
 * - `/vod/<file>/<tag>_init.mp4`, `/vod/<file>/<tag>_<n>.mp4` (CMAF fMP4)
 *   or `<tag>_<n>.ts` (MPEG-TS, with `?variant=ts` on the playlists, as for
 *   live paths), made on demand by seeking the file;
 * - `/vod/<file>/`: the player page.
 *
 * The tag names the file's version: segments and init segments never
 * change under their names and are immutable for a year; playlists change
 * only when the file does and are cacheable for a while. Reads ask the one
 * authenticator for `read` on `vod/<file>`, as the other VOD routes do.
 *
 * @module
 */

import type { Hono } from "hono";
import type { Logger } from "../../log.ts";
import { parsePath } from "../../path.ts";
import { codecStrings } from "../../hls/part_writer.ts";
import { renderMultivariantPlaylist } from "../../hls/playlist.ts";
import { isVodPath, VOD_PREFIX, VodError } from "../../vod/folder.ts";
import { VodFormatError } from "../../vod/source.ts";
import type { Vod } from "../../vod/vod.ts";
import {
  VodBusyError,
  type VodHlsFile,
  type VodHlsVariant,
} from "../../vod/hls.ts";
import { renderVodPlaylist } from "../../vod/hls_index.ts";
import type { Config } from "../../config/schema.ts";
import { requestPath } from "./request_path.ts";
import {
  CACHE,
  forThisViewer,
  media,
  noStore,
  playlist,
  text,
} from "./hls_responses.ts";
import {
  type Answer,
  answerOf,
  answerResponse,
} from "../../net/http1/answer.ts";
import type { HttpCredentials } from "../../auth/http.ts";
import { type HlsRequest, hlsRequest } from "./hls_request.ts";
import { pagePorts, playerPage } from "./hls_page.ts";

/** Cache-Control of a file's playlists: they change only when the file does. */
export const VOD_PLAYLIST_CACHE = "public, max-age=300";

const FILE =
  /^(?:(index|stream)\.m3u8|([0-9a-f]{8})_(?:init\.mp4|(\d{1,9})\.(mp4|ts)))$/;

/** What VOD HLS reads of the configuration. */
export type VodHlsConfig =
  & Partial<
    Pick<
      Config,
      | "hlsVariant"
      | "hlsSegmentDuration"
      | "rtmp"
      | "rtmpAddress"
      | "rtsp"
      | "rtspAddress"
    >
  >
  & { hls?: boolean };

/** What {@link mountVodHls} needs of the HTTP server. */
export interface VodHlsServerOptions {
  /** The VOD folder; no routes without one. */
  vod?: Pick<Vod, "hls">;
  config: VodHlsConfig;
  log: Logger;
}

/** The refusal of a read of `path` by the client at `ip`, or `undefined` when it may. */
export type VodHlsAuthorize = (
  credentials: HttpCredentials,
  path: string,
  ip: string,
) => Promise<Response | undefined>;

interface VodHlsRouteOptions {
  vod: Pick<Vod, "hls">;
  config: VodHlsConfig;
  log: Logger;
  authorize: VodHlsAuthorize;
}

/** The VOD HLS answers, for the hono route and the HTTP server's fast way. */
export class VodHls {
  readonly #options: VodHlsRouteOptions;

  constructor(options: VodHlsRouteOptions) {
    this.#options = options;
  }

  /** Whether `target` (the path as sent) is a VOD playlist, segment or init segment. */
  static isFile(target: string): boolean {
    return target.startsWith(`/${VOD_PREFIX}`) &&
      FILE.test(target.slice(target.lastIndexOf("/") + 1));
  }

  /** Answers a request for a file's playlist, segment or player page. */
  async answer(req: HlsRequest): Promise<Answer | Response> {
    const { target, client } = req;
    const slash = target.lastIndexOf("/");
    const file = target.slice(slash + 1);
    const path = parsePath(target.slice(0, slash));
    if (path === undefined || !isVodPath(path)) {
      return text(400, "Bad Request: invalid path", noStore());
    }
    const options = this.#options;
    const refused = await options.authorize(req.credentials, path, client);
    if (refused !== undefined) return forThisViewer(await answerOf(refused));
    const { config, log, vod } = options;
    const name = path.slice(VOD_PREFIX.length);
    const seconds = (config.hlsSegmentDuration ?? 1000) / 1000;
    try {
      return await vod.hls.with(name, seconds, (f) => {
        if (file === "") return playerPage(path, pagePorts(config));
        const m = FILE.exec(file)!;
        if (m[1] !== undefined) {
          const ts = req.query.get("variant") === "ts" ||
            config.hlsVariant === "mpegts";
          return playlistOf(f, m[1], ts ? "mpegts" : "fmp4");
        }
        if (m[2] !== f.tag) return gone("the file changed");
        if (m[3] === undefined) return init(options, f);
        return segment(options, f, m[4] === "ts" ? "mpegts" : "fmp4", m[3]);
      });
    } catch (e) {
      return refusal(e, path, log);
    }
  }
}

/** The VOD HLS answers, unless there is no VOD folder or `hls` is off. */
export function vodHls(
  server: VodHlsServerOptions,
  authorize: VodHlsAuthorize,
): VodHls | undefined {
  const { vod, config } = server;
  if (vod === undefined || config.hls === false) return undefined;
  return new VodHls({
    vod,
    config,
    log: server.log.child("vod-hls"),
    authorize,
  });
}

/**
 * Adds the VOD HLS routes under `/vod/` to `app`; other requests under
 * `/vod/` go on to the routes after it.
 */
export function mountVodHls(
  // deno-lint-ignore no-explicit-any
  app: Hono<any>,
  hls: VodHls,
): void {
  app.get(`/${VOD_PREFIX}*`, async (c, next) => {
    const target = requestPath(c.req.url);
    const file = target.slice(target.lastIndexOf("/") + 1);
    if (file !== "" && !FILE.test(file)) return await next();
    const ip = (c.env as { remote?: Deno.NetAddr })?.remote?.hostname ?? "";
    const a = await hls.answer(hlsRequest(c.req.raw, target, ip));
    return a instanceof Response ? a : answerResponse(a);
  });
}

function playlistOf(
  f: VodHlsFile,
  which: string,
  variant: VodHlsVariant,
): Answer {
  const tracks = f.tracks(variant);
  if (tracks.length === 0) {
    return text(
      415,
      "Unsupported Media Type: no track of this file goes in this HLS variant",
      noStore(),
    );
  }
  const ts = variant === "mpegts";
  if (which === "index") {
    const video = tracks.find((t) => t.kind === "video");
    // The file's own rate, and a peak a GOP of motion may reach.
    const average = (f.bytes * 8) / Math.max(1, f.durationSeconds);
    const body = renderMultivariantPlaylist({
      uri: ts ? "stream.m3u8?variant=ts" : "stream.m3u8",
      bandwidth: average * 1.5,
      averageBandwidth: average,
      codecs: codecStrings(tracks),
      width: video?.kind === "video" ? video.width : undefined,
      height: video?.kind === "video" ? video.height : undefined,
    });
    return playlist(body, VOD_PLAYLIST_CACHE);
  }
  const ext = ts ? "ts" : "mp4";
  const body = renderVodPlaylist({
    spans: f.spans,
    uri: (i) => `${f.tag}_${i}.${ext}`,
    mapUri: ts ? undefined : `${f.tag}_init.mp4`,
  });
  return playlist(body, VOD_PLAYLIST_CACHE);
}

async function init(
  { vod }: VodHlsRouteOptions,
  f: VodHlsFile,
): Promise<Answer> {
  if (f.tracks("fmp4").length === 0) return gone("no fMP4 tracks");
  return media(await vod.hls.init(f), "video/mp4");
}

async function segment(
  { vod }: VodHlsRouteOptions,
  f: VodHlsFile,
  variant: VodHlsVariant,
  index: string,
): Promise<Answer> {
  if (f.tracks(variant).length === 0) return gone("no tracks");
  const bytes = vod.hls.segment(f, variant, Number(index));
  if (bytes === undefined) return gone("no such segment");
  return media(await bytes, variant === "mpegts" ? "video/mp2t" : "video/mp4");
}

/** 404 for a name that does not (or no longer) exist. */
function gone(detail: string): Answer {
  return text(404, `Not Found: ${detail}`, { "cache-control": CACHE.notFound });
}

/** The answer to a file that cannot be served. */
function refusal(e: unknown, path: string, log: Logger): Answer {
  if (e instanceof VodBusyError) {
    return text(503, "Service Unavailable: busy, try again", {
      "cache-control": CACHE.none,
      "retry-after": "1",
    });
  }
  if (!(e instanceof VodError) && !(e instanceof VodFormatError)) throw e;
  log.info("VOD HLS refused", { path, reason: e.message });
  if (e instanceof VodError && e.code !== "not-media") {
    return gone(e.message);
  }
  return text(415, `Unsupported Media Type: ${e.message}`, noStore());
}
