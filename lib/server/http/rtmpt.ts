/**
 * RTMPT: RTMP tunnelled in HTTP requests, on the HTTP port, for players
 * and encoders that can only speak HTTP (ffmpeg `rtmpt://`, Flash Player).
 *
 * `POST /open/1` opens a session and is answered with its id. The client
 * then carries its RTMP bytes in `POST /send/<id>/<seq>` and polls with
 * `POST /idle/<id>/<seq>` (whose one-byte body means nothing); every answer
 * is `Content-Type: application/x-fcs`, one polling-interval byte, then the
 * RTMP bytes the server has for the client. `POST /close/<id>/<seq>` ends
 * the session. Each session is an {@link RtmptConn} run by the ordinary
 * RTMP session, so publish, play, auth and the slow-reader policy are
 * those of RTMP.
 *
 * Bounds: at most `maxSessions` sessions; a session that makes no request
 * for the read timeout is closed; a body over `maxBodySize` or a sequence
 * number out of order (a lost, replayed or reordered request would corrupt
 * the RTMP byte stream) ends that session with 413 or 400; an unknown id
 * gets 404.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { remoteOf, type StreamConn } from "../../net/tcp.ts";
import { RtmptConn } from "./rtmpt_conn.ts";
import { parseRtmptPath, type RtmptRequest } from "./rtmpt_path.ts";

/** Options of {@link RtmptTunnels}. */
export interface RtmptOptions {
  /** Runs an RTMP session on a tunnel's byte stream (the RTMP server's). */
  run(conn: StreamConn): void;
  log: Logger;
  /** A session that makes no request this long is closed (ms). */
  timeoutMs: number;
  /** Sessions open at once; `/open` beyond gets 503. @default {1000} */
  maxSessions?: number;
  /** Largest request body. @default {4194304} */
  maxBodySize?: number;
  /** Bytes queued for a client before the session's writes wait. @default {262144} */
  maxQueuedBytes?: number;
}

/** Counters over all RTMPT sessions. */
export interface RtmptStats {
  /** `/send`, `/idle` and `/close` requests answered. */
  requests: number;
  /** Sessions opened. */
  opened: number;
  /** `/open` refused: too many sessions. */
  refused: number;
  /** Sessions closed for making no request. */
  timedOut: number;
  /** Requests for an id that is not (or no longer) open. */
  unknown: number;
  /** Sessions ended for a bad sequence number or an oversized or stalled body. */
  rejected: number;
}

/** The content type of every RTMPT answer (Flash Media Server's). */
export const RTMPT_CONTENT_TYPE = "application/x-fcs";

const DEFAULT_MAX_SESSIONS = 1000;
const DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024;

/** One open session. */
interface Tunnel {
  id: string;
  conn: RtmptConn;
  /** The sequence number the next request must carry; the first is 0 or 1. */
  nextSeq: number | undefined;
  lastRequestMs: number;
  interval: PollInterval;
  /** Settles when the request before has been answered: bodies reach the session in order. */
  turn: Promise<void>;
}

/** The RTMPT sessions of one HTTP server. */
export class RtmptTunnels {
  readonly #options: RtmptOptions;
  readonly #tunnels = new Map<string, Tunnel>();
  readonly #maxSessions: number;
  readonly #maxBodySize: number;
  /** Aborts the body reads in progress when the server stops. */
  readonly #stop = new AbortController();
  readonly stats: RtmptStats = {
    requests: 0,
    opened: 0,
    refused: 0,
    timedOut: 0,
    unknown: 0,
    rejected: 0,
  };

