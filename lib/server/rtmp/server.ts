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
import type { Authenticator } from "../../auth/authenticator.ts";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import { WriteBatcher } from "../../net/batch_writer.ts";
import { listenTcp, type StreamConn, type TcpListener } from "../../net/tcp.ts";
import {
  listenTls,
  type TlsListenAddress,
  type TlsListener,
} from "../../net/tls.ts";
import type { RtmpServerConfig } from "./context.ts";
import { RtmpSession } from "./session.ts";
import {
  ClosedSessions,
  type SessionInfo,
  sessionOf,
  type SessionSource,
} from "../session_info.ts";

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
  /** Who may publish and play; one built from `config` when left out. */
  auth?: Pick<Authenticator, "authorize">;
  /** RTMPS: a second listener whose connections are TLS sessions. */
  tls?: TlsListenAddress;
}

const TICK_MS = 1000;

/** Counters over all connections. */
export interface RtmpServerStats {
  connections: number;
  protocolErrors: number;
  readersDropped: number;
  /** TLS handshakes that failed or timed out on the RTMPS port. */
  tlsHandshakeFailures: number;
}

/** The RTMP listener and its sessions. */
export class RtmpServer implements SessionSource {
  readonly #options: RtmpServerOptions;
  readonly #sessions = new Set<RtmpSession>();
  readonly #closed = new ClosedSessions();
  readonly #batcher: WriteBatcher;
  #listener: TcpListener | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  readonly stats: RtmpServerStats = {
    connections: 0,
    protocolErrors: 0,
    readersDropped: 0,
    tlsHandshakeFailures: 0,
  };
  #tlsListener: TlsListener | undefined;

  constructor(options: RtmpServerOptions) {
    this.#options = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
  }

  /** Starts listening (and on TLS, when configured); returns the ports (useful with port 0). */
  start(): { hostname: string; port: number; tlsPort: number | undefined } {
    const { hostname, port, log } = this.#options;
    this.#listener = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTMP connection", { error: String(e) }),
    });
    try {
      this.#listenTls();
    } catch (e) {
      this.#listener.close();
      throw e;
    }
    this.#tick = setInterval(() => {
      const now = Date.now();
      for (const s of this.#sessions) s.tick(now);
    }, TICK_MS);
    log.info("RTMP listening", {
      address: `${this.#listener.hostname}:${this.#listener.port}`,
    });
    return {
      hostname: this.#listener.hostname,
      port: this.#listener.port,
      tlsPort: this.tlsPort,
    };
  }

  /** The RTMPS port bound, when a certificate was given. */
  get tlsPort(): number | undefined {
    return this.#tlsListener?.port;
  }

  /** RTMPS: TLS sessions run the same handshake and commands as plain connections. */
  #listenTls(): void {
    const tls = this.#options.tls;
    if (tls === undefined) return;
    const { log } = this.#options;
    this.#tlsListener = listenTls({
      ...tls,
      onConnection: (conn) => this.#accept(conn),
      onHandshakeError: (e, remote) => {
        this.stats.tlsHandshakeFailures++;
        log.info("RTMPS connection closed", {
          remote: `${remote.hostname}:${remote.port}`,
          reason: e.message,
        });
      },
      onError: (e) =>
        log.warn("Cannot accept RTMPS connection", { error: String(e) }),
    });
    log.info("RTMPS listening", {
      address: `${this.#tlsListener.hostname}:${this.#tlsListener.port}`,
      // TCP_NODELAY and stalled-handshake shutdown need FFI (see net/tls.ts)
      noDelay: this.#tlsListener.noDelay,
    });
  }

  /**
   * Moves the listener to another address (a hot reload): the new one is
   * bound first, so a taken port throws and the old one stays; sessions of
   * the old listener go on.
   */
  relisten(hostname: string, port: number): { hostname: string; port: number } {
    const { log } = this.#options;
    const next = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTMP connection", { error: String(e) }),
    });
    this.#listener?.close();
    this.#listener = next;
    log.info("RTMP listening", { address: `${next.hostname}:${next.port}` });
    return { hostname: next.hostname, port: next.port };
  }

  /** Open connections. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Every open connection, for the API. */
  sessionList(): SessionInfo[] {
    return [...this.#sessions].map((s) => s.info());
  }

  /** Connections closed since the last call. */
  drainClosed(): SessionInfo[] {
    return this.#closed.drain();
  }

  /** Closes the connection `id` (`rtmp-3`); false when there is none. */
  kick(id: string): boolean {
    const session = sessionOf(this.#sessions, id);
    if (session === undefined) return false;
    void session.close("closed through the API", { flush: false });
    return true;
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
    const { hub, config, log, auth } = this.#options;
    const session = new RtmpSession(id, conn, {
      hub,
      auth,
      config,
      log,
      stats: this.stats,
      batcher: this.#batcher,
      onClosed: () => {
        this.#sessions.delete(session);
        this.#closed.add(session.info());
      },
      vod: this.#options.vod,
    });
    this.#sessions.add(session);
    session.run();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener?.close();
    this.#tlsListener?.close();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await Promise.all(
      [...this.#sessions].map((s) => s.close("server shutting down")),
    );
  }
}
