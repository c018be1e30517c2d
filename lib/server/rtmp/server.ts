/**
 * The RTMP server: accepts publishers (ffmpeg, OBS) and players (ffmpeg,
 * ffplay, VLC), ticks every session on one timer, keeps the counters, and
 * closes the sessions when it stops. A session ({@link RtmpSession}) runs
 * the handshake and the command state machine, which links it through the
 * hub.
 *
 * @module
 */

import type { Vod } from "../../vod/vod.ts";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import { WriteBatcher } from "../../net/batch_writer.ts";
import { listenTcp, type StreamConn, type TcpListener } from "../../net/tcp.ts";
import type { RtmpServerConfig } from "./context.ts";
import { RtmpSession } from "./session.ts";

export type { RtmpServerConfig } from "./context.ts";

/** Options of {@link RtmpServer}. */
export interface RtmpServerOptions {
  /** The VOD folder: paths under `vod/` play its files. */
  vod?: Vod;
  hub: Pick<Hub, "publish" | "waitForStream" | "readerLeft">;
  config: RtmpServerConfig;
  log: Logger;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** The shared tick of every reader; one of its own when left out. */
  batcher?: WriteBatcher;
}

const TICK_MS = 1000;

/** Counters over all connections. */
export interface RtmpServerStats {
  connections: number;
  protocolErrors: number;
  readersDropped: number;
}

/** The RTMP listener and its sessions. */
export class RtmpServer {
  readonly #options: RtmpServerOptions;
  readonly #sessions = new Set<RtmpSession>();
  readonly #batcher: WriteBatcher;
  #listener: TcpListener | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  readonly stats: RtmpServerStats = {
    connections: 0,
    protocolErrors: 0,
    readersDropped: 0,
  };

  constructor(options: RtmpServerOptions) {
    this.#options = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
  }

  /** Starts listening; returns the port (useful with port 0). */
  start(): { hostname: string; port: number } {
    const { hostname, port, log } = this.#options;
    this.#listener = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTMP connection", { error: String(e) }),
    });
    this.#tick = setInterval(() => {
      const now = Date.now();
      for (const s of this.#sessions) s.tick(now);
    }, TICK_MS);
    log.info("RTMP listening", {
      address: `${this.#listener.hostname}:${this.#listener.port}`,
    });
    return { hostname: this.#listener.hostname, port: this.#listener.port };
  }

  /** Open connections. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /**
   * Runs an RTMP session on any byte stream: an RTMPT tunnel or another
   * listener's connection. It is ticked and closed with the others.
   */
  runSession(conn: StreamConn): void {
    this.#accept(conn);
  }

  #accept(conn: StreamConn): void {
    const id = this.#nextId++;
    this.stats.connections++;
    const { hub, config, log } = this.#options;
    const session = new RtmpSession(id, conn, {
      hub,
      config,
      log,
      stats: this.stats,
      batcher: this.#batcher,
      onClosed: () => this.#sessions.delete(session),
      vod: this.#options.vod,
    });
    this.#sessions.add(session);
    session.run();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener?.close();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await Promise.all(
      [...this.#sessions].map((s) => s.close("server shutting down")),
    );
  }
}
