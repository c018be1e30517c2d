/**
 * The RTSP client's connection to one server: TCP connect, requests matched
 * to responses by CSeq, answers to 401 (by `auth.ts`),
 * redirects, the session id the server gave, and interleaved frames handed
 * on. What is played or recorded is the client's business.
 *
 * @module
 */

import { type Packet, PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import { ProtocolError } from "../../errors.ts";
import { BatchWriter } from "../../net/batch_writer.ts";
import { closeQuietly, type StreamConn } from "../../net/tcp.ts";
import { RtspFramer } from "../../rtsp/framer.ts";
import { parseSession } from "../../rtsp/headers/session.ts";
import { encodeRequest, type RtspResponse } from "../../rtsp/message.ts";
import { withTimeout } from "../_timeout.ts";
import {
  dialRtsp,
  isRtspScheme,
  isSecure,
  isTunnel,
  rtspEndpoint,
  type RtspScheme,
  rtspScheme,
} from "./dial.ts";
import { RtspClientAuth } from "./auth.ts";
import { RtspClientError } from "./error.ts";

export { RtspClientError } from "./error.ts";

/** Options of {@link RtspConnection}. */
export interface RtspConnectionOptions {
  /** Every request (and TCP connect) must be answered within this. */
  timeoutMs: number;
  /** Redirects followed before giving up. */
  maxRedirects: number;
  /** Largest reply body (the SDP) accepted. */
  maxBodySize: number;
  /** Bytes queued toward the server (requests and interleaved media). */
  writeQueueSize: number;
  /** `rtsps://`: PEM certificates trusted besides the system's roots. */
  caCerts?: string[];
  /** An interleaved frame from the server (`$`, RFC 2326 §10.12). */
  onInterleaved(channel: number, payload: Uint8Array): void;
  /** The connection failed or the server closed it. */
  onClosed(error: Error): void;
  /**
   * A connection already open to the server, used instead of connecting
   * (the one a REGISTER with `reuse_connection` came on); no redirect can
   * leave it.
   */
  conn?: StreamConn;
}

interface Pending {
  method: string;
  resolve(r: RtspResponse): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** One TCP connection to an RTSP server, from the client side. */
export class RtspConnection {
  readonly #o: RtspConnectionOptions;
  #url: string;
  /** How the server is reached; requests name it with `rtsp://` (`rtsps://` in TLS) all the same. */
  #scheme: RtspScheme;
  readonly #auth = new RtspClientAuth();
  #conn: StreamConn | undefined;
  #queue: ReaderQueue;
  #writer: BatchWriter | undefined;
  #framer: RtspFramer;
  #cseq = 0;
  readonly #pending = new Map<number, Pending>();
  #session: string | undefined;
  #closed = false;
  /** The session timeout the server announced, seconds. */
  sessionTimeoutS = 60;

  /** `url` may carry credentials (`rtsp://user:pass@host/path`); they never go on the wire. */
  constructor(url: string, options: RtspConnectionOptions) {
    const u = new URL(url);
    if (!isRtspScheme(u.protocol)) {
      throw new TypeError(
        `Cannot use URL "${url}": expected rtsp://, rtsps://, rtsph:// or rtspsh://`,
      );
    }
    this.#scheme = u.protocol;
    u.protocol = isSecure(u.protocol) ? "rtsps:" : "rtsp:";
    this.#auth.takeCredentials(u);
    this.#url = u.toString();
    this.#o = options;
    this.#queue = this.#newQueue();
    this.#framer = new RtspFramer({ maxBodySize: options.maxBodySize });
  }

  /** The URL in use (after redirects), without credentials. */
  get url(): string {
    return this.#url;
  }

  /** The server's host name, as RTP from it must come. */
  get hostname(): string {
    return new URL(this.#url).hostname.replace(/^\[|\]$/g, "");
  }

  /** Whether the connection is an HTTP tunnel: RTP goes interleaved on it. */
  get tunnelled(): boolean {
    return isTunnel(this.#scheme);
  }

  /** Whether the server gave a session. */
  get hasSession(): boolean {
    return this.#session !== undefined;
  }

  /** Connects to the URL's host and port over TCP, TLS or a tunnel in either (see `dial.ts`). */
  async connect(): Promise<void> {
    const url = new URL(this.#url);
    try {
      this.#conn = this.#o.conn ?? await withTimeout(
        dialRtsp(this.#scheme, url, this.#o.timeoutMs, {
          caCerts: this.#o.caCerts,
        }),
        this.#o.timeoutMs,
        "connect",
      );
    } catch (e) {
      const { hostname, port } = rtspEndpoint(this.#scheme, url);
      throw new RtspClientError(
        "connect",
        `${hostname}:${port}: ${e instanceof Error ? e.message : e}`,
      );
    }
    const conn = this.#conn;
    this.#writer = new BatchWriter(conn, () => this.#queue.drain(), {
      onError: (e) => this.#fail(e instanceof Error ? e : new Error(String(e))),
    });
    this.#readLoop(conn);
  }

  /**
   * Sends a request and waits for its response, answering 401 and, when
   * `redirectable`, following redirects (on a new connection).
   */
  async request(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
    redirectable = false,
  ): Promise<RtspResponse> {
    let redirects = 0;
    let authTries = 0;
    for (;;) {
      const r = await this.#exchange(method, url, headers, body);
      if (r.status === 401) {
        this.#auth.answer401(method, r, authTries++);
        continue;
      }
      if (redirectable && [301, 302, 303, 307].includes(r.status)) {
        const location = r.headers.get("Location");
        if (location === undefined) {
          throw new RtspClientError(
            method,
            `${r.status} without Location`,
            r.status,
          );
        }
        if (++redirects > this.#o.maxRedirects) {
          throw new RtspClientError(
            method,
            `more than ${this.#o.maxRedirects} redirects`,
            r.status,
          );
        }
        await this.#redirect(location);
        url = this.#url;
        continue;
      }
      this.#takeSession(r);
      return r;
    }
  }

  /** Queues a request without waiting for its answer (keep-alive, TEARDOWN); returns its CSeq. */
  send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): number {
    const cseq = ++this.#cseq;
    const all: [string, string][] = [
      ["CSeq", String(cseq)],
      ["User-Agent", "Sluice"],
    ];
    if (this.#session !== undefined) all.push(["Session", this.#session]);
    const auth = this.#auth.authorization(method, url);
    if (auth !== undefined) all.push(["Authorization", auth]);
    all.push(...Object.entries(headers));
    this.#queue.offer({
      bytes: encodeRequest({ method, url, headers: all, body }),
      kind: PACKET_KIND.CONTROL,
    });
    return cseq;
  }

  /** Queues interleaved media (`prefix` is its `$` header); returns whether it was queued. */
  offer(packet: Packet, prefix: Uint8Array): boolean {
    return this.#queue.offer(packet, prefix);
  }

  /** Writes what is queued now. */
  kick(): void {
    this.#writer?.kick(true);
  }

  /** Rejects every pending request with `error` and closes, letting what is queued (a TEARDOWN) go out first. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      // Every failure says which step it stopped: "Cannot DESCRIBE: the server closed the connection".
      p.reject(
        error instanceof RtspClientError || error instanceof ProtocolError
          ? error
          : new RtspClientError(
            p.method,
            error?.message ?? "the client was closed",
          ),
      );
    }
    this.#pending.clear();
    const conn = this.#conn;
    const writer = this.#writer;
    this.#conn = undefined;
    if (conn !== undefined) {
      Promise.race([writer?.drained(), new Promise((r) => setTimeout(r, 200))])
        .finally(() => closeQuietly(conn));
    }
  }

  #newQueue(): ReaderQueue {
    return new ReaderQueue({
      maxBytes: this.#o.writeQueueSize,
      onReady: () => this.#writer?.kick(true),
    });
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#o.onClosed(error);
  }

  async #readLoop(conn: StreamConn): Promise<void> {
    const framer = this.#framer;
    try {
      for (;;) {
        const buf = new Uint8Array(64 * 1024);
        const n = await conn.read(buf);
        if (n === null) break;
        framer.push(buf.subarray(0, n), {
          enqueue: (m) => {
            if (m.kind === "response") this.#resolve(m);
            else if (m.kind === "interleaved") {
              this.#o.onInterleaved(m.channel, m.payload);
            }
            // requests from the server (ANNOUNCE, GET_PARAMETER) need no answer for live use
          },
        });
      }
      if (this.#conn === conn) {
        this.#fail(new Error("the server closed the connection"));
      }
    } catch (e) {
      if (this.#conn === conn) {
        this.#fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  #resolve(r: RtspResponse): void {
    const cseq = Number(r.headers.get("CSeq"));
    const p = this.#pending.get(cseq);
    if (p === undefined) return;
    this.#pending.delete(cseq);
    clearTimeout(p.timer);
    p.resolve(r);
  }

  #takeSession(r: RtspResponse): void {
    if (this.#session !== undefined) return;
    const s = r.headers.get("Session");
    if (s === undefined) return;
    try {
      const parsed = parseSession(s);
      this.#session = parsed.id;
      if (parsed.timeout !== undefined && parsed.timeout > 0) {
        this.sessionTimeoutS = parsed.timeout;
      }
    } catch {
      // a Session we cannot read: requests go without it
    }
  }

  async #redirect(location: string): Promise<void> {
    const next = new URL(location, this.#url);
    if (this.#o.conn !== undefined) {
      throw new RtspClientError("redirect", "on a reused connection");
    }
    if (!isRtspScheme(next.protocol)) {
      throw new RtspClientError(
        "redirect",
        `to "${location}": not rtsp://, rtsps://, rtsph:// or rtspsh://`,
      );
    }
    // A redirect never takes a session out of TLS.
    const secure = isSecure(next.protocol);
    if (isSecure(this.#scheme) && !secure) {
      throw new RtspClientError("redirect", `to "${location}": not rtsps://`);
    }
    // An rtsp:// Location from inside a tunnel names the same kind of server: keep tunnelling.
    const tunnel = isTunnel(this.#scheme) || isTunnel(next.protocol);
    this.#scheme = rtspScheme(secure, tunnel);
    next.protocol = secure ? "rtsps:" : "rtsp:";
    if (next.username !== "") this.#auth.takeCredentials(next);
    if (this.#conn !== undefined) closeQuietly(this.#conn);
    this.#conn = undefined;
    this.#queue.close();
    this.#queue = this.#newQueue();
    this.#framer = new RtspFramer({ maxBodySize: this.#o.maxBodySize });
    this.#url = next.toString();
    await this.connect();
  }

  #exchange(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<RtspResponse> {
    if (this.#closed) {
      return Promise.reject(
        new RtspClientError(method, "the client is closed"),
      );
    }
    const cseq = this.send(method, url, headers, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cseq);
        reject(
          new RtspClientError(
            method,
            `no answer within ${this.#o.timeoutMs} ms`,
          ),
        );
      }, this.#o.timeoutMs);
      this.#pending.set(cseq, { method, resolve, reject, timer });
    });
  }
}
