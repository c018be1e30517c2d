/**
 * RTSP over HTTP tunnelling on the server, with live555's semantics: a GET
 * with `Accept: application/x-rtsp-tunnelled` and an `x-sessioncookie`
 * opens the server→client half (answered 200 and kept open: RTSP replies and
 * interleaved RTP/RTCP follow, raw); POSTs with the same cookie carry the
 * client's requests in base64 and are never answered over HTTP.
 *
 * The pair becomes one {@link TunnelConn}, a `StreamConn` whose reads are
 * the decoded POST body and whose writes go to the GET connection, handed to
 * the ordinary RTSP connection: no RTSP logic lives here. Closing the POST
 * leaves the GET and its sessions up, and a new POST with the cookie takes
 * its place (QuickTime opens one per request); closing the GET ends the
 * connection and with it its sessions.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import {
  closeQuietly,
  remoteOf,
  type StreamConn,
  writeAll,
} from "../../net/tcp.ts";
import { Base64Decoder } from "../../rtsp/base64.ts";
import {
  encodeTunnelAnswer,
  encodeTunnelRefusal,
  type HttpHead,
  HttpHeadReader,
  parseTunnelRequest,
  TunnelError,
} from "../../rtsp/tunnel.ts";

/** Counters the tunnels add to. */
export interface TunnelStats {
  protocolErrors: number;
  /** Tunnels opened (GETs answered 200). */
  tunnels: number;
}

/** Options of {@link Tunnels}. */
export interface TunnelsOptions {
  log: Logger;
  stats: TunnelStats;
  /** Time an HTTP head has to arrive whole. */
  headTimeoutMs: number;
  /** A GET opened a tunnel (over TLS when `secure`): run RTSP over it. */
  onTunnel(conn: TunnelConn, secure: boolean): void;
}

const EMPTY = new Uint8Array(0);
/** Bytes read from a POST at a time: at most 12 KiB decoded wait for RTSP to read them. */
const POST_READ_SIZE = 16 * 1024;

/** The open tunnels by cookie, and the connections whose HTTP head is coming. */
export class Tunnels {
  readonly #o: TunnelsOptions;
  readonly #byCookie = new Map<string, TunnelConn>();
  readonly #reading = new Set<StreamConn>();
  #closed = false;

  constructor(options: TunnelsOptions) {
    this.#o = options;
  }

  /** Open tunnels. */
  get size(): number {
    return this.#byCookie.size;
  }

  /**
   * Serves a connection that began with `GET ` or `POST `; `first` holds
   * the bytes already read of it; `secure` when it came over TLS (HTTPS).
   * Resolves once it is a tunnel half or closed.
   */
  async handle(
    conn: StreamConn,
    first: Uint8Array,
    secure = false,
  ): Promise<void> {
    const { log, stats } = this.#o;
    if (this.#closed) return closeQuietly(conn);
    let got: { head: HttpHead; rest: Uint8Array } | undefined;
    try {
      got = await this.#readHead(conn, first);
      if (got === undefined) return closeQuietly(conn);
      const req = parseTunnelRequest(got.head);
      if (req.method === "GET") {
        await this.#openGet(conn, req.cookie, got.rest, secure);
      } else this.#attachPost(conn, req.cookie, got.rest, secure);
    } catch (e) {
      if (!(e instanceof TunnelError)) {
        log.debug(
          `tunnel request failed: ${e instanceof Error ? e.message : e}`,
        );
        return closeQuietly(conn);
      }
      stats.protocolErrors++;
      log.warn(`closing tunnel request from ${remoteOf(conn)}: ${e.message}`, {
        status: e.status,
      });
      try {
        await writeAll(conn, encodeTunnelRefusal(e.status));
      } catch {
        // the peer went first
      }
      closeQuietly(conn);
    }
  }

  /** Closes every tunnel and every connection whose head is still coming. */
  close(): void {
    this.#closed = true;
    for (const c of this.#reading) closeQuietly(c);
    this.#reading.clear();
    for (const t of [...this.#byCookie.values()]) t.close();
  }

  async #readHead(
    conn: StreamConn,
    first: Uint8Array,
  ): Promise<{ head: HttpHead; rest: Uint8Array } | undefined> {
    const reader = new HttpHeadReader();
    let got = reader.push(first);
    if (got !== undefined) return got;
    this.#reading.add(conn);
    // A head that never ends holds at most its bound, and only this long.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, this.#o.headTimeoutMs);
    try {
      const buf = new Uint8Array(4096);
      while (got === undefined) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null && timedOut) {
          throw new TunnelError(
            `Cannot read HTTP head: no complete HTTP head within ${this.#o.headTimeoutMs} ms`,
            "truncated",
            408,
          );
        }
        if (n === null) return undefined;
        got = reader.push(buf.subarray(0, n));
      }
      return got;
    } finally {
      clearTimeout(timer);
      this.#reading.delete(conn);
    }
  }

  async #openGet(
    conn: StreamConn,
    cookie: string,
    rest: Uint8Array,
    secure: boolean,
  ): Promise<void> {
    // Requests on the GET connection itself: live555's CVE-2019-6256 came
    // from a GET and a POST with one cookie on one TCP connection.
    if (rest.length > 0) {
      throw new TunnelError(
        `Cannot open RTSP tunnel: ${rest.length} bytes follow the GET head on its connection`,
        "sequence",
        400,
      );
    }
    if (this.#byCookie.has(cookie)) {
      throw new TunnelError(
        "Cannot open RTSP tunnel: a GET with this x-sessioncookie is open",
        "sequence",
        400,
      );
    }
    const tunnel = new TunnelConn(conn, {
      secure,
      log: this.#o.log,
      stats: this.#o.stats,
      onClose: () => {
        if (this.#byCookie.get(cookie) === tunnel) {
          this.#byCookie.delete(cookie);
        }
      },
    });
    this.#byCookie.set(cookie, tunnel);
    try {
      await writeAll(conn, encodeTunnelAnswer());
    } catch {
      return tunnel.close();
    }
    if (this.#closed) return tunnel.close();
    this.#o.stats.tunnels++;
    this.#o.log.debug("tunnel opened", { from: remoteOf(conn) });
    this.#o.onTunnel(tunnel, secure);
  }

  #attachPost(
    conn: StreamConn,
    cookie: string,
    rest: Uint8Array,
    secure: boolean,
  ): void {
    const tunnel = this.#byCookie.get(cookie);
    // An HTTPS tunnel takes its requests over TLS only, and a plain one over plain TCP.
    if (tunnel === undefined || tunnel.secure !== secure) {
      throw new TunnelError(
        "Cannot attach POST: no open tunnel has its x-sessioncookie",
        "sequence",
        404,
      );
    }
    tunnel.attachPost(conn, rest);
  }
}

