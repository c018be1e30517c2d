/**
 * The HTTP server (hono on `Deno.serve`): HTTP-FLV at `/<path>.flv`.
 *
 * A player of `http://host:8080/live/cam1.flv` gets an FLV header, then
 * onMetaData, the sequence headers and the GOP cache at once, then every
 * frame as it comes: the same FLV tag bytes for every player of the stream,
 * built once. Players that fall behind skip to the next keyframe and are
 * dropped if they stay behind, as RTMP players are. Browsers (mpegts.js,
 * flv.js) may fetch it from any origin.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { concat } from "@std/bytes";
import { flvHeader } from "../../flv/file.ts";
import { type Hub, HubError } from "../../hub/hub.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { listenError } from "../../net/tcp.ts";
import { parseAuthorization } from "../../rtsp/headers/auth.ts";
import {
  checkQueryCredentials,
  type Credentials,
  matchesCredentials,
  requiredCredentials,
} from "../../auth/credentials.ts";
import type { ServerConfig } from "../_config.ts";
import { isValidPath } from "../../hub/path.ts";
import { FlvOutput, type FlvReader } from "../../egress/flv_output.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";

/** Options of {@link HttpServer}. */
export interface HttpServerOptions {
  hub: Pick<Hub, "waitForStream" | "readerLeft">;
  config: ServerConfig;
  log: Logger;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
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
  readonly #app: Hono;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  readonly stats: HttpServerStats = { players: 0, readersDropped: 0 };

  constructor(options: HttpServerOptions) {
    this.#options = options;
    const app = new Hono();
    app.use("*", cors({ origin: "*", allowMethods: ["GET", "OPTIONS"] }));
    app.get("*", (c) => {
      const url = new URL(c.req.url);
      if (!url.pathname.endsWith(".flv")) return text(404, "Not Found");
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
    await this.#server?.shutdown();
  }

  async #playFlv(req: Request, url: URL): Promise<Response> {
    const { hub, config, log } = this.#options;
    const path = httpPath(url.pathname.slice(0, -".flv".length));
    if (path === undefined) return text(400, "Bad Request: invalid path");
    const required = requiredCredentials(config.paths, path, "read");
    if (required !== undefined && !authorized(req, url, required)) {
      log.info("HTTP-FLV refused: credentials", { path });
      return text(401, "Unauthorized", {
        "WWW-Authenticate": `Basic realm="${REALM}"`,
      });
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
}

/** The hub path of an HTTP URL path (`/live/cam1`): decoded, slashes collapsed, checked. */
export function httpPath(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const path = decoded.split("/").filter((s) => s !== "").join("/");
  return isValidPath(path) ? path : undefined;
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

/** One HTTP-FLV player: a reader of the stream's FLV output, pulled by its response body. */
class FlvPlayer implements FlvReader {
  readonly queue: ReaderQueue;
  readonly body: ReadableStream<Uint8Array>;
  readonly #stream: Stream;
  readonly #output: FlvOutput;
  readonly #cfg: ServerConfig;
  readonly #log: Logger;
  readonly #onClosed: () => void;
  readonly #onDropped: () => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Resolves the pull that waits for bytes. */
  #wake: (() => void) | undefined;
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  #closed = false;
  /** When the body last asked for more (the socket took the previous bytes). */
  #lastPull = Date.now();
  readonly #lag: ReaderLag;

  constructor(options: {
    stream: Stream;
    config: ServerConfig;
    log: Logger;
    onClosed: () => void;
    onDropped: () => void;
  }) {
    this.#stream = options.stream;
    this.#cfg = options.config;
    this.#log = options.log;
    this.#onClosed = options.onClosed;
    this.#onDropped = options.onDropped;
    this.queue = new ReaderQueue({
      maxBytes: this.#cfg.writeQueueSize,
      onReady: (urgent) => this.#ready(urgent),
    });
    this.#lag = new ReaderLag(this.queue);
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#close("player left"),
    }, { highWaterMark: 0 });
    const gopCache = this.#cfg.gopCache;
    this.#output = this.#stream.output(
      "flv",
      () => new FlvOutput({ framing: "flv", gopCache }),
    );
    const known = this.#output.hasAudio || this.#output.hasVideo;
    this.queue.offer({
      bytes: flvHeader(
        known ? this.#output.hasAudio : true,
        known ? this.#output.hasVideo : true,
      ),
      kind: PACKET_KIND.CONTROL,
    });
    this.#output.addReader(this);
    this.#log.info("playing", { path: this.#stream.path });
  }

  /** The stream ended: what is queued still goes out, then the body ends. */
  onEnd(): void {
    this.#log.info("stream ended", { path: this.#stream.path });
    this.#ended = true;
    this.#wakeNow();
  }

  /** Ends the body at once (shutdown, or a reader that stayed behind). */
  end(reason: string): void {
    if (this.#closed) return;
    try {
      this.#controller?.error(new Error(reason));
    } catch {
      // already closed
    }
    this.#close(reason);
  }

  tick(now: number): void {
    if (this.#closed) return;
    this.#countDrops();
    // Bytes wait while the socket has not taken the previous ones.
    const waiting = this.#wake !== undefined;
    const stalled = waiting || this.queue.bytes === 0
      ? 0
      : now - this.#lastPull;
    const behindMs = this.#lag.behindMs(now, stalled);
    if (behindMs > this.#cfg.writeTimeout) {
      this.#stream.stats.readersDropped++;
      this.#onDropped();
      this.#log.warn("dropping reader: it stayed behind", {
        path: this.#stream.path,
        behindMs,
      });
      this.end("reader too slow");
    }
  }

  async #pull(
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    this.#lastPull = Date.now();
    for (;;) {
      if (this.#closed) return;
      const parts = this.queue.take();
      if (parts.length > 0) {
        controller.enqueue(parts.length === 1 ? parts[0]! : concat(parts));
        return;
      }
      if (this.#ended) {
        controller.close();
        this.#close("stream ended");
        return;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** New bytes: a waiting body takes them now when urgent, else with the next batch. */
  #ready(urgent: boolean): void {
    if (this.#wake === undefined) return; // the next pull takes them
    if (urgent) this.#wakeNow();
    else if (this.#batchTimer === undefined) {
      this.#batchTimer = setTimeout(
        () => this.#wakeNow(),
        this.#cfg.writeBatchInterval,
      );
    }
  }

  #wakeNow(): void {
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #countDrops(): void {
    this.#lag.countDrops(this.#stream, this.#stream.path, this.#log);
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#countDrops();
    this.#output.removeReader(this);
    this.queue.close();
    this.#wakeNow();
    this.#log.debug("closed", { reason });
    this.#onClosed();
  }
}
