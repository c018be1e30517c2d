/**
 * One RTSP TCP connection: its read loop, its requests answered in order,
 * interleaved data routed to the sessions it made, and the one place where
 * any error becomes the RTSP answer (and, for a broken protocol, the end of
 * this connection alone).
 *
 * @module
 */

import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Logger } from "../../log.ts";
import { BatchWriter } from "../../net/batch_writer.ts";
import { readLoop } from "../../net/read_loop.ts";
import {
  closeQuietly,
  isConnectionEnd,
  remoteOf,
  type StreamConn,
} from "../../net/tcp.ts";
import { RtspFramer } from "../../rtsp/framer.ts";
import {
  encodeResponse,
  RTSP_STATUS_TEXT,
  type RtspFramed,
  type RtspRequest,
} from "../../rtsp/message.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { dispatch } from "./methods.ts";
import { answerOf, Refusal, type ReplyHeaders } from "./reply.ts";
import type { Announced, Session, UdpRoute } from "./sessions.ts";
import type { SessionInfo } from "../session_info.ts";

/** Counters the connection adds to. */
export interface ConnectionStats {
  protocolErrors: number;
  readersDropped: number;
}

/** One RTSP TCP connection: its requests, its interleaved data and the sessions it made. */
export class Connection implements ConnectionContext {
  readonly queue: ReaderQueue;
  readonly writer: BatchWriter;
  readonly log: Logger;
  readonly sessions = new Set<Session>();
  readonly channels = new Map<number, UdpRoute>();
  announced: Announced | undefined;
  closed = false;
  readonly secure: boolean;
  readonly registeredPath: string | undefined;
  readonly #server: ServerContext;
  readonly #stats: ConnectionStats;
  readonly #conn: StreamConn;
  readonly #framer = new RtspFramer();
  readonly #lag: ReaderLag;
  readonly #abort = new AbortController();
  #chain: Promise<void> = Promise.resolve();
  #lastRead = Date.now();
  readonly #id: number;
  readonly #since = Date.now();
  #bytesIn = 0;
  #closing: Promise<void> | undefined;
  /** REGISTERs read and not yet answered: reading waits for them (one may take the socket). */
  #registers = 0;
  #readPaused = false;
  #wake: (() => void) | undefined;
  #handing: Promise<StreamConn> | undefined;

