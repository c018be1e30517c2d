/**
 * The HTTP server (hono on `Deno.serve`): HTTP-FLV at `/<path>.flv`.
 *
 * A player of `http://host:8080/live/cam1.flv` gets an FLV header, then
 * onMetaData, the sequence headers and the GOP cache at once, then every
 * frame as it comes: the same FLV tag bytes for every player of the stream,
 * built once. Players that fall behind skip to the next keyframe and are
 * dropped if they stay behind, as RTMP players are. Browsers (mpegts.js,
 * flv.js) may fetch it from any origin. RTMPT (RTMP in HTTP `POST`s, see
 * {@link RtmptTunnels}) shares the port when an RTMP server runs its
 * sessions.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { type Hub, HubError } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { listenError, type StreamConn } from "../../net/tcp.ts";
import { parseAuthorization } from "../../rtsp/headers/auth.ts";
import {
  checkQueryCredentials,
  type Credentials,
  matchesCredentials,
  requiredCredentials,
} from "../../auth/credentials.ts";
import type { ServerConfig } from "../_config.ts";
import { parsePath } from "../../path.ts";
import { requestPath } from "./request_path.ts";
import { requireHost } from "./require_host.ts";
import { WriteBatcher } from "../../net/batch_writer.ts";
import { FlvPlayer } from "./flv_player.ts";
import { isVodPath, VOD_PREFIX, VodError } from "../../vod/folder.ts";
import type { Vod, VodStream } from "../../vod/vod.ts";
import { RtmptTunnels } from "./rtmpt.ts";

/** Options of {@link HttpServer}. */
export interface HttpServerOptions {
  hub: Pick<Hub, "waitForStream" | "readerLeft">;
  config: ServerConfig;
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
}

/** Counters over all HTTP-FLV players. */
export interface HttpServerStats {
  /** Players that got a stream. */
  players: number;
  readersDropped: number;
}

const TICK_MS = 1000;
const REALM = "Sluice";

