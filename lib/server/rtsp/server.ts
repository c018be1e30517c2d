/**
 * The RTSP server: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE,
 * TEARDOWN, GET_PARAMETER and SET_PARAMETER, RTP over UDP and TCP
 * interleaved, sessions with timeouts, Basic and Digest auth; readers and
 * publishers meet RTMP's in the hub.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import { type Hub, HubError } from "../../hub/hub.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { BatchWriter, WriteBatcher } from "../../net/batch_writer.ts";
import {
  closeQuietly,
  isConnectionEnd,
  listenTcp,
  remoteOf,
  type TcpListener,
} from "../../net/tcp.ts";
import { listenUdp, receiveDatagrams } from "../../net/udp.ts";
import { parseSdp } from "../../sdp/parse.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import type { Sdp } from "../../sdp/types.ts";
import { RtspError } from "../../rtsp/error.ts";
import { RtspFramer } from "../../rtsp/framer.ts";
import { parseRange } from "../../rtsp/headers/range.ts";
import { stringifyRtpInfo } from "../../rtsp/headers/rtp_info.ts";
import { parseSession, stringifySession } from "../../rtsp/headers/session.ts";
import {
  parseTransport,
  stringifyTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import {
  encodeResponse,
  RTSP_STATUS_TEXT,
  type RtspRequest,
} from "../../rtsp/message.ts";
import { resolveControl, rtspPath, sameResource } from "../../rtsp/url.ts";
import {
  describeSession,
  describeTracks,
  type SdpTrack,
  tracksFromSdp,
} from "../../format/tracks.ts";
import {
  type AuthAction,
  requiredCredentials,
  RtspAuthenticator,
} from "../../auth/credentials.ts";
import { isValidPath } from "../../hub/path.ts";
import type { ServerConfig } from "../_config.ts";
import type { Config } from "../../config/schema.ts";
import { RtpInput } from "../../ingest/rtp_input.ts";
import { RtpOutput } from "../../egress/rtp_output.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";
import {
  type PlayLink,
  type SessionOwner,
  TcpReader,
  type TrackTransport,
  UdpReader,
} from "./readers.ts";

/** What the RTSP server needs of the configuration (milliseconds and bytes). */
export type RtspServerConfig =
  & ServerConfig
  & Pick<Config, "rtspSessionTimeout">;

/** Options of {@link RtspServer}. */
export interface RtspServerOptions {
  hub: Pick<Hub, "publish" | "waitForStream" | "readerLeft" | "stream">;
  config: RtspServerConfig;
  log: Logger;
  hostname: string;
  port: number;
  rtp: { hostname: string; port: number };
  rtcp: { hostname: string; port: number };
  /** The shared tick of every reader; one of its own when left out. */
  batcher?: WriteBatcher;
}

/** Counters over all RTSP connections and sessions. */
export interface RtspServerStats {
  connections: number;
  sessions: number;
  protocolErrors: number;
  readersDropped: number;
  sessionsTimedOut: number;
}

const PUBLIC =
  "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER";
/** Sessions live this much past the timeout they announce: some clients keep alive exactly every N seconds. */
const TIMEOUT_MARGIN_MS = 5000;
/** How long DESCRIBE waits for a new publisher's codec configuration. */
const TRACKS_WAIT_MS = 3000;
const TICK_MS = 1000;
const SMALL_READ_SIZE = 2 * 1024;
const PUBLISH_READ_SIZE = 64 * 1024;
/** Most sessions one connection may hold (each SETUP without a Session makes one). */
const MAX_SESSIONS_PER_CONNECTION = 16;

/** Header fields of a reply: a record, or pairs when a name repeats (WWW-Authenticate). */
type Headers = Record<string, string> | [string, string][];

interface Reply {
  status: number;
  headers?: Headers;
  body?: string;
  /** Runs once the reply is queued: media must not go out before the PLAY answer (ffmpeg drops it). */
  after?: () => void;
}