  constructor(
    server: ServerContext,
    conn: StreamConn,
    options: {
      id: number;
      log: Logger;
      stats: ConnectionStats;
      /** Whether the connection is a TLS session (RTSPS, or an HTTPS tunnel). */
      secure?: boolean;
      /** Set on a link Sluice opened to REGISTER this path at another server. */
      registeredPath?: string;
    },
  ) {
    this.#server = server;
    this.secure = options.secure ?? false;
    this.#id = options.id;
    this.registeredPath = options.registeredPath;
    this.#conn = conn;
    this.#stats = options.stats;
    this.log = options.log.child(
      `${this.secure ? "rtsps" : "rtsp"}#${options.id} ${remoteOf(conn)}`,
    );
    const { config } = server;
    this.queue = new ReaderQueue({
      maxBytes: config.writeQueueSize,
      onReady: (urgent) => this.writer.kick(urgent),
    });
    this.#lag = new ReaderLag(this.queue, {
      protocol: "rtsp",
      writeTimeoutMs: config.writeTimeout,
    });
    this.writer = new BatchWriter(conn, () => this.queue.drain(), {
      batcher: server.batcher,
      onError: (e) =>
        void this.close(`write failed: ${e instanceof Error ? e.message : e}`),
    });
  }

  get remoteHostname(): string {
    return (this.#conn.remoteAddr as Deno.NetAddr).hostname;
  }

  /** What the API shows of this connection: the path and mode of its first session. */
  info(): SessionInfo {
    const s = this.sessions.values().next().value;
    return {
      id: `rtsp-${this.#id}`,
      protocol: "rtsp",
      remoteAddress: remoteOf(this.#conn),
      path: s?.path ?? this.announced?.path,
      role: s === undefined
        ? "none"
        : s.mode === "record"
        ? "publisher"
        : "reader",
      state: s?.state ?? "connected",
      since: this.#since,
      bytesIn: this.#bytesIn,
      bytesOut: this.writer.bytesOut,
      packetsOut: this.queue.mediaPackets,
      firstFrameMs: this.queue.firstMediaMs === undefined
        ? undefined
        : this.queue.firstMediaMs - this.#since,
    };
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Reads until the peer goes or the connection closes. */
  async run(): Promise<void> {
    try {
      const sink = {
        enqueue: (m: RtspFramed) => {
          if (m.kind === "request") {
            if (m.method === "REGISTER") this.#registers++;
            this.#enqueueRequest(m);
          } else if (m.kind === "interleaved") {
            this.#interleaved(m.channel, m.payload);
          }
        },
      };
      const onData = (chunk: Uint8Array): boolean => {
        this.#lastRead = Date.now();
        this.#bytesIn += chunk.length;
        this.#framer.push(chunk, sink);
        if (this.closed) return false;
        // No read may be pending when a REGISTER hands the socket over.
        if (this.#registers > 0) this.#readPaused = true;
        return !this.#readPaused;
      };
      for (;;) {
        this.#readPaused = false;
        // One buffer per connection that grows for a recorder and stays small
        // for a player: a pending read holds it while the peer is quiet.
        await readLoop(this.#conn, onData);
        if (!this.#readPaused) break;
        while (this.#registers > 0 && !this.closed && !this.#handing) {
          await new Promise<void>((r) => (this.#wake = r));
        }
        if (this.#handing !== undefined) {
          await this.#handing.catch(() => {});
          return; // the socket is the REGISTER's now
        }
        if (this.closed) break;
        this.#lastRead = Date.now(); // idle time counts from here again
      }
    } catch (e) {
      const answer = answerOf(e);
      if (answer !== undefined) {
        this.#stats.protocolErrors++;
        this.log.warn(`closing: ${answer.message}`, { status: answer.status });
        // A framing error has no request to answer: CSeq 0.
        if (answer.status !== undefined) {
          this.#respond(answer.status, "0", {}, undefined);
        }
      } else if (isConnectionEnd(e) || this.closed) {
        this.log.debug(
          `connection ended: ${e instanceof Error ? e.message : e}`,
        );
      } else {
        this.log.error(
          `closing after an unexpected error: ${
            e instanceof Error ? e.message : e
          }`,
        );
      }
    }
    await this.close("connection ended");
  }

  /** Timeouts and the slow-reader policy, once a second. */
  tick(now: number): void {
    if (this.closed) return;
    let playingTcp: Session | undefined;
    for (const s of this.sessions) {
      if (s.play !== undefined && s.udpReader === undefined) {
        playingTcp = s;
        break;
      }
    }
    if (playingTcp !== undefined) {
      const v = this.#lag.check(
        now,
        this.writer.stalledMs(),
        playingTcp.play!.stream,
      );
      if (v.drop) {
        this.#stats.readersDropped++;
        this.log.warn("dropping reader: it stayed behind", {
          path: playingTcp.path,
          behindMs: v.behindMs,
        });
        void this.close("reader too slow");
      } else if (v.firstSkip) {
        this.log.info("reader fell behind: skipping to the next keyframe", {
          path: playingTcp.path,
        });
      }
      return;
    }
    // A connection with sessions lives as long as they do; an idle one without
    // goes (reading waits while a REGISTER is answered: that is no idleness).
    if (
      this.sessions.size === 0 && this.#registers === 0 &&
      now - this.#lastRead > this.#server.config.readTimeout
    ) {
      void this.close("read timeout");
    }
  }

  /** Called by the session table when one of this connection's sessions ends. */
  sessionEnded(s: Session): void {
    this.sessions.delete(s);
    for (const [ch, route] of this.channels) {
      if (route.session === s) this.channels.delete(ch);
    }
  }

  /**
   * After a REGISTER with `reuse_connection` was answered: lets go of the
   * socket once the answer is written, and returns it. Nothing more is read
   * or answered here; requests the peer sent after the REGISTER are dropped
   * (it had to wait for the answer, after which roles reverse).
   */
  handOver(): Promise<StreamConn> {
    if (this.#handing !== undefined) return this.#handing;
    const wait = this.#server.config.writeTimeout;
    this.#handing = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        this.writer.drained().then(() => true),
        new Promise<boolean>((r) => timer = setTimeout(() => r(false), wait)),
      ]);
      clearTimeout(timer);
      if (!drained || this.#closing !== undefined) {
        this.#handing = undefined;
        await this.close("the REGISTER answer could not be written");
        throw new Error("the connection closed before it was handed over");
      }
      this.closed = true;
      this.#abort.abort(new Error("handed over to a REGISTER"));
      this.queue.close();
      this.log.debug("connection handed over to the REGISTER");
      return this.#conn;
    })();
    this.#wake?.();
    return this.#handing;
  }

  /** Ends the connection's TCP sessions, flushes what is queued and closes. */
  close(reason: string): Promise<void> {
    if (this.#handing !== undefined) return Promise.resolve();
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      this.log.debug("closing", { reason });
      this.#abort.abort(new Error(reason));
      // Sessions over TCP die with their connection; UDP ones live on until they time out.
      for (const s of [...this.sessions]) {
        const tcp = [...s.tracks.values()].some((t) =>
          t.transport.kind === "tcp"
        ) || s.tracks.size === 0;
        if (tcp || s.mode === "record") this.#server.sessions.end(s, reason);
      }
      await Promise.race([
        this.writer.drained(),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
      this.closed = true;
      this.#wake?.();
      this.queue.close();
      closeQuietly(this.#conn);
    })();
    return this.#closing;
  }

  /** Requests are answered in order, one at a time (DESCRIBE may wait for a publisher). */
  #enqueueRequest(req: RtspRequest): void {
    this.#chain = this.#chain.then(() => this.#request(req)).catch((e) => {
      this.log.error(`request failed: ${e instanceof Error ? e.message : e}`);
      void this.close("internal error");
    }).finally(() => {
      if (req.method !== "REGISTER") return;
      this.#registers--;
      this.#wake?.();
    });
  }

  async #request(req: RtspRequest): Promise<void> {
    if (this.closed || this.#handing !== undefined) return;
    const header = req.headers.get("CSeq");
    const cseq = header?.trim() ?? "0";
    try {
      // Every request carries a CSeq (RFC 2326 §12.17): without one, 400.
      if (header === undefined || !/^\d{1,10}$/.test(cseq)) {
        throw new Refusal(400, "missing or malformed CSeq");
      }
      // Repeated with different values: 400 before anything else (CVE-2019-7732).
      req.headers.getOne("Authorization");
      const session = this.#server.sessions.find(
        this,
        req.headers.getOne("Session"),
      );
      if (session !== undefined) session.lastSeen = Date.now();
      const reply = await dispatch(this.#server, this, req, session);
      this.log.debug(`${req.method} ${req.url}`, { status: reply.status });
      this.#respond(reply.status, cseq, reply.headers ?? {}, reply.body);
      reply.after?.();
    } catch (e) {
      const answer = answerOf(e);
      if (answer === undefined) throw e;
      if (answer.protocolError) this.#stats.protocolErrors++;
      const status = answer.status ?? 400;
      this.log.info(`${req.method.slice(0, 32)} refused: ${answer.message}`, {
        status,
        url: req.url.slice(0, 200),
      });
      this.#respond(status, cseq, answer.headers, undefined);
    }
  }

  #respond(
    status: number,
    cseq: string,
    headers: ReplyHeaders,
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

  #interleaved(channel: number, payload: Uint8Array): void {
    const route = this.channels.get(channel);
    if (route === undefined) return;
    const s = route.session;
    s.lastSeen = Date.now();
    if (s.record === undefined) return; // a player's RTCP: liveness only
    if (route.rtcp) s.record.rtcp(route.trackId, payload);
    else s.record.rtp(route.trackId, payload.slice());
  }
}
