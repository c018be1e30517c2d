/**
 * The HTTP server (hono on Sluice's own HTTP/1.1 server,
 * {@link serveHttp1}): HTTP-FLV at `/<path>.flv`.
 *
 * A player of `http://host:8080/live/cam1.flv` gets an FLV header, then
 * onMetaData, the sequence headers and the GOP cache at once, then every
 * frame as it comes: the same FLV tag bytes for every player of the stream,
 * built once. Players that fall behind skip to the next keyframe and are
 * dropped if they stay behind, as RTMP players are. Browsers (mpegts.js,
 * flv.js) may fetch it from any origin. The players themselves are
 * {@link FlvPlayers}'. HLS, files on demand, recordings and RTMPT (RTMP in
 * HTTP `POST`s, see {@link RtmptTunnels}, when an RTMP server runs its
 * sessions) share the port.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import type { StreamConn } from "../../net/tcp.ts";
import { type Http1Server, serveHttp1 } from "../../net/http1/server.ts";
import {
  type Authenticator,
  authenticatorOf,
} from "../../auth/authenticator.ts";
import type { ServerConfig } from "../_config.ts";
import { requestPath } from "./request_path.ts";
import { requireHost } from "./require_host.ts";
import { WriteBatcher } from "../../net/batch_writer.ts";
import { FlvPlayers } from "./flv_players.ts";
import type { Vod } from "../../vod/vod.ts";
import { mountVodHls, type VodHls, vodHls } from "./vod_hls.ts";
import { RtmptTunnels } from "./rtmpt.ts";
import { mountPlayback, type PlaybackOptions } from "./playback.ts";
import type { SessionInfo, SessionSource } from "../session_info.ts";
import { HlsHandler, type HlsHandlerOptions } from "./hls.ts";
import { hlsRequest } from "./hls_request.ts";
import { directHls } from "./hls_direct.ts";
import { authorizeRequest, type HttpCredentials } from "../../auth/http.ts";
import type { RequestHead } from "../../net/http1/head.ts";
import { type Answer, answerResponse } from "../../net/http1/answer.ts";
import type { HlsConfig } from "./hls_muxers.ts";
import { text } from "./text.ts";

/** Options of {@link HttpServer}. */
export interface HttpServerOptions {
  hub:
    & Pick<Hub, "waitForStream" | "readerLeft" | "stream" | "streams">
    & Partial<Pick<Hub, "readerJoined">>;
  /** With `hls` (default on) and the HLS keys, HLS is served too. */
  config: ServerConfig & Partial<HlsConfig & { hls: boolean }>;
  log: Logger;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** The shared tick of every reader; one of its own when left out. */
  batcher?: WriteBatcher;
  /** The VOD folder: `/vod/<file>.flv` plays its files. */
  vod?: Vod;
  /** Runs an RTMP session on an RTMPT tunnel; without it RTMPT is off. */
  rtmpt?: (conn: StreamConn) => void;
  /** Who may play and play back; one built from `config` when left out. */
  auth?: Pick<Authenticator, "authorize">;
  /** Recordings served at `/playback/…`; none when left out. */
  recordings?: PlaybackOptions["recordings"];
  /**
   * Adds routes before the HTTP-FLV catch-all (the dashboard, the API):
   * what they do not match falls through to it.
   */
  // deno-lint-ignore no-explicit-any
  routes?: (app: Hono<any>) => void;
}

/** Counters over all HTTP-FLV players. */
export interface HttpServerStats {
  /** Players that got a stream. */
  players: number;
  readersDropped: number;
  /** HLS requests answered straight from their head, without hono. */
  hlsDirect: number;
  /** HTTP connections open now. */
  connections: number;
}

const TICK_MS = 1000;
/** A keep-alive connection with no request for this long is closed. */
const HTTP_IDLE_TIMEOUT_MS = 60_000;