/** A failed request: the status to answer with. */
class Refusal extends Error {
  readonly status: number;
  readonly headers: Headers;
  constructor(
    status: number,
    message: string,
    headers: Headers = {},
  ) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** An RTSP session: its tracks, its state, and what it plays or records. */
interface Session {
  id: string;
  path: string;
  conn: Connection;
  mode: "play" | "record";
  state: "ready" | "playing" | "recording";
  /** Set-up tracks by track id, with the URL the client set them up with. */
  tracks: Map<number, { transport: TrackTransport; url: string }>;
  lastSeen: number;
  play?: PlayLink;
  udpReader?: UdpReader;
  /** The slow-reader policy of a UDP reader (a TCP reader's is its connection's). */
  udpLag?: ReaderLag;
  record?: RtpInput;
  announced?: Announced;
  publisher?: { close(): void };
}

/** An ANNOUNCE remembered until SETUP. */
interface Announced {
  path: string;
  base: string;
  sdp: Sdp;
  tracks: (SdpTrack | undefined)[];
}

/** The RTSP listener, the UDP sockets and every session. */
export class RtspServer {
  readonly #o: RtspServerOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #connections = new Set<Connection>();
  /** `host:port` a UDP packet comes from → the RECORD session track or PLAY session it belongs to. */
  readonly #udpRoutes = new Map<
    string,
    { session: Session; trackId: number; rtcp: boolean }
  >();
  readonly #batcher: WriteBatcher;
  readonly auth = new RtspAuthenticator();
  readonly stats: RtspServerStats = {
    connections: 0,
    sessions: 0,
    protocolErrors: 0,
    readersDropped: 0,
    sessionsTimedOut: 0,
  };
  #listener: TcpListener | undefined;
  #udp: { rtp: Deno.DatagramConn; rtcp: Deno.DatagramConn } | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  rtpPort = 0;
  rtcpPort = 0;

  constructor(options: RtspServerOptions) {
    this.#o = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
  }

  /** Starts listening on TCP and the two UDP ports. */
  start(): { port: number; rtpPort: number; rtcpPort: number } {
    const { hostname, port, log } = this.#o;
    const rtp = listenUdp(this.#o.rtp.hostname, this.#o.rtp.port);
    const rtcp = listenUdp(this.#o.rtcp.hostname, this.#o.rtcp.port);
    this.#udp = { rtp, rtcp };
    this.rtpPort = (rtp.addr as Deno.NetAddr).port;
    this.rtcpPort = (rtcp.addr as Deno.NetAddr).port;
    this.#udpLoop(rtp, false);
    this.#udpLoop(rtcp, true);
    this.#listener = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTSP connection", { error: String(e) }),
    });
    this.#tick = setInterval(() => this.#onTick(Date.now()), TICK_MS);
    log.info("RTSP listening", {
      address: `${this.#listener.hostname}:${this.#listener.port}`,
      rtp: this.rtpPort,
      rtcp: this.rtcpPort,
    });
    return {
      port: this.#listener.port,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtcpPort,
    };
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Stops listening, ends every session and connection. */
  async close(): Promise<void> {
    this.#listener?.close();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    for (const s of [...this.#sessions.values()]) {
      this.endSession(s, "server shutting down");
    }
    await Promise.all(
      [...this.#connections].map((c) => c.close("server shutting down")),
    );
    if (this.#o.batcher === undefined) this.#batcher.close();
    try {
      this.#udp?.rtp.close();
      this.#udp?.rtcp.close();
    } catch {
      // already closed
    }
  }

  #accept(conn: Deno.TcpConn): void {
    this.stats.connections++;
    const c = new Connection(
      this,
      this.#nextId++,
      conn,
      this.#o,
      this.#batcher,
    );
    this.#connections.add(c);
    c.run().finally(() => this.#connections.delete(c));
  }

  #udpLoop(socket: Deno.DatagramConn, rtcp: boolean): Promise<void> {
    return receiveDatagrams(socket, (data, from) => {
      // Media is accepted only from the address that set the session up.
      const route = this.#udpRoutes.get(`${from.hostname}:${from.port}`);
      if (route === undefined || route.rtcp !== rtcp) return;
      const s = route.session;
      s.lastSeen = Date.now();
      if (s.record === undefined) return; // a player's receiver report: liveness only
      if (rtcp) s.record.rtcp(route.trackId, data);
      else s.record.rtp(route.trackId, data);
    });
  }

  #onTick(now: number): void {
    const limit = this.#o.config.rtspSessionTimeout + TIMEOUT_MARGIN_MS;
    for (const s of [...this.#sessions.values()]) {
      if (s.conn.closed && s.tracks.size === 0) {
        this.endSession(s, "connection closed");
        continue;
      }
      if (now - s.lastSeen > limit) {
        this.stats.sessionsTimedOut++;
        this.#o.log.info("session timed out", {
          session: s.id,
          path: s.path,
          idleMs: now - s.lastSeen,
        });
        this.endSession(s, "timeout");
        continue;
      }
      const reader = s.udpReader;
      if (reader !== undefined && s.udpLag !== undefined && s.play) {
        const v = s.udpLag.check(now, reader.stalledMs(), s.play.stream);
        if (v.drop) {
          this.stats.readersDropped++;
          this.#o.log.warn("dropping reader: it stayed behind", {
            session: s.id,
            path: s.path,
            behindMs: v.behindMs,
          });
          this.endSession(s, "reader too slow");
        }
      }
    }
    for (const c of this.#connections) c.tick(now);
  }

  // ---- sessions (used by connections) ----

  newSession(conn: Connection, path: string, mode: "play" | "record"): Session {
    const id = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const s: Session = {
      id,
      path,
      conn,
      mode,
      state: "ready",
      tracks: new Map(),
      lastSeen: Date.now(),
    };
    this.#sessions.set(id, s);
    this.stats.sessions++;
    return s;
  }

  /**
   * The session a request names. A session belongs to the connection that
   * made it: an id replayed from another connection is not found (454), so
   * a second, unauthenticated connection cannot take it over.
   */
  session(conn: Connection, header: string | undefined): Session | undefined {
    if (header === undefined) return undefined;
    let id: string;
    try {
      id = parseSession(header).id;
    } catch {
      throw new Refusal(454, "malformed Session header");
    }
    const s = this.#sessions.get(id);
    if (s === undefined || s.conn !== conn) {
      throw new Refusal(454, `no session ${id.slice(0, 32)}`);
    }
    return s;
  }

  routeUdp(
    s: Session,
    trackId: number,
    hostname: string,
    rtpPort: number,
    rtcpPort: number,
  ): void {
    this.#udpRoutes.set(`${hostname}:${rtpPort}`, {
      session: s,
      trackId,
      rtcp: false,
    });
    this.#udpRoutes.set(`${hostname}:${rtcpPort}`, {
      session: s,
      trackId,
      rtcp: true,
    });
  }

  get udp(): { rtp: Deno.DatagramConn; rtcp: Deno.DatagramConn } {
    return this.#udp!;
  }

  /** Ends a session: detaches its reader or publisher and forgets its routes. Idempotent. */
  endSession(s: Session, reason: string): void {
    if (!this.#sessions.delete(s.id)) return;
    this.#o.log.debug("session ended", { session: s.id, path: s.path, reason });
    for (const [key, route] of this.#udpRoutes) {
      if (route.session === s) this.#udpRoutes.delete(key);
    }
    this.stopPlaying(s);
    s.publisher?.close();
    s.publisher = undefined;
    s.record = undefined;
    s.tracks.clear();
    s.conn.sessionEnded(s);
  }

  stopPlaying(s: Session): void {
    const link = s.play;
    if (link === undefined) return;
    s.play = undefined;
    link.output.removeReader(link.reader);
    s.udpReader?.close();
    s.udpLag?.countDrops(link.stream);
    s.udpReader = undefined;
    s.udpLag = undefined;
    this.#o.hub.readerLeft(link.stream);
  }
}

