/**
 * HLS and Low-Latency HLS on the HTTP port: `/<path>/index.m3u8` (the
 * multivariant playlist), `/<path>/stream.m3u8` (the media playlist, with
 * blocking reload `_HLS_msn`/`_HLS_part` and delta updates `_HLS_skip`),
 * and the init segment, segments and parts it names, all under `/<path>/`.
 *
 * Caching (so that a CDN or a caching proxy carries the crowd): segments,
 * parts and init segments have names unique to one muxer run and never
 * change, so they are immutable for a year; a blocking reload answer is
 * named by its full URL and cacheable for a minute; a plain media playlist
 * for a second, the multivariant playlist for five, a 404 for one. Errors
 * of the request itself (400, 429, 503) are not stored.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { parsePath } from "../../path.ts";
import {
  renderMediaPlaylist,
  renderMultivariantPlaylist,
} from "../../hls/playlist.ts";
import { type HlsConfig, type HlsMuxer, HlsMuxers } from "./hls_muxers.ts";
import { codecStrings } from "../../hls/part_writer.ts";
import type { HlsMuxersOptions } from "./hls_muxers.ts";
import {
  CACHE,
  forThisViewer,
  media,
  noStore,
  notFound,
  playlist,
  text,
  tooMany,
} from "./hls_responses.ts";
import {
  HLS_JS_URL,
  hlsJsResponse,
  pagePorts,
  playerPage,
} from "./hls_page.ts";
import type { Config } from "../../config/schema.ts";
import type { HttpCredentials } from "../../auth/http.ts";
import type { HlsRequest } from "./hls_request.ts";
import {
  type Answer,
  answerOf,
  answerResponse,
} from "../../net/http1/answer.ts";

/** Blocked requests one client (remote address) may have at once. */
export const MAX_BLOCKED_PER_CLIENT = 64;
/** Blocked requests over all clients. */
export const MAX_BLOCKED_TOTAL = 4096;
/** An `_HLS_msn` more than this past the last segment is refused (8216bis §6.2.5.2). */
const MSN_AHEAD_LIMIT = 2;
/** Parts past the last one a request may wait for. */
const PART_AHEAD_LIMIT = 8;

const FILE =
  /^([0-9a-f]{8})_(?:init(\d{1,9})\.mp4|(\d{1,15})(?:_(\d{1,6}))?\.(mp4|ts))$/;

/** Options of {@link HlsHandler}. */
export interface HlsHandlerOptions extends HlsMuxersOptions {
  config:
    & HlsConfig
    & Partial<Pick<Config, "rtmp" | "rtmpAddress" | "rtsp" | "rtspAddress">>;
  log: Logger;
  /**
   * The refusal of a read of `path` by the client at `ip` with
   * `credentials`, or `undefined` when it may read: the server's one
   * authenticator decides.
   */
  authorize(
    credentials: HttpCredentials,
    path: string,
    ip: string,
  ): Promise<Response | undefined>;
}

/** Answers the HLS requests of the HTTP server. */
export class HlsHandler {
  readonly muxers: HlsMuxers;
  readonly #options: HlsHandlerOptions;
  readonly #blocked = new Map<string, number>();
  #blockedTotal = 0;
  /** Requests answered, by what they asked for. */
  readonly stats = {
    playlists: 0,
    blockingPlaylists: 0,
    parts: 0,
    segments: 0,
  };

  constructor(options: HlsHandlerOptions) {
    this.#options = options;
    this.muxers = new HlsMuxers(options);
  }

  /** Requests blocked now. */
  get blocked(): number {
    return this.#blockedTotal;
  }

  /**
   * Whether `target` (the request path as sent) is an HLS URL: a path
   * ending in `.m3u8`, `.mp4` or `.ts`, or a player page.
   */
  static matches(target: string): boolean {
    return HlsHandler.isFile(target) ||
      (target.endsWith("/") && target !== "/") || target === HLS_JS_URL;
  }

  /** Whether `target` names a playlist, segment, part or init segment. */
  static isFile(target: string): boolean {
    return /\/[^/]+\.(m3u8|mp4|ts)$/.test(target);
  }