/** The HTTP listener, its routes and its HTTP-FLV players. */
export class HttpServer implements SessionSource {
  readonly #options: HttpServerOptions;
  readonly #flv: FlvPlayers;
  readonly #app: Hono<{ Bindings: { remote: Deno.NetAddr } }>;
  readonly #batcher: WriteBatcher;
  /** The RTMPT sessions, when RTMPT is on. */
  readonly rtmpt: RtmptTunnels | undefined;
  #server: Http1Server | undefined;
  /** Listeners left by {@link HttpServer.relisten}, finishing their requests. */
  readonly #draining = new Set<Promise<void>>();
  #tick: ReturnType<typeof setInterval> | undefined;
  readonly #hls: HlsHandler | undefined;
  readonly #vodHls: VodHls | undefined;
  #hlsDirect = 0;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
    this.#flv = new FlvPlayers({
      hub: options.hub,
      config: options.config,
      log: options.log,
      batcher: this.#batcher,
      vod: options.vod,
      refusal: (req, path, ip) =>
        this.#refusal(req, "read", path, ip, "HTTP-FLV"),
    });
    const rtmpt = options.rtmpt === undefined ? undefined : new RtmptTunnels({
      run: options.rtmpt,
      log: options.log.child("rtmpt"),
      timeoutMs: options.config.readTimeout,
    });
    this.rtmpt = rtmpt;
    const app = new Hono<{ Bindings: { remote: Deno.NetAddr } }>();
    app.use(
      "*",
      requireHost({
        onRefused: (host) =>
          options.log.debug("refused: missing or invalid Host", {
            host: host?.slice(0, 64) ?? "none",
          }),
      }),
    );
    app.use("*", cors({ origin: "*", allowMethods: ["GET", "OPTIONS"] }));
    this.#hls = hlsHandler(
      options,
      (req, path, ip) => this.#refusal(req, "read", path, ip, "HLS"),
    );
    options.routes?.(app);
    app.post("*", (c) => {
      if (rtmpt === undefined) return text(404, "Not Found");
      return rtmpt.handle(c.req.raw, requestPath(c.req.url), c.env.remote);
    });
    if (options.recordings !== undefined) {
      mountPlayback(app, {
        recordings: options.recordings,
        log: options.log.child("playback"),
        authorize: (req, path, remote) =>
          this.#refusal(req, "playback", path, remote.hostname, "playback"),
      });
    }
    this.#vodHls = vodHls(
      options,
      (credentials, p, ip) => this.#refusal(credentials, "read", p, ip, "HLS"),
    );
    if (this.#vodHls !== undefined) {
      mountVodHls(app, this.#vodHls);
    }
    app.get("*", async (c) => {
      const target = requestPath(c.req.url);
      if (this.#hls !== undefined && HlsHandler.matches(target)) {
        const req = hlsRequest(c.req.raw, target, c.env.remote.hostname);
        return HlsHandler.isFile(target)
          ? answerResponse(await this.#hls.answer(req))
          : await this.#hls.page(req);
      }
      // The target as sent: url.pathname has dot-segments resolved already.
      if (!requestPath(c.req.url).endsWith(".flv")) {
        return text(404, "Not Found");
      }
      return this.#flv.play(c.req.raw, c.env.remote);
    });
    this.#app = app;
  }

  /** Starts listening; returns the address bound (useful with port 0). */
  start(): { hostname: string; port: number } {
    const { hostname, port } = this.#options;
    this.#server = this.#serve(hostname, port);
    this.#tick = setInterval(() => {
      const now = Date.now();
      this.#flv.tick(now);
      this.rtmpt?.tick(now);
      this.#hls?.tick(now);
    }, TICK_MS);
    return this.#server.addr;
  }

  /**
   * Moves the listener to another address (a hot reload): the new one is
   * bound first, so a taken port throws and the old one stays. The old one
   * stops accepting; its players go on until they end.
   */
  relisten(hostname: string, port: number): { hostname: string; port: number } {
    const next = this.#serve(hostname, port);
    const old = this.#server;
    this.#server = next;
    if (old !== undefined) this.#draining.add(old.shutdown());
    return next.addr;
  }

  #serve(hostname: string, port: number): Http1Server {
    const { log } = this.#options;
    const server = serveHttp1({
      hostname,
      port,
      handler: (req, remote) => this.#app.fetch(req, { remote }),
      fast: this.#hls === undefined && this.#vodHls === undefined
        ? undefined
        : (head, remote, signal) => this.#fastHls(head, remote, signal),
      onError: (e) =>
        log.error(`HTTP request failed: ${e instanceof Error ? e.message : e}`),
      idleTimeoutMs: HTTP_IDLE_TIMEOUT_MS,
      requestTimeoutMs: this.#options.config.readTimeout,
    });
    const addr = server.addr;
    log.info("HTTP listening", { address: `${addr.hostname}:${addr.port}` });
    return server;
  }

  /**
   * HLS playlists, parts and segments (live and of files) without hono, a
   * `Request` or a `Response`: a crowd of players asks for them thousands
   * of times a second, and those objects cost more than the answers (see
   * {@link directHls} for which requests).
   */
  #fastHls(
    head: RequestHead,
    remote: Deno.NetAddr,
    signal: AbortSignal,
  ): Promise<Answer | Response> | undefined {
    const answer = directHls(head, remote, signal, this.#hls, this.#vodHls);
    if (answer !== undefined) this.#hlsDirect++;
    return answer;
  }

  /** The HLS routes, when `hls` is on. */
  get hls(): HlsHandler | undefined {
    return this.#hls;
  }

  /** HTTP-FLV players now. */
  get players(): number {
    return this.#flv.size;
  }

  /** Counters over all HTTP-FLV players, the HLS requests answered directly and the open connections. */
  get stats(): HttpServerStats {
    return {
      ...this.#flv.stats,
      hlsDirect: this.#hlsDirect,
      connections: this.#server?.connections ?? 0,
    };
  }

  /** Ends every player and stops listening. */
  async close(): Promise<void> {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    this.#hls?.close();
    this.#flv.endAll("server shutting down");
    this.rtmpt?.close();
    await Promise.all([this.#server?.shutdown(), ...this.#draining]);
  }

  /**
   * The refusal of a request to `action` (`read` for HTTP-FLV and HLS,
   * `playback` for recordings) on `path`, or `undefined` when it may: the
   * one authenticator decides, as for every protocol.
   */
  async #refusal(
    req: Request | HttpCredentials,
    action: "read" | "playback",
    path: string,
    ip: string,
    what: string,
  ): Promise<Response | undefined> {
    const { config, log } = this.#options;
    const auth = this.#options.auth ?? authenticatorOf(config);
    const refused = await authorizeRequest(auth, req, { action, path, ip });
    if (refused !== undefined) {
      log.info(`${what} refused: credentials`, {
        path,
        status: refused.status,
      });
    }
    return refused;
  }

  /** Every HTTP-FLV player now, for the API. */
  sessionList(): SessionInfo[] {
    return this.#flv.sessionList();
  }

  /** Players gone since the last call. */
  drainClosed(): SessionInfo[] {
    return this.#flv.drainClosed();
  }

  /** Ends the player `id` (`flv-3`); false when there is none. */
  kick(id: string): boolean {
    return this.#flv.kick(id);
  }
}

/** The HLS handler when `hls` is on and its keys are set. */
function hlsHandler(
  options: HttpServerOptions,
  authorize: HlsHandlerOptions["authorize"],
): HlsHandler | undefined {
  const c = options.config;
  if (c.hls === false || c.hlsVariant === undefined) return undefined;
  return new HlsHandler({
    authorize,
    hub: options.hub,
    config: c as HttpServerOptions["config"] & HlsConfig,
    log: options.log.child("hls"),
  });
}