/** One RTSP TCP connection: its requests, its interleaved data and the sessions it made. */
class Connection implements SessionOwner {
  readonly queue: ReaderQueue;
  readonly writer: BatchWriter;
  readonly #server: RtspServer;
  readonly #conn: Deno.TcpConn;
  readonly #o: RtspServerOptions;
  readonly #log: Logger;
  readonly #framer = new RtspFramer();
  readonly #lag: ReaderLag;
  readonly #batcher: WriteBatcher;
  readonly #sessions = new Set<Session>();
  readonly #abort = new AbortController();
  /** Interleaved channel → the RECORD session track it carries, or a player's RTCP. */
  readonly #channels = new Map<
    number,
    { session: Session; trackId: number; rtcp: boolean }
  >();
  #announced: Announced | undefined;
  #chain: Promise<void> = Promise.resolve();
  #lastRead = Date.now();
  #closing: Promise<void> | undefined;
  closed = false;

  constructor(
    server: RtspServer,
    id: number,
    conn: Deno.TcpConn,
    o: RtspServerOptions,
    batcher: WriteBatcher,
  ) {
    this.#server = server;
    this.#conn = conn;
    this.#o = o;
    this.#log = o.log.child(`rtsp#${id} ${remoteOf(conn)}`);
    this.queue = new ReaderQueue({
      maxBytes: o.config.writeQueueSize,
      onReady: (urgent) => this.writer.kick(urgent),
    });
    this.#lag = new ReaderLag(this.queue, {
      protocol: "rtsp",
      writeTimeoutMs: o.config.writeTimeout,
    });
    this.#batcher = batcher;
    this.writer = new BatchWriter(conn, () => this.queue.take(), {
      batcher,
      onError: (e) =>
        void this.close(`write failed: ${e instanceof Error ? e.message : e}`),
    });
  }

  get remoteHostname(): string {
    return (this.#conn.remoteAddr as Deno.NetAddr).hostname;
  }

  async run(): Promise<void> {
    try {
      while (!this.closed) {
        const recording = [...this.#sessions].some((s) => s.mode === "record");
        const buf = new Uint8Array(
          recording ? PUBLISH_READ_SIZE : SMALL_READ_SIZE,
        );
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#lastRead = Date.now();
        this.#framer.push(buf.subarray(0, n), {
          enqueue: (m) => {
            if (m.kind === "request") this.#enqueueRequest(m);
            else if (m.kind === "interleaved") {
              this.#interleaved(m.channel, m.payload);
            }
          },
        });
      }
    } catch (e) {
      if (e instanceof RtspError) {
        this.#server.stats.protocolErrors++;
        this.#log.warn(`closing: ${e.message}`, { status: e.status });
        if (e.status !== undefined) this.#respond(e.status, "0", {}, undefined);
      } else if (e instanceof ProtocolError) {
        this.#server.stats.protocolErrors++;
        this.#log.warn(`closing: ${e.message}`);
      } else if (isConnectionEnd(e) || this.closed) {
        this.#log.debug(
          `connection ended: ${e instanceof Error ? e.message : e}`,
        );
      } else {
        this.#log.error(
          `closing after an unexpected error: ${
            e instanceof Error ? e.message : e
          }`,
        );
      }
    }
    await this.close("connection ended");
  }

  tick(now: number): void {
    if (this.closed) return;
    const playingTcp = [...this.#sessions].find((s) =>
      s.play !== undefined && s.udpReader === undefined
    );
    if (playingTcp !== undefined) {
      const v = this.#lag.check(
        now,
        this.writer.stalledMs(),
        playingTcp.play!.stream,
      );
      if (v.drop) {
        this.#server.stats.readersDropped++;
        this.#log.warn("dropping reader: it stayed behind", {
          path: playingTcp.path,
          behindMs: v.behindMs,
        });
        void this.close("reader too slow");
      } else if (v.firstSkip) {
        this.#log.info("reader fell behind: skipping to the next keyframe", {
          path: playingTcp.path,
        });
      }
      return;
    }
    // A connection with sessions lives as long as they do; an idle one without goes.
    if (
      this.#sessions.size === 0 &&
      now - this.#lastRead > this.#o.config.readTimeout
    ) {
      void this.close("read timeout");
    }
  }

  /** Requests are answered in order, one at a time (DESCRIBE may wait for a publisher). */
  #enqueueRequest(req: RtspRequest): void {
    this.#chain = this.#chain.then(() => this.#request(req)).catch((e) => {
      this.#log.error(`request failed: ${e instanceof Error ? e.message : e}`);
      void this.close("internal error");
    });
  }

  async #request(req: RtspRequest): Promise<void> {
    if (this.closed) return;
    const header = req.headers.get("CSeq");
    const cseq = header?.trim() ?? "0";
    let session: Session | undefined;
    try {
      // Every request carries a CSeq (RFC 2326 §12.17): without one, 400.
      if (header === undefined || !/^\d{1,10}$/.test(cseq)) {
        throw new Refusal(400, "missing or malformed CSeq");
      }
      // Repeated with different values: 400 before anything else (CVE-2019-7732).
      req.headers.getOne("Authorization");
      session = this.#server.session(this, req.headers.getOne("Session"));
      if (session !== undefined) session.lastSeen = Date.now();
      const reply = await this.#dispatch(req, session);
      this.#log.debug(`${req.method} ${req.url}`, { status: reply.status });
      this.#respond(reply.status, cseq, reply.headers ?? {}, reply.body);
      reply.after?.();
    } catch (e) {
      if (e instanceof Refusal) {
        this.#log.info(`${req.method} refused: ${e.message}`, {
          status: e.status,
          url: req.url.slice(0, 200),
        });
        this.#respond(e.status, cseq, e.headers, undefined);
      } else if (e instanceof RtspError) {
        this.#server.stats.protocolErrors++;
        this.#log.info(`${req.method} refused: ${e.message}`, {
          status: e.status ?? 400,
        });
        this.#respond(e.status ?? 400, cseq, {}, undefined);
      } else if (e instanceof ProtocolError) {
        this.#server.stats.protocolErrors++;
        this.#log.info(`${req.method} refused: ${e.message}`);
        this.#respond(400, cseq, {}, undefined);
      } else {
        throw e;
      }
    }
  }

  #respond(
    status: number,
    cseq: string,
    headers: Headers,
    body: string | undefined,
  ): void {
    const bytes = encodeResponse({
      status,
      reason: RTSP_STATUS_TEXT[status] ?? "Error",
      headers: [
        ["CSeq", cseq],
        ["Server", "Sluice"],
        ...(Array.isArray(headers) ? headers : Object.entries(headers)),
      ],
      body,
    });
    this.queue.offer({ bytes, kind: PACKET_KIND.CONTROL });
  }

  #dispatch(
    req: RtspRequest,
    session: Session | undefined,
  ): Promise<Reply> | Reply {
    switch (req.method) {
      case "OPTIONS":
        return {
          status: 200,
          headers: { Public: PUBLIC, ...this.#sessionHeader(session) },
        };
      case "DESCRIBE":
        return this.#describe(req);
      case "ANNOUNCE":
        return this.#announce(req);
      case "SETUP":
        return this.#setup(req, session);
      case "PLAY":
        return this.#play(req, this.#need(session));
      case "RECORD":
        return this.#record(req, this.#need(session));
      case "PAUSE":
        return this.#pause(this.#need(session));
      case "TEARDOWN":
        return this.#teardown(req, this.#need(session));
      case "GET_PARAMETER":
        return { status: 200, headers: this.#sessionHeader(session) };
      case "SET_PARAMETER":
        if (req.body.length > 0) {
          throw new Refusal(451, "no parameter can be set");
        }
        return { status: 200, headers: this.#sessionHeader(session) };
      default:
        throw new Refusal(
          501,
          `method ${req.method.slice(0, 32)} is not implemented`,
          { Public: PUBLIC },
        );
    }
  }

  #need(session: Session | undefined): Session {
    if (session === undefined) {
      throw new Refusal(454, "the request needs a Session");
    }
    return session;
  }

  #sessionHeader(s: Session | undefined): Record<string, string> {
    if (s === undefined) return {};
    return {
      Session: stringifySession({
        id: s.id,
        timeout: Math.round(this.#o.config.rtspSessionTimeout / 1000),
      }),
    };
  }

  /** 401 with challenges unless the request carries the credentials the path needs. */
  #authorize(req: RtspRequest, path: string, action: AuthAction): void {
    const required = requiredCredentials(this.#o.config.paths, path, action);
    if (required === undefined) return;
    const result = this.#server.auth.check(req, required);
    if (result.ok) return;
    this.#log.info("authentication failed", {
      path,
      action,
      reason: result.reason,
    });
    throw new Refusal(
      401,
      result.reason,
      result.challenges.map((c): [string, string] => ["WWW-Authenticate", c]),
    );
  }

  #pathOf(url: string): string {
    const path = rtspPath(url);
    if (path === undefined || !isValidPath(path)) {
      throw new Refusal(400, `cannot read a path from the URL`);
    }
    return path;
  }

  async #describe(req: RtspRequest): Promise<Reply> {
    const path = this.#pathOf(req.url);
    this.#authorize(req, path, "read");
    const stream = await this.#waitStream(path);
    const formats = await this.#waitFormats(stream);
    if (formats.length === 0) {
      throw new Refusal(415, `no track of ${path} can be sent over RTP`);
    }
    const base = req.url.endsWith("/") ? req.url : `${req.url}/`;
    const sdp = describeSession(formats);
    return {
      status: 200,
      headers: { "Content-Base": base, "Content-Type": "application/sdp" },
      body: stringifySdp(sdp),
    };
  }

  async #waitStream(path: string): Promise<Stream> {
    try {
      return await this.#o.hub.waitForStream(path, {
        timeoutMs: this.#o.config.playWaitTimeout,
        signal: this.#abort.signal,
      });
    } catch (e) {
      if (e instanceof HubError) throw new Refusal(404, `no stream ${path}`);
      if (this.#abort.signal.aborted) {
        throw new Refusal(503, "the connection is closing");
      }
      throw e;
    }
  }

  /** The stream's RTP formats once its tracks carry their codec configuration (or after a short wait). */
  async #waitFormats(stream: Stream) {
    const end = Date.now() + TRACKS_WAIT_MS;
    for (;;) {
      const formats = describeTracks(stream.tracks);
      const ready = stream.tracks.length > 0 &&
        stream.tracks.every((t) =>
          t.kind === "audio" || t.parameterSets !== undefined
        );
      if ((ready && formats.length > 0) || Date.now() > end || this.closed) {
        return formats;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #announce(req: RtspRequest): Reply {
    const path = this.#pathOf(req.url);
    this.#authorize(req, path, "publish");
    let sdp: Sdp;
    try {
      sdp = parseSdp(req.body);
    } catch (e) {
      throw new Refusal(
        400,
        `cannot parse the SDP: ${e instanceof Error ? e.message : e}`,
      );
    }
    const tracks = tracksFromSdp(sdp.media);
    if (!tracks.some((t) => t !== undefined)) {
      throw new Refusal(415, "no track Sluice can read");
    }
    const base = req.url.endsWith("/") ? req.url : `${req.url}/`;
    this.#announced = { path, base, sdp, tracks };
    this.#log.info("announced", {
      path,
      tracks: tracks.map((t) => t?.track.codec ?? "-").join(","),
    });
    return { status: 200 };
  }

  #setup(req: RtspRequest, session: Session | undefined): Reply {
    let transports: Transport[];
    const header = req.headers.getOne("Transport");
    if (header === undefined) throw new Refusal(461, "no Transport header");
    try {
      transports = parseTransport(header);
    } catch (e) {
      if (e instanceof RtspError) throw new Refusal(e.status ?? 461, e.message);
      throw e;
    }
    const wanted = transports.find((t) => t.delivery !== "multicast");
    if (wanted === undefined) {
      throw new Refusal(461, "only unicast transports are served");
    }
    const record = wanted.mode === "record" || session?.mode === "record" ||
      (this.#announced !== undefined &&
        this.#matchAnnounced(req.url) !== undefined && wanted.mode !== "play");
    if (session !== undefined && session.state !== "ready") {
      throw new Refusal(455, `SETUP while ${session.state}`);
    }
    let path: string;
    let trackId: number;
    if (record) {
      const match = this.#matchAnnounced(req.url);
      if (match === undefined) {
        throw new Refusal(404, "SETUP of a track that was not announced");
      }
      path = match.path;
      trackId = match.trackId;
      if (session !== undefined && session.mode !== "record") {
        throw new Refusal(455, "a play session cannot record");
      }
    } else {
      path = this.#pathOf(req.url);
      const control = /(?:^|\/)trackID=(\d+)$/.exec(path);
      if (control !== null) path = path.slice(0, control.index);
      trackId = control === null ? -1 : Number(control[1]);
      this.#authorize(req, path, "read");
      if (
        session !== undefined &&
        (session.mode !== "play" || session.path !== path)
      ) {
        throw new Refusal(455, "SETUP of another path in this session");
      }
    }
    if (session !== undefined && session.tracks.has(trackId)) {
      throw new Refusal(455, `track ${trackId} is already set up`);
    }
    if (
      session === undefined &&
      this.#sessions.size >= MAX_SESSIONS_PER_CONNECTION
    ) {
      throw new Refusal(453, "too many sessions on this connection");
    }
    const transport = this.#transport(wanted);
    const s = session ??
      this.#server.newSession(this, path, record ? "record" : "play");
    if (session === undefined) {
      this.#sessions.add(s);
      if (record) s.announced = this.#announced;
    }
    s.tracks.set(trackId, { transport, url: req.url });
    if (transport.kind === "tcp") {
      if (record) {
        this.#channels.set(transport.rtpChannel, {
          session: s,
          trackId,
          rtcp: false,
        });
        this.#channels.set(transport.rtcpChannel, {
          session: s,
          trackId,
          rtcp: true,
        });
      } else {
        this.#channels.set(transport.rtcpChannel, {
          session: s,
          trackId,
          rtcp: true,
        });
      }
    } else {
      this.#server.routeUdp(
        s,
        trackId,
        transport.hostname,
        transport.rtpPort,
        transport.rtcpPort,
      );
    }
    return {
      status: 200,
      headers: {
        Transport: stringifyTransport(transport.reply),
        ...this.#sessionHeader(s),
      },
    };
  }

  /** The transport answered: the client's own spec, completed (ffmpeg refuses a reply that differs). */
  #transport(t: Transport): TrackTransport {
    if (t.lowerTransport === "TCP") {
      let rtp = t.interleaved?.rtp;
      if (rtp === undefined || rtp > 254) {
        rtp = 0;
        while (this.#channels.has(rtp) || this.#channels.has(rtp + 1)) rtp += 2;
      }
      const rtcp = t.interleaved?.rtcp ?? rtp + 1;
      if (this.#channels.has(rtp) || this.#channels.has(rtcp)) {
        throw new Refusal(461, `interleaved channel ${rtp} is taken`);
      }
      return {
        kind: "tcp",
        rtpChannel: rtp,
        rtcpChannel: rtcp,
        reply: { ...t, delivery: "unicast", interleaved: { rtp, rtcp } },
      };
    }
    const ports = t.clientPort;
    if (ports === undefined) {
      throw new Refusal(461, "UDP transport without client_port");
    }
    // RTP on an even port, RTCP on a higher one (RFC 3550 §11): 0-1, a
    // reversed range or an odd RTP port cannot be a client's real ports.
    if (
      ports.rtp === 0 || ports.rtp % 2 !== 0 ||
      (ports.rtcp !== undefined && ports.rtcp <= ports.rtp)
    ) {
      throw new Refusal(
        400,
        `client_port ${ports.rtp}-${
          ports.rtcp ?? ""
        } is not an even RTP port and the RTCP port above it`,
      );
    }
    return {
      kind: "udp",
      // Media goes only to the address that set the session up, never one from a header.
      hostname: this.remoteHostname,
      rtpPort: ports.rtp,
      rtcpPort: ports.rtcp ?? ports.rtp + 1,
      reply: {
        ...t,
        delivery: "unicast",
        destination: undefined,
        serverPort: { rtp: this.#server.rtpPort, rtcp: this.#server.rtcpPort },
      },
    };
  }

  /** The announced track whose control URL `url` names. */
  #matchAnnounced(url: string): { path: string; trackId: number } | undefined {
    const a = this.#announced;
    if (a === undefined) return undefined;
    for (const [i, m] of a.sdp.media.entries()) {
      const control = m.control ?? "";
      const resolved = control === "" || control === "*"
        ? a.base
        : resolveControl(a.base, control);
      if (resolved === url || sameResource(resolved, url)) {
        return { path: a.path, trackId: i };
      }
    }
    return undefined;
  }

  #play(req: RtspRequest, s: Session): Reply {
    if (s.mode !== "play") {
      throw new Refusal(455, "PLAY of a recording session");
    }
    const range = req.headers.getOne("Range");
    if (range !== undefined) {
      try {
        parseRange(range); // clock= and smpte are refused here (457), never read as times
      } catch (e) {
        if (e instanceof RtspError) {
          throw new Refusal(e.status ?? 457, e.message);
        }
        throw e;
      }
    }
    if (s.state === "playing") return this.#playReply(s);
    if (s.tracks.size === 0) throw new Refusal(455, "PLAY before SETUP");
    const stream = this.#o.hub.stream(s.path);
    if (stream === undefined) throw new Refusal(404, `no stream ${s.path}`);
    const output = stream.output<RtpOutput>(
      "rtsp",
      (cached) => new RtpOutput(cached),
    );
    const ids = new Set<number>();
    for (const id of s.tracks.keys()) {
      if (id === -1) { for (const f of output.formats) ids.add(f.track.id); }
      else ids.add(id);
    }
    const onEnd = () => {
      this.#log.info("stream ended", { path: s.path });
      const tcp = s.udpReader === undefined;
      this.#server.endSession(s, "stream ended");
      // Over TCP the connection ends too, after the BYEs: a player (or a pulling
      // relay) learns at once instead of waiting out its own timeout.
      if (tcp && this.#sessions.size === 0) void this.close("stream ended");
    };
    const first = s.tracks.values().next().value!;
    let reader;
    if (first.transport.kind === "tcp") {
      const channels = new Map<number, { rtp: number; rtcp: number }>();
      for (const [id, t] of s.tracks) {
        if (t.transport.kind !== "tcp") continue;
        channels.set(id === -1 ? [...ids][0]! : id, {
          rtp: t.transport.rtpChannel,
          rtcp: t.transport.rtcpChannel,
        });
      }
      reader = new TcpReader(this, channels, onEnd);
    } else {
      const ports = new Map<
        number,
        { hostname: string; rtpPort: number; rtcpPort: number }
      >();
      for (const [id, t] of s.tracks) {
        if (t.transport.kind !== "udp") continue;
        ports.set(id === -1 ? [...ids][0]! : id, t.transport);
      }
      reader = new UdpReader(this.#server.udp, ports, {
        maxBytes: this.#o.config.writeQueueSize,
        onEnd,
        batcher: this.#batcher,
      });
      s.udpReader = reader;
      s.udpLag = new ReaderLag(reader.queues, {
        protocol: "rtsp",
        writeTimeoutMs: this.#o.config.writeTimeout,
      });
    }
    const link: PlayLink = {
      stream,
      output,
      reader,
      starts: output.rtpStarts(ids),
    };
    s.play = link;
    s.state = "playing";
    this.#log.info("playing", {
      path: s.path,
      session: s.id,
      transport: first.transport.kind,
    });
    output.addReader(reader, ids);
    const reply = this.#playReply(s);
    reply.after = () => {
      if (s.play !== link) return; // torn down in between
      reader.release();
      this.writer.kick(true);
    };
    return reply;
  }

  #playReply(s: Session): Reply {
    const starts = s.play?.starts ?? [];
    const info = starts.map((st) => {
      const t = s.tracks.get(st.trackId) ?? s.tracks.get(-1);
      return { url: t?.url ?? "", seq: st.seq, rtptime: st.rtptime >>> 0 };
    });
    return {
      status: 200,
      headers: {
        Range: "npt=0.000-",
        ...(info.length > 0 ? { "RTP-Info": stringifyRtpInfo(info) } : {}),
        ...this.#sessionHeader(s),
      },
    };
  }

  #record(_req: RtspRequest, s: Session): Reply {
    if (s.mode !== "record") throw new Refusal(455, "RECORD of a play session");
    if (s.state === "recording") {
      return { status: 200, headers: this.#sessionHeader(s) };
    }
    const a = s.announced;
    if (a === undefined || s.tracks.size === 0) {
      throw new Refusal(455, "RECORD before ANNOUNCE and SETUP");
    }
    const override = this.#o.config.paths?.[s.path]?.overridePublisher ??
      this.#o.config.overridePublisher;
    let publisher;
    try {
      publisher = this.#o.hub.publish(s.path, {
        overridePublisher: override,
        // ANNOUNCE was authorized on this connection: a path with publish
        // credentials only let it this far with them
        authenticated:
          requiredCredentials(this.#o.config.paths, s.path, "publish") !==
            undefined,
        onTakenOver: () => {
          this.#log.info("another publisher took the path over", {
            path: s.path,
          });
          s.publisher = undefined;
          this.#server.endSession(s, "taken over");
          void this.close("taken over");
        },
      });
    } catch (e) {
      if (e instanceof HubError) {
        // 403 (RFC 2326 §7.1.1, meaning as in RFC 2068 §10.4.4): the
        // request is well formed, the path is someone else's, and
        // credentials would not help (a newcomer that gave a path's publish
        // credentials takes over), where 400 would blame the request.
        throw new Refusal(403, e.message);
      }
      throw e;
    }
    const tracks = new Map<number, { sdp: SdpTrack; udp: boolean }>();
    for (const [id, t] of s.tracks) {
      const sdp = a.tracks[id];
      if (sdp !== undefined) {
        tracks.set(id, { sdp, udp: t.transport.kind === "udp" });
      }
    }
    s.publisher = publisher;
    s.record = new RtpInput(publisher, tracks);
    s.state = "recording";
    this.#log.info("recording", { path: s.path, session: s.id });
    return { status: 200, headers: this.#sessionHeader(s) };
  }

  /**
   * TEARDOWN of the aggregate URL ends the session; of one track's URL, only
   * that track (RFC 2326 §10.7: GStreamer tears tracks down one by one).
   */
  #teardown(req: RtspRequest, s: Session): Reply {
    if (s.tracks.size > 1) {
      for (const [id, t] of s.tracks) {
        if (!sameResource(t.url, req.url)) continue;
        s.tracks.delete(id);
        s.play?.reader.removeTrack(id);
        this.#forgetChannels(s, id);
        return { status: 200, headers: this.#sessionHeader(s) };
      }
    }
    this.#server.endSession(s, "teardown");
    return { status: 200 };
  }

  /** Forgets the interleaved channels of a track torn down alone. */
  #forgetChannels(s: Session, trackId: number): void {
    for (const [ch, route] of this.#channels) {
      if (route.session === s && route.trackId === trackId) {
        this.#channels.delete(ch);
      }
    }
  }

  /** PAUSE stops the flow; a later PLAY starts again from the GOP cache (a live stream has no "where it was"). */
  #pause(s: Session): Reply {
    if (s.state === "recording") {
      throw new Refusal(455, "PAUSE while recording");
    }
    if (s.state === "playing") this.#server.stopPlaying(s);
    s.state = "ready";
    return { status: 200, headers: this.#sessionHeader(s) };
  }

  #interleaved(channel: number, payload: Uint8Array): void {
    const route = this.#channels.get(channel);
    if (route === undefined) return;
    const s = route.session;
    s.lastSeen = Date.now();
    if (s.record === undefined) return; // a player's RTCP: liveness only
    if (route.rtcp) s.record.rtcp(route.trackId, payload);
    else s.record.rtp(route.trackId, payload.slice());
  }

  /** Called by the server when one of this connection's sessions ends. */
  sessionEnded(s: Session): void {
    this.#sessions.delete(s);
    for (const [ch, route] of this.#channels) {
      if (route.session === s) this.#channels.delete(ch);
    }
  }

  close(reason: string): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      this.#log.debug("closing", { reason });
      this.#abort.abort(new Error(reason));
      // Sessions over TCP die with their connection; UDP ones live on until they time out.
      for (const s of [...this.#sessions]) {
        const tcp = [...s.tracks.values()].some((t) =>
          t.transport.kind === "tcp"
        ) || s.tracks.size === 0;
        if (tcp || s.mode === "record") this.#server.endSession(s, reason);
      }
      await Promise.race([
        this.writer.drained(),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
      this.closed = true;
      this.queue.close();
      closeQuietly(this.#conn);
    })();
    return this.#closing;
  }
}