  constructor(options: RtmptOptions) {
    this.#options = options;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  }

  /** Sessions open now. */
  get sessions(): number {
    return this.#tunnels.size;
  }

  /** Answers one RTMPT request; `remoteAddr` is the peer of its HTTP connection. */
  async handle(
    req: Request,
    path: string,
    remoteAddr: Deno.Addr,
  ): Promise<Response> {
    const r = parseRtmptPath(path);
    if (r === undefined) return answer(404, "Not Found\n");
    if (r.command === "ident") {
      // Flash Media Server's edges answer their address here; a client goes
      // on to /open after a 404 (Shumway insists on one), and ffmpeg never asks.
      await readBody(req, 64, this.#options.timeoutMs, this.#stop.signal);
      return answer(404, "Not Found\n");
    }
    if (r.command === "open") {
      await readBody(req, 64, this.#options.timeoutMs, this.#stop.signal);
      return this.#open(remoteAddr);
    }
    const tunnel = this.#tunnels.get(r.id);
    if (tunnel === undefined) {
      this.stats.unknown++;
      this.#options.log.debug("unknown RTMPT session", { command: r.command });
      return answer(404, "Not Found: no such session\n");
    }
    tunnel.lastRequestMs = Date.now();
    const expected = tunnel.nextSeq;
    if (expected === undefined ? r.seq > 1 : r.seq !== expected) {
      return this.#reject(
        tunnel,
        400,
        `sequence number ${r.seq}, expected ${expected ?? "0 or 1"}`,
      );
    }
    tunnel.nextSeq = r.seq + 1;
    const before = tunnel.turn;
    let done!: () => void;
    tunnel.turn = new Promise((resolve) => (done = resolve));
    try {
      await before;
      return await this.#answer(tunnel, r.command, req);
    } finally {
      done();
    }
  }

  /** Closes the sessions that made no request for the timeout. */
  tick(now: number): void {
    for (const t of [...this.#tunnels.values()]) {
      if (now - t.lastRequestMs <= this.#options.timeoutMs) continue;
      this.stats.timedOut++;
      this.#options.log.warn("closing RTMPT session: no request", {
        remote: remoteOf(t.conn),
        timeoutMs: this.#options.timeoutMs,
      });
      t.conn.close();
    }
  }

  /** Closes every session and ends the requests in progress. */
  close(): void {
    this.#stop.abort();
    for (const t of [...this.#tunnels.values()]) t.conn.close();
  }

  #open(remoteAddr: Deno.Addr): Response {
    const { log } = this.#options;
    if (this.#tunnels.size >= this.#maxSessions) {
      this.stats.refused++;
      log.warn("refusing RTMPT session: too many", {
        remote: remoteOf({ remoteAddr }),
        sessions: this.#tunnels.size,
      });
      return answer(503, "Service Unavailable: too many RTMPT sessions\n");
    }
    const id = sessionId();
    const conn = new RtmptConn({
      remoteAddr,
      maxQueuedBytes: this.#options.maxQueuedBytes,
      onClose: () => this.#tunnels.delete(id),
    });
    this.#tunnels.set(id, {
      id,
      conn,
      nextSeq: undefined,
      lastRequestMs: Date.now(),
      interval: new PollInterval(),
      turn: Promise.resolve(),
    });
    this.stats.opened++;
    log.debug("RTMPT session opened", { remote: remoteOf(conn) });
    this.#options.run(conn);
    return answer(200, `${id}\n`);
  }

  async #answer(
    t: Tunnel,
    command: Exclude<RtmptRequest["command"], "ident" | "open">,
    req: Request,
  ): Promise<Response> {
    const body = await readBody(
      req,
      this.#maxBodySize,
      this.#options.timeoutMs,
      this.#stop.signal,
    );
    if (body === "too large") {
      return this.#reject(t, 413, `a body over ${this.#maxBodySize} bytes`);
    }
    if (body === "stalled") return this.#reject(t, 408, "a body that stalled");
    t.lastRequestMs = Date.now();
    if (command === "send" && !t.conn.closed) {
      await t.conn.push(body);
      // The session answers what it read within this turn: let it, so the
      // answer carries its replies rather than leaving them to the next poll.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const bytes = t.conn.take();
    this.stats.requests++;
    if (command === "close") {
      this.#options.log.debug("RTMPT session closed by the client");
      t.conn.close();
    }
    const reply = new Uint8Array(1 + bytes.length);
    reply[0] = t.interval.next(bytes.length > 0);
    reply.set(bytes, 1);
    return answer(200, reply);
  }

  #reject(t: Tunnel, status: number, what: string): Response {
    this.stats.rejected++;
    this.#options.log.warn(`closing RTMPT session: ${what}`, {
      remote: remoteOf(t.conn),
      status,
    });
    t.conn.close();
    return answer(status, `${STATUS_TEXT[status] ?? "Error"}: ${what}\n`);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Content Too Large",
};

/**
 * The polling-interval byte of each answer, adapted to the traffic as Flash
 * Media Server and Red5 do: 1 while answers carry data; after
 * {@link PollInterval.QUIET_ANSWERS} empty answers in a row it doubles with
 * each further one up to 0x21, asking an idle client to poll less often.
 * (ffmpeg reads the byte and ignores it; Flash Player spaces its polls by it.)
 */
export class PollInterval {
  /** Empty answers in a row before the interval grows. */
  static readonly QUIET_ANSWERS = 10;
  /** Largest interval sent. */
  static readonly MAX = 0x21;
  #empty = 0;
  #value = 1;

  /** The byte for the next answer, which carries data or not. */
  next(hasData: boolean): number {
    if (hasData) {
      this.#empty = 0;
      this.#value = 1;
    } else if (++this.#empty > PollInterval.QUIET_ANSWERS) {
      this.#value = Math.min(this.#value * 2, PollInterval.MAX);
    }
    return this.#value;
  }
}

/** A session id no other client can guess: 16 hex digits from the CSPRNG. */
function sessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A request's body, up to `max` bytes, or why not: over `max` (by its
 * Content-Length or as it comes), or not complete within `timeoutMs` or
 * before `signal` aborts.
 */
async function readBody(
  req: Request,
  max: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Uint8Array | "too large" | "stalled"> {
  const length = Number(req.headers.get("Content-Length") ?? "0");
  if (!(length <= max)) return "too large";
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  let stalled = false;
  const stop = () => {
    stalled = true;
    void reader.cancel().catch(() => {});
  };
  if (signal.aborted) stop();
  const timer = setTimeout(stop, timeoutMs);
  signal.addEventListener("abort", stop);
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        void reader.cancel().catch(() => {});
        return "too large";
      }
      parts.push(value);
    }
  } catch {
    return "stalled"; // the client went, or the timer cancelled the body
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", stop);
  }
  if (stalled) return "stalled";
  if (parts.length === 1) return parts[0]!;
  const body = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return body;
}

function answer(
  status: number,
  body: string | Uint8Array<ArrayBuffer>,
): Response {
  return new Response(body, {
    status,
    headers: {
      "Content-Type": RTMPT_CONTENT_TYPE,
      "Cache-Control": "no-cache",
    },
  });
}
