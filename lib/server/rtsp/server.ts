/**
 * The RTSP server: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE,
 * TEARDOWN, GET_PARAMETER and SET_PARAMETER, RTP over UDP and TCP
 * interleaved, sessions with timeouts, Basic and Digest auth; readers and
 * publishers meet RTMP's in the hub.
 *
 * This file is the listener: the TCP port (and the RTSPS and tunnel-only
 * ports, `listeners.ts`), whose first bytes tell HTTP(S) tunnels
 * (`tunnel.ts`) from RTSP; the two UDP ports and the once-a-second tick
 * (`upkeep.ts`) that reaps sessions and drops readers that stay behind. Connections
 * (`connection.ts`) answer requests through the methods (`methods.ts`,
 * `setup.ts`, `play.ts`) against the session table (`sessions.ts`).
 *
 * @module
 */

import type { Vod } from "../../vod/vod.ts";
import { RtspAuthenticator } from "../../auth/credentials.ts";
import type { Logger } from "../../log.ts";
import { WriteBatcher } from "../../net/batch_writer.ts";
import { DatagramWriter } from "../../net/datagram_writer.ts";
import { peek, PrefixedConn } from "../../net/prefixed.ts";
import {
  closeQuietly,
  listenTcp,
  remoteOf,
  type StreamConn,
  type TcpListener,
  writeAll,
} from "../../net/tcp.ts";
import type { TlsListenAddress, TlsListener } from "../../net/tls.ts";
import { listenUdp } from "../../net/udp.ts";
import { encodeTunnelRefusal, sniffTunnel } from "../../rtsp/tunnel.ts";
import { Connection } from "./connection.ts";
import type { RtspServerConfig, ServerContext } from "./context.ts";
import { Multicast } from "./multicast.ts";
import { SessionTable } from "./sessions.ts";
import { listenRtsps, listenTunnelPorts } from "./listeners.ts";
import { Tunnels } from "./tunnel.ts";
import { parseMulticastRange } from "../../config/schema.ts";
import {
  ClosedSessions,
  type SessionInfo,
  sessionOf,
  type SessionSource,
} from "../session_info.ts";

import { emptyStats, type RtspServerStats } from "./stats.ts";
import { receiveMedia, TICK_MS, tickSessions } from "./upkeep.ts";

export type { RtspServerConfig } from "./context.ts";
export type { RtspServerStats } from "./stats.ts";

/** Options of {@link RtspServer}. */
export interface RtspServerOptions {
  /** The VOD folder: paths under `vod/` play its files. */
  vod?: Vod;
  hub: ServerContext["hub"];
  config: RtspServerConfig;
  log: Logger;
  hostname: string;
  port: number;
  rtp: { hostname: string; port: number };
  rtcp: { hostname: string; port: number };
  /** The shared tick of every reader; one of its own when left out. */
  batcher?: WriteBatcher;
  /** RTSPS: a second listener whose connections are TLS sessions (HTTPS tunnels too). */
  tls?: TlsListenAddress;
  /** Extra plain TCP listeners that accept only RTSP over HTTP tunnels. */
  tunnelAddresses?: { hostname: string; port: number }[];
  /** Pulls REGISTERed streams; without one REGISTER is answered 501. */
  registrar?: ServerContext["registrar"];
  /** Who may do what; one built from `config` when left out. */
  authenticator?: ServerContext["authenticator"];
}

/** The RTSP listener, the UDP sockets and every session. */
export class RtspServer implements SessionSource {
  readonly #o: RtspServerOptions;
  readonly #connections = new Set<Connection>();
  readonly #gone = new ClosedSessions();
  readonly #context: ServerContext;
  readonly #table: SessionTable;
  readonly #multicast: Multicast;
  readonly #stats: RtspServerStats = emptyStats();
  #listener: TcpListener | undefined;
  #tlsListener: TlsListener | undefined;
  #tunnelListeners: TcpListener[] = [];
  readonly #tunnels: Tunnels;
  /** Accepted connections whose first bytes have not come yet. */
  readonly #sniffing = new Set<StreamConn>();
  #closed = false;
  #udp: { rtp: Deno.DatagramConn; rtcp: Deno.DatagramConn } | undefined;
  #writers: { rtp: DatagramWriter; rtcp: DatagramWriter } | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  /** The UDP ports bound, shared with the methods (SETUP answers them). */
  readonly #ports: { rtp: number; rtcp: number };