/** The POST in use and its decoder: a new POST starts a new base64 stream. */
interface Post {
  conn: StreamConn;
  rest: Uint8Array;
  decoder: Base64Decoder;
}

/**
 * One tunnel as a connection: reads are the requests of its POSTs, decoded;
 * writes go to its GET. Reads wait while no POST is attached; they end
 * (`null`) once the GET closed.
 */
export class TunnelConn implements StreamConn {
  /** Whether its GET (and so every POST it takes) came over TLS. */
  readonly secure: boolean;
  readonly #get: StreamConn;
  readonly #log: Logger;
  readonly #stats: TunnelStats;
  readonly #onClose: () => void;
  readonly #buf = new Uint8Array(POST_READ_SIZE);
  #post: Post | undefined;
  #decoded: Uint8Array = EMPTY;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(
    get: StreamConn,
    options: {
      secure?: boolean;
      log: Logger;
      stats: TunnelStats;
      onClose(): void;
    },
  ) {
    this.secure = options.secure ?? false;
    this.#get = get;
    this.#log = options.log;
    this.#stats = options.stats;
    this.#onClose = options.onClose;
    this.#watchGet();
  }

  /** The client that opened the GET. */
  get remoteAddr(): Deno.Addr {
    return this.#get.remoteAddr;
  }

  /** Whether a POST is attached now. */
  get hasPost(): boolean {
    return this.#post !== undefined;
  }

  /** Takes `conn` as the POST to read from, closing the one before. */
  attachPost(conn: StreamConn, rest: Uint8Array): void {
    if (this.#closed) return closeQuietly(conn);
    const old = this.#post;
    this.#post = { conn, rest, decoder: new Base64Decoder() };
    if (old !== undefined) closeQuietly(old.conn);
    this.#log.debug("tunnel POST attached", { from: remoteOf(conn) });
    this.#wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#decoded.length > 0) {
        const n = Math.min(p.length, this.#decoded.length);
        p.set(this.#decoded.subarray(0, n));
        this.#decoded = this.#decoded.subarray(n);
        return n;
      }
      if (this.#closed) return null;
      const post = this.#post;
      if (post === undefined) {
        await new Promise<void>((r) => this.#wake = r);
        this.#wake = undefined;
        continue;
      }
      let chunk = post.rest;
      post.rest = EMPTY;
      if (chunk.length === 0) {
        const n = await post.conn.read(this.#buf).catch(() => null);
        if (this.#post !== post) continue; // replaced or closed meanwhile
        if (n === null) {
          // The client may open another POST with the same cookie.
          this.#post = undefined;
          closeQuietly(post.conn);
          this.#log.debug("tunnel POST closed: waiting for another");
          continue;
        }
        chunk = this.#buf.subarray(0, n);
      }
      // Invalid base64 throws a ProtocolError: the RTSP connection closes on it.
      post.decoder.push(chunk, { enqueue: (b) => this.#decoded = b });
    }
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("tunnel closed"));
    }
    return this.#get.write(p);
  }

  /** Closes both halves; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#get);
    if (this.#post !== undefined) closeQuietly(this.#post.conn);
    this.#post = undefined;
    this.#wake?.();
    this.#onClose();
  }

  /** The GET carries nothing from the client: its end, or any byte, ends the tunnel. */
  async #watchGet(): Promise<void> {
    const buf = new Uint8Array(256);
    const n = await this.#get.read(buf).catch(() => null);
    if (n !== null && !this.#closed) {
      this.#stats.protocolErrors++;
      this.#log.warn(
        `closing tunnel from ${
          remoteOf(this.#get)
        }: ${n} bytes came on its GET connection, where a client sends nothing`,
      );
    }
    this.close();
  }
}