/** The HTTP listener and its HTTP-FLV players. */
export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #players = new Set<FlvPlayer>();
  readonly #app: Hono<{ Bindings: { remote: Deno.NetAddr } }>;
  readonly #batcher: WriteBatcher;
  /** The RTMPT sessions, when RTMPT is on. */
  readonly rtmpt: RtmptTunnels | undefined;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  readonly stats: HttpServerStats = { players: 0, readersDropped: 0 };

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
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
    app.post("*", (c) => {
      if (rtmpt === undefined) return text(404, "Not Found");
      return rtmpt.handle(c.req.raw, requestPath(c.req.url), c.env.remote);
    });
    app.get("*", (c) => {
      const url = new URL(c.req.url);
      // The target as sent: url.pathname has dot-segments resolved already.
      if (!requestPath(c.req.url).endsWith(".flv")) {
        return text(404, "Not Found");
      }
      return this.#playFlv(c.req.raw, url);
    });
    this.#app = app;
  }

  /** Starts listening; returns the address bound (useful with port 0). */
  start(): { hostname: string; port: number } {
    const { hostname, port, log } = this.#options;
    try {
      this.#server = Deno.serve({
        hostname,
        port,
        onListen: () => {},
        onError: (e) => {
          log.error(
            `HTTP request failed: ${e instanceof Error ? e.message : e}`,
          );
          return new Response("Internal Server Error\n", { status: 500 });
        },
      }, (req, info) => this.#app.fetch(req, { remote: info.remoteAddr }));
    } catch (e) {
      throw listenError("TCP", hostname, port, e);
    }
    this.#tick = setInterval(() => {
      const now = Date.now();
      for (const p of this.#players) p.tick(now);
      this.rtmpt?.tick(now);
    }, TICK_MS);
    const addr = this.#server.addr;
    log.info("HTTP listening", { address: `${addr.hostname}:${addr.port}` });
    return { hostname: addr.hostname, port: addr.port };
  }

  /** HTTP-FLV players now. */
  get players(): number {
    return this.#players.size;
  }

  /** Ends every player and stops listening. */
  async close(): Promise<void> {
    if (this.#tick !== undefined) clearInterval(this.#tick);
    for (const p of [...this.#players]) p.end("server shutting down");
    this.rtmpt?.close();
    await this.#server?.shutdown();
  }

  async #playFlv(req: Request, url: URL): Promise<Response> {
    const { hub, config, log } = this.#options;
    const path = httpPath(requestPath(req.url).slice(0, -".flv".length));
    if (path === undefined) return text(400, "Bad Request: invalid path");
    const required = requiredCredentials(config.paths, path, "read");
    if (required !== undefined && !authorized(req, url, required)) {
      log.info("HTTP-FLV refused: credentials", { path });
      return text(401, "Unauthorized", {
        "WWW-Authenticate": `Basic realm="${REALM}"`,
      });
    }
    if (isVodPath(path) && this.#options.vod !== undefined) {
      return await this.#playVod(path, url);
    }
    let stream: Stream;
    try {
      stream = await hub.waitForStream(path, {
        timeoutMs: config.playWaitTimeout,
        signal: req.signal,
      });
    } catch (e) {
      if (!(e instanceof HubError)) throw e;
      if (req.signal.aborted) return text(499, "Client Closed Request");
      log.info("HTTP-FLV: stream not found", { path });
      return text(404, `Not Found: no stream ${path}`);
    }
    const id = this.#nextId++;
    const player = new FlvPlayer({
      stream,
      config,
      log: log.child(`flv#${id}`),
      batcher: this.#batcher,
      onClosed: () => {
        this.#players.delete(player);
        hub.readerLeft(stream);
      },
      onDropped: () => this.stats.readersDropped++,
    });
    this.#players.add(player);
    this.stats.players++;
    return new Response(player.body, {
      headers: {
        "Content-Type": "video/x-flv",
        "Cache-Control": "no-cache, no-store",
        "Access-Control-Allow-Origin": "*",
      },
    });
  }

  /** `/vod/<file>.flv[?start=<seconds>]`: the file from there, in real time. */
  async #playVod(path: string, url: URL): Promise<Response> {
    const { config, log } = this.#options;
    const start = Number(url.searchParams.get("start") ?? "0");
    if (!Number.isFinite(start) || start < 0) {
      return text(400, "Bad Request: start is seconds from the file's start");
    }
    let vod: VodStream;
    try {
      vod = await this.#options.vod!.open(path.slice(VOD_PREFIX.length));
    } catch (e) {
      if (!(e instanceof VodError)) throw e;
      log.info("HTTP-FLV VOD refused", { path, reason: e.message });
      return e.code === "not-media"
        ? text(415, `Unsupported Media Type: ${e.message}`)
        : text(404, `Not Found: ${e.message}`);
    }
    const id = this.#nextId++;
    const player = new FlvPlayer({
      stream: vod.stream,
      config,
      log: log.child(`flv#${id}`),
      batcher: this.#batcher,
      onClosed: () => {
        this.#players.delete(player);
        vod.close();
      },
      onDropped: () => this.stats.readersDropped++,
    });
    this.#players.add(player);
    this.stats.players++;
    vod.player.play(start).catch((e) => {
      log.info("VOD read failed", { path, reason: String(e) });
      player.end("file cannot be read");
    });
    return new Response(player.body, {
      headers: {
        "Content-Type": "video/x-flv",
        "Cache-Control": "no-cache, no-store",
        "Access-Control-Allow-Origin": "*",
      },
    });
  }
}

/**
 * The hub path of an HTTP request path as sent (`/live/cam1`, see
 * {@link requestPath}), or `undefined` when {@link parsePath} refuses it.
 */
export function httpPath(urlPath: string): string | undefined {
  return parsePath(urlPath);
}

/** Basic credentials in `Authorization`, or `?user=&pass=` as RTMP takes them. */
function authorized(req: Request, url: URL, required: Credentials): boolean {
  const header = req.headers.get("Authorization");
  if (header !== null) {
    try {
      const creds = parseAuthorization(header);
      if (creds.scheme === "Basic") {
        return matchesCredentials(creds.username, creds.password, required);
      }
    } catch {
      return false;
    }
  }
  return checkQueryCredentials(url.search, required);
}

function text(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}