  constructor(options: RtspServerOptions) {
    this.#o = options;
    this.#table = new SessionTable({
      hub: options.hub,
      log: options.log,
      onCreate: () => this.#stats.sessions++,
      onSrtpDropped: (d) => {
        this.#stats.srtpAuthFailures += d.authFailures;
        this.#stats.srtpReplays += d.replays;
      },
    });
    const ports = { rtp: 0, rtcp: 0 };
    this.#ports = ports;
    const c = options.config;
    const batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
    this.#multicast = new Multicast({
      range: parseMulticastRange(c.multicastIPRange ?? "224.1.0.0/16") ??
        { base: 0xe0010000, size: 65536 },
      rtpPort: c.multicastRTPPort ?? 8002,
      rtcpPort: c.multicastRTCPPort ?? 8003,
      ttl: c.multicastTTL ?? 16,
      hostname: options.rtp.hostname === "" ? "0.0.0.0" : options.rtp.hostname,
    }, {
      log: options.log,
      maxBytes: c.writeQueueSize,
      batcher,
    });
    this.#context = {
      hub: options.hub,
      config: options.config,
      auth: new RtspAuthenticator(),
      authenticator: options.authenticator,
      sessions: this.#table,
      batcher,
      udp: () => this.#writers!,
      serverPorts: ports,
      registrar: options.registrar,
      multicast: this.#multicast,
      vod: options.vod,
    };
    this.#tunnels = new Tunnels({
      log: options.log.child("tunnel"),
      stats: this.#stats,
      headTimeoutMs: options.config.readTimeout,
      onTunnel: (conn, secure) => this.#run(conn, secure),
    });
  }

  /** Starts listening on TCP (and TLS, when configured), the two UDP ports and the tunnel-only ports. */
  start(): {
    port: number;
    rtpPort: number;
    rtcpPort: number;
    tlsPort: number | undefined;
    tunnelPorts: number[];
  } {
    const { hostname, port, log } = this.#o;
    const rtp = listenUdp(this.#o.rtp.hostname, this.#o.rtp.port);
    const rtcp = listenUdp(this.#o.rtcp.hostname, this.#o.rtcp.port);
    this.#udp = { rtp, rtcp };
    this.#writers = {
      rtp: new DatagramWriter(rtp),
      rtcp: new DatagramWriter(rtcp),
    };
    this.#ports.rtp = (rtp.addr as Deno.NetAddr).port;
    this.#ports.rtcp = (rtcp.addr as Deno.NetAddr).port;
    receiveMedia(rtp, this.#table, false);
    receiveMedia(rtcp, this.#table, true);
    this.#listener = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTSP connection", { error: String(e) }),
    });
    try {
      this.#tunnelListeners = listenTunnelPorts(this.#o.tunnelAddresses ?? [], {
        log,
        onConnection: (conn) => this.#accept(conn, { tunnelOnly: true }),
      });
      this.#tlsListener = listenRtsps(this.#o.tls, {
        log,
        stats: this.#stats,
        onConnection: (conn) => this.#accept(conn, { secure: true }),
      });
    } catch (e) {
      this.#listener.close();
      for (const l of this.#tunnelListeners) l.close();
      throw e;
    }
    const tick = {
      table: this.#table,
      sessionTimeoutMs: this.#o.config.rtspSessionTimeout,
      stats: this.#stats,
      log,
      connections: this.#connections,
      multicast: this.#multicast,
    };
    this.#tick = setInterval(() => tickSessions(Date.now(), tick), TICK_MS);
    log.info("RTSP listening", {
      address: `${this.#listener.hostname}:${this.#listener.port}`,
      rtp: this.rtpPort,
      rtcp: this.rtcpPort,
      // sendmmsg with --allow-ffi on Linux, else one send() per datagram
      udpSend: this.#writers.rtp.mode,
    });
    return {
      port: this.#listener.port,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtcpPort,
      tlsPort: this.tlsPort,
      tunnelPorts: this.tunnelPorts,
    };
  }

  /** The RTSPS port bound, when a certificate was given. */
  get tlsPort(): number | undefined {
    return this.#tlsListener?.port;
  }

  /**
   * Moves the RTSP TCP listener to another address (a hot reload): the new
   * one is bound first, so a taken port throws and the old one stays;
   * sessions, the UDP ports and the tunnel listeners are left as they are.
   */
  relisten(hostname: string, port: number): { hostname: string; port: number } {
    const { log } = this.#o;
    const next = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTSP connection", { error: String(e) }),
    });
    this.#listener?.close();
    this.#listener = next;
    log.info("RTSP listening", { address: `${next.hostname}:${next.port}` });
    return { hostname: next.hostname, port: next.port };
  }

  /** The ports of the tunnel-only listeners, in the order configured. */
  get tunnelPorts(): number[] {
    return this.#tunnelListeners.map((l) => l.port);
  }

  /** The RTP port bound. */
  get rtpPort(): number {
    return this.#ports.rtp;
  }

  /** The RTCP port bound. */
  get rtcpPort(): number {
    return this.#ports.rtcp;
  }

  /** Counters over all RTSP connections and sessions. */
  get stats(): RtspServerStats {
    const m = this.#multicast;
    this.#stats.multicastSenders = m.stats.senders;
    this.#stats.multicastOverridden = m.stats.overridden;
    this.#stats.multicastDatagrams = m.datagrams;
    return this.#stats;
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#table.size;
  }

  /** Every open connection, for the API. */
  sessionList(): SessionInfo[] {
    return [...this.#connections].map((c) => c.info());
  }

  /** Connections closed since the last call. */
  drainClosed(): SessionInfo[] {
    return this.#gone.drain();
  }

  #forget(c: Connection): void {
    this.#connections.delete(c);
    this.#gone.add(c.info());
  }

  /** Ends the connection `id` (`rtsp-3`) and its sessions; false when there is none. */
  kick(id: string): boolean {
    const c = sessionOf(this.#connections, id);
    if (c === undefined) return false;
    for (const s of [...c.sessions]) {
      this.#table.end(s, "closed through the API");
    }
    void c.close("closed through the API");
    return true;
  }

  /** Stops listening, ends every session and connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listener?.close();
    this.#tlsListener?.close();
    for (const l of this.#tunnelListeners) l.close();
    for (const c of this.#sniffing) closeQuietly(c);
    this.#sniffing.clear();
    this.#tunnels.close();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    for (const s of this.#table.values()) {
      this.#table.end(s, "server shutting down");
    }
    await Promise.all(
      [...this.#connections].map((c) => c.close("server shutting down")),
    );
    this.#multicast.close();
    if (this.#o.batcher === undefined) this.#context.batcher.close();
    // A writer holds its own descriptor of the socket: the port stays bound until both close.
    this.#writers?.rtp.close();
    this.#writers?.rtcp.close();
    try {
      this.#udp?.rtp.close();
      this.#udp?.rtcp.close();
    } catch {
      // already closed
    }
  }

  /**
   * Serves RTSP on a connection Sluice opened itself: the link to a server
   * where `registeredPath` was REGISTERed, which reads that path (and
   * nothing else) over it. Resolves when the connection ends.
   */
  serve(conn: StreamConn, registeredPath: string): Promise<void> {
    this.#stats.connections++;
    const c = new Connection(this.#context, conn, {
      id: this.#nextId++,
      log: this.#o.log,
      stats: this.#stats,
      registeredPath,
    });
    this.#connections.add(c);
    return c.run().finally(() => this.#forget(c));
  }

  /**
   * Every accepted connection, plain or TLS (`secure`): its first bytes tell
   * an HTTP(S) tunnel (`GET `, `POST `) from RTSP, which then reads them
   * again. A tunnel-only listener refuses anything else.
   */
  #accept(
    conn: StreamConn,
    how: { secure?: boolean; tunnelOnly?: boolean } = {},
  ): void {
    const secure = how.secure ?? false;
    this.#stats.connections++;
    this.#sniffing.add(conn);
    const { log, config } = this.#o;
    peek(conn, {
      decide: sniffTunnel,
      maxBytes: 8,
      timeoutMs: config.readTimeout,
    })
      .then(async (got) => {
        this.#sniffing.delete(conn);
        if (got === null || this.#closed) return closeQuietly(conn);
        if (got.what === "http") {
          return await this.#tunnels.handle(conn, got.bytes, secure);
        }
        if (!how.tunnelOnly) {
          return this.#run(new PrefixedConn(conn, got.bytes), secure);
        }
        this.#stats.protocolErrors++;
        log.warn(`closing ${remoteOf(conn)}: not an HTTP tunnel request`);
        await writeAll(conn, encodeTunnelRefusal(400)).catch(() => {});
        closeQuietly(conn);
      })
      .catch((e) => {
        this.#sniffing.delete(conn);
        log.debug(`connection ended: ${e instanceof Error ? e.message : e}`);
        closeQuietly(conn);
      });
  }

  /** Runs RTSP on a connection: a socket or a tunnel, over TLS when `secure`. */
  #run(conn: StreamConn, secure: boolean): void {
    if (this.#closed) return closeQuietly(conn);
    const c = new Connection(this.#context, conn, {
      id: this.#nextId++,
      log: this.#o.log,
      stats: this.#stats,
      secure,
    });
    this.#connections.add(c);
    c.run().finally(() => this.#forget(c));
  }
}