  /** The player page of a path (`target` ends in `/`) or the hls.js it loads. */
  async page(req: HlsRequest): Promise<Response> {
    if (req.target === HLS_JS_URL) return await hlsJsResponse();
    const path = parsePath(req.target);
    if (path === undefined) {
      return answerResponse(text(400, "Bad Request: invalid path"));
    }
    const refused = await this.#refused(req, path);
    if (refused !== undefined) return answerResponse(refused);
    return playerPage(path, pagePorts(this.#options.config));
  }

  /** Answers a request for a playlist or a media file ({@link HlsHandler.isFile}). */
  async answer(req: HlsRequest): Promise<Answer> {
    const { target, query, client, signal } = req;
    const slash = target.lastIndexOf("/");
    const path = parsePath(target.slice(0, slash));
    const file = target.slice(slash + 1);
    if (path === undefined) return text(400, "Bad Request: invalid path");
    const refused = await this.#refused(req, path);
    if (refused !== undefined) return refused;
    const m = FILE.exec(file);
    if (file !== "index.m3u8" && file !== "stream.m3u8" && m === null) {
      return notFound();
    }
    if (m !== null) {
      // A file of a muxer that is gone (or of an older server run) never comes back.
      const muxer = this.muxers.byPrefix(path, m[1]!);
      if (muxer === undefined) {
        return notFound();
      }
      muxer.lastRequestMs = Date.now();
      if (m[2] !== undefined) return this.#init(muxer, Number(m[2]));
      return this.#media(req, muxer, Number(m[3]), m[4], m[5]!);
    }
    // `?variant=ts`: MPEG-TS for old players, whatever the path's variant.
    const ts = query.get("variant") === "ts";
    const muxer = await this.muxers.get(
      path,
      signal,
      ts ? "mpegts" : undefined,
    );
    if (muxer === undefined) {
      if (signal.aborted) return text(499, "Client Closed Request");
      return notFound(`no stream ${path}`);
    }
    // The multivariant playlist answers once one part exists; a media
    // playlist without _HLS_msn once one segment is complete, since players
    // without Low-Latency HLS (ffmpeg, older TVs) give up on a playlist
    // that has parts only.
    const blocking = query.has("_HLS_msn");
    const s = muxer.segmenter;
    const first = await this.#block(client, () =>
      this.muxers.wait(
        muxer,
        () =>
          file === "index.m3u8" || blocking ? s.ready : s.completeSegments > 0,
        this.#options.config.playWaitTimeout,
        signal,
      ));
    if (first === "busy") return tooMany();
    if (!first) {
      return text(503, "Service Unavailable: no media yet", noStore());
    }
    if (file === "index.m3u8") return this.#multivariant(muxer, ts);
    this.stats[blocking ? "blockingPlaylists" : "playlists"]++;
    return this.#playlist(req, muxer);
  }

  /** The refusal of a read of `path`, if any: for this viewer only. */
  async #refused(req: HlsRequest, path: string): Promise<Answer | undefined> {
    const refused = await this.#options.authorize(
      req.credentials,
      path,
      req.client,
    );
    return refused === undefined
      ? undefined
      : forThisViewer(await answerOf(refused));
  }

  #multivariant(muxer: HlsMuxer, ts: boolean): Answer {
    const s = muxer.segmenter;
    const video = s.tracks.find((t) => t.kind === "video");
    const bw = s.bandwidth();
    const body = renderMultivariantPlaylist({
      uri: ts ? "stream.m3u8?variant=ts" : "stream.m3u8",
      bandwidth: bw.peak,
      averageBandwidth: bw.average,
      codecs: codecStrings(s.tracks),
      width: video?.kind === "video" ? video.width : undefined,
      height: video?.kind === "video" ? video.height : undefined,
    });
    return playlist(body, CACHE.multivariant);
  }

  async #playlist(req: HlsRequest, muxer: HlsMuxer): Promise<Answer> {
    const s = muxer.segmenter;
    const q = req.query;
    const msnText = q.get("_HLS_msn");
    const partText = q.get("_HLS_part");
    const skip = q.get("_HLS_skip") === "YES" || q.get("_HLS_skip") === "v2";
    const render = () =>
      s.playlist(skip ? "skip" : "", (p) => renderMediaPlaylist(p, { skip }));
    if (msnText === null) {
      if (partText !== null) {
        return text(400, "Bad Request: _HLS_part without _HLS_msn", noStore());
      }
      return playlist(render(), CACHE.playlist);
    }
    const msn = wholeNumber(msnText);
    const part = partText === null ? undefined : wholeNumber(partText);
    if (msn === null || part === null) {
      return text(
        400,
        "Bad Request: _HLS_msn and _HLS_part are whole numbers",
        noStore(),
      );
    }
    if (s.variant !== "lowLatency" && part !== undefined) {
      return text(400, "Bad Request: no parts in this playlist", noStore());
    }
    if (
      msn > s.lastMsn + MSN_AHEAD_LIMIT ||
      (part !== undefined && tooFarAhead(msn, part, s.lastMsn, s.currentParts))
    ) {
      return text(
        400,
        "Bad Request: _HLS_msn or _HLS_part too far ahead",
        noStore(),
      );
    }
    const ok = await this.#block(req.client, () =>
      this.muxers.wait(
        muxer,
        () => s.has(msn, part),
        this.#waitMs(),
        req.signal,
      ));
    if (ok === "busy") return tooMany();
    if (!ok) {
      return text(503, "Service Unavailable: not there in time", noStore());
    }
    return playlist(render(), CACHE.blocking);
  }

  async #media(
    req: HlsRequest,
    muxer: HlsMuxer,
    msn: number,
    partText: string | undefined,
    ext: string,
  ): Promise<Answer> {
    const client = req.client;
    const s = muxer.segmenter;
    this.stats[partText === undefined ? "segments" : "parts"]++;
    const type = ext === "ts" ? "video/mp2t" : "video/mp4";
    if (ext !== (s.variant === "mpegts" ? "ts" : "mp4")) return notFound();
    if (partText === undefined) {
      if (msn === s.lastMsn && !s.has(msn)) {
        // The segment being written: answered when it is complete.
        const ok = await this.#block(
          client,
          () =>
            this.muxers.wait(
              muxer,
              () => s.has(msn),
              this.#waitMs(),
              req.signal,
            ),
        );
        if (ok === "busy") return tooMany();
      }
      const bytes = s.segment(msn);
      return bytes === undefined ? notFound() : media(bytes, type);
    }
    const part = Number(partText);
    let bytes = s.part(msn, part);
    if (
      bytes === undefined && msn >= s.lastMsn && msn <= s.lastMsn + 1 &&
      part <= s.currentParts + PART_AHEAD_LIMIT
    ) {
      // A blocking part request (the preload hint): answered once the part exists.
      const ok = await this.#block(client, () =>
        this.muxers.wait(
          muxer,
          () => s.part(msn, part) !== undefined || s.has(msn),
          this.#waitMs(),
          req.signal,
        ));
      if (ok === "busy") return tooMany();
      bytes = s.part(msn, part);
    }
    return bytes === undefined ? notFound() : media(bytes, type);
  }

  #init(muxer: HlsMuxer, gen: number): Answer {
    const bytes = muxer.segmenter.init(gen);
    return bytes === undefined ? notFound() : media(bytes, "video/mp4");
  }

  /** Three target durations (8216bis §6.2.5.2), at least three seconds. */
  #waitMs(): number {
    return Math.max(3000, 3 * this.#options.config.hlsSegmentDuration);
  }

  /** Runs a blocking wait within the per-client and total bounds. */
  async #block(
    client: string,
    wait: () => Promise<boolean>,
  ): Promise<boolean | "busy"> {
    const mine = this.#blocked.get(client) ?? 0;
    if (
      mine >= MAX_BLOCKED_PER_CLIENT || this.#blockedTotal >= MAX_BLOCKED_TOTAL
    ) {
      this.#options.log.debug("HLS: too many blocked requests", { client });
      return "busy";
    }
    this.#blocked.set(client, mine + 1);
    this.#blockedTotal++;
    try {
      return await wait();
    } finally {
      this.#blockedTotal--;
      const n = (this.#blocked.get(client) ?? 1) - 1;
      if (n === 0) this.#blocked.delete(client);
      else this.#blocked.set(client, n);
    }
  }

  /** Once a second. */
  tick(now: number): void {
    this.muxers.tick(now);
  }

  close(): void {
    this.muxers.close();
  }
}

/** A whole number of at most 9 digits; `null` for anything else (`undefined` stays reserved for absent). */
function wholeNumber(text: string): number | null {
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

/** A part more than {@link PART_AHEAD_LIMIT} past the newest one. */
function tooFarAhead(
  msn: number,
  part: number,
  lastMsn: number,
  currentParts: number,
): boolean {
  if (msn < lastMsn) return false;
  return msn === lastMsn
    ? part > currentParts + PART_AHEAD_LIMIT
    : part > PART_AHEAD_LIMIT;
}
