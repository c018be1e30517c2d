/**
 * One HTTP/1.1 connection: requests read from the socket, handed to a
 * fetch-style handler one at a time, and their responses written in order
 * (pipelined requests wait their turn, RFC 9112 §9.3.2). Keep-alive by
 * default, `Connection: close`, HTTP/1.0, `HEAD`, `Expect: 100-continue`;
 * an idle connection is closed after `idleTimeoutMs`, and a request whose
 * head and body do not arrive within `requestTimeoutMs` gets 408.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { closeQuietly, isConnectionEnd, writeAll } from "../tcp.ts";
import type { StreamConn } from "../tcp.ts";
import { readLoop } from "../read_loop.ts";
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  parseRequestHead,
  type RequestHead,
} from "./head.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { Timeout } from "./_timeout.ts";
import { writeResponse } from "./respond.ts";
import { SendWatch } from "./_send_watch.ts";
import { type Answer, writeAnswer } from "./answer.ts";
import { errorResponse, toRequest } from "./request.ts";

/** Answers a request. */
export type Http1Handler = (
  req: Request,
  remote: Deno.NetAddr,
) => Response | Promise<Response>;

/**
 * Answers a request before any `Request` is made of it, or returns
 * `undefined` to leave it to the {@link Http1Handler}. For the few routes
 * that a crowd asks for thousands of times a second (HLS parts); `signal`
 * aborts when the connection ends.
 */
export type Http1FastHandler = (
  head: RequestHead,
  remote: Deno.NetAddr,
  signal: AbortSignal,
) => Promise<Answer | Response> | undefined;

/** Options of {@link Http1Connection}. */
export interface Http1ConnectionOptions {
  handler: Http1Handler;
  fast?: Http1FastHandler;
  /** `http` or `https`: the scheme of `Request.url`. */
  scheme: "http" | "https";
  /** The authority of `Request.url` for a request without `Host`. */
  defaultHost: string;
  /** Called when the handler throws (the client gets 500). */
  onError: (error: unknown) => void;
  limits?: HeadLimits;
  /** Largest request body (413 past it). @default {8388608} */
  maxBody?: number;
  /** @default {60000} */
  idleTimeoutMs?: number;
  /** @default {30000} */
  requestTimeoutMs?: number;
  /**
   * A response write that makes no progress this long (checked at this
   * interval, so at most twice as long) closes the connection: a client
   * that stopped reading (a stalled download) holds its socket and what was
   * being sent no longer. A streamed body that is merely quiet between
   * writes is not timed. @default {60000}
   */
  sendTimeoutMs?: number;
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const EMPTY = new Uint8Array(0);

type TimeoutKind = "idle" | "request" | "body";

/** The body of the request in progress, while it arrives. */
interface Feeding {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Bytes still to come, for a body framed by `Content-Length`. */
  left: number;
  chunks?: ChunkedDecoder;
  /** The handler cancelled the body or answered: the rest is dropped. */
  discard?: boolean;
  /** Runs once the body has ended, when the answer went before it. */
  then?: () => void;
}

/** Serves the requests of one connection until it ends. */
export class Http1Connection {
  readonly #conn: StreamConn;
  readonly #options: Http1ConnectionOptions;
  readonly #limits: HeadLimits;
  readonly #maxBody: number;
  #buf: Uint8Array = EMPTY;
  #feeding: Feeding | undefined;
  #busy = false;
  #closed = false;
  /** The peer sent its last byte: finish the exchange in progress, then close. */
  #eof = false;
  /** Close after the exchange in progress (the server is shutting down). */
  #draining = false;
  #abort: AbortController | undefined;
  readonly #timeout = new Timeout<TimeoutKind>((kind) => this.#expired(kind));
  #continued: Promise<void> = Promise.resolve();
  readonly #sends: SendWatch;
  /** Resolves when the connection is closed. */
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(conn: StreamConn, options: Http1ConnectionOptions) {
    this.#conn = conn;
    this.#sends = new SendWatch(
      conn,
      options.sendTimeoutMs ?? 60_000,
      () => this.#busy && !this.#closed,
      () => this.close(), // the client stopped reading
    );
    this.#options = options;
    this.#limits = options.limits ?? DEFAULT_HEAD_LIMITS;
    this.#maxBody = options.maxBody ?? 8 * 1024 * 1024;
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
    this.#arm("idle");
    readLoop(conn, (chunk) => this.#received(chunk), { maxSize: 16384 })
      .then(
        () => this.#peerDone(),
        (e) => {
          if (!isConnectionEnd(e)) options.onError(e);
          this.close();
        },
      );
  }

  /** Closes now, aborting the request in progress. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timeout.stop();
    this.#sends.stop();
    this.#abort?.abort();
    closeQuietly(this.#conn);
    this.#resolveDone();
  }

  /** Closes once the exchange in progress, if any, has ended. */
  drain(): void {
    this.#draining = true;
    if (!this.#busy) this.close();
  }

  #received(chunk: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#buf = this.#buf.length === 0 ? chunk : concat([this.#buf, chunk]);
    if (!this.#busy) {
      this.#pump();
    } else if (this.#feeding !== undefined) {
      this.#feed();
    } else if (this.#buf.length > this.#limits.maxHead + this.#maxBody) {
      this.close(); // pipelining far more than it reads back
    }
    return !this.#closed;
  }

  /**
   * The peer closed its side: as hyper does, the connection ends at once,
   * a response in progress with it (an HTTP-FLV player that left).
   */
  #peerDone(): void {
    this.#eof = true;
    this.#failBody("the client went");
    this.close();
  }

  /** Reads and answers what the buffer holds, one request at a time. */
  #pump(): void {
    while (!this.#busy && !this.#closed) {
      const head = parseRequestHead(this.#buf, this.#limits);
      if (head === undefined) {
        this.#arm(this.#buf.length === 0 ? "idle" : "request");
        return;
      }
      if ("status" in head) return this.#refuse(head.status, head.reason);
      this.#buf = this.#buf.subarray(head.size);
      if (head.contentLength > this.#maxBody) {
        return this.#refuse(413, "request body too large");
      }
      if (!head.chunked && head.contentLength === 0) {
        this.#exchange(head, null);
        continue;
      }
      if (head.expectContinue) {
        this.#continued = writeAll(this.#conn, CONTINUE).catch(() => {});
      }
      const body = new ReadableStream<Uint8Array>({
        cancel: () => {
          if (this.#feeding !== undefined) this.#feeding.discard = true;
        },
        start: (controller) => {
          this.#feeding = {
            controller,
            left: head.contentLength,
            chunks: head.chunked
              ? new ChunkedDecoder(this.#maxBody)
              : undefined,
          };
        },
      });
      this.#exchange(head, body);
      this.#feed();
    }
  }

  /** Hands what the buffer holds of the request body on to the handler. */
  #feed(): void {
    const f = this.#feeding!;
    if (f.chunks !== undefined) {
      const r = f.chunks.push(this.#buf);
      if ("status" in r) {
        this.#failBody(`bad request body: ${r.reason}`);
        return this.close();
      }
      this.#buf = this.#buf.subarray(r.used);
      const parts = f.chunks.parts.splice(0);
      if (!f.discard) { for (const part of parts) f.controller.enqueue(part); }
      if (r.done) return this.#fed(f);
    } else {
      const n = Math.min(f.left, this.#buf.length);
      if (n > 0 && !f.discard) f.controller.enqueue(this.#buf.slice(0, n));
      this.#buf = this.#buf.subarray(n);
      f.left -= n;
      if (f.left === 0) return this.#fed(f);
    }
    this.#arm("body");
  }

  #fed(f: Feeding): void {
    this.#feeding = undefined;
    this.#disarm();
    if (f.then !== undefined) return f.then();
    try {
      f.controller.close();
    } catch {
      // the handler cancelled the body
    }
  }

  /** Ends the body in progress, if any, with an error the handler sees. */
  #failBody(reason: string): void {
    const f = this.#feeding;
    this.#feeding = undefined;
    try {
      f?.controller.error(new Error(reason));
    } catch {
      // the handler cancelled it
    }
  }

  /** Drops the rest of `f`, then runs `then`. */
  #discard(f: Feeding, then: () => void): void {
    f.discard = true;
    f.then = then;
    try {
      f.controller.error(new Error("the answer went before the body"));
    } catch {
      // cancelled already
    }
    this.#feed();
  }

  #exchange(
    head: RequestHead,
    body: ReadableStream<Uint8Array> | null,
  ): void {
    this.#busy = true;
    this.#disarm();
    const abort = new AbortController();
    this.#abort = abort;
    const remote = this.#conn.remoteAddr as Deno.NetAddr;
    let quick: Promise<Answer | Response> | undefined;
    try {
      if (body === null) {
        quick = this.#options.fast?.(head, remote, abort.signal);
      }
    } catch (e) {
      quick = Promise.reject(e);
    }
    const answer = quick ?? this.#handle(head, body, remote, abort.signal);
    answer
      .catch((e) => {
        this.#options.onError(e);
        return errorResponse(500, "Internal Server Error");
      })
      .then(async (res) => {
        await this.#continued;
        const close = head.close || this.#draining || this.#eof;
        this.#sends.begin();
        if (!(res instanceof Response)) {
          await writeAnswer(this.#sends.target, res, {
            head: head.method === "HEAD",
            close,
          });
          return close;
        }
        return await writeResponse(this.#sends.target, res, {
          head: head.method === "HEAD",
          close,
          canChunk: head.minor === 1,
          signal: abort.signal,
          onWrite: this.#sends.onWrite,
        });
      })
      .then((close) => {
        this.#sends.end();
        const next = () => {
          this.#busy = false;
          this.#abort = undefined;
          if (close || this.#draining || this.#eof) return this.close();
          this.#pump();
        };
        // A body the handler did not wait for is read to its end and
        // dropped (closing now would lose the answer).
        if (this.#feeding === undefined) return next();
        this.#discard(this.#feeding, next);
      }, (e) => {
        if (!isConnectionEnd(e)) this.#options.onError(e);
        this.close();
      });
  }

  /** The handler's answer to `head` and `body`, or the server's own refusal. */
  async #handle(
    head: RequestHead,
    body: ReadableStream<Uint8Array> | null,
    remote: Deno.NetAddr,
    signal: AbortSignal,
  ): Promise<Response> {
    const req = toRequest(head, body, this.#options, signal);
    return req instanceof Response
      ? req
      : await this.#options.handler(req, remote);
  }

  /** Answers a request that cannot be read with `status`, then closes. */
  #refuse(status: number, reason: string): void {
    this.#busy = true;
    this.#disarm();
    writeResponse(this.#conn, errorResponse(status, reason), {
      head: false,
      close: true,
      canChunk: false,
    }).catch(() => {}).finally(() => this.close());
  }

  /**
   * Starts a timeout unless that one already runs: `idle` between requests,
   * `request` for a head that is slow to come (408), `body` for a body
   * that stalls (twice as long: the handler may answer it first).
   */
  #arm(kind: TimeoutKind): void {
    const request = this.#options.requestTimeoutMs ?? 30_000;
    const ms = kind === "idle"
      ? this.#options.idleTimeoutMs ?? 60_000
      : kind === "request"
      ? request
      : 2 * request;
    this.#timeout.arm(kind, ms);
  }

  #expired(kind: TimeoutKind): void {
    if (this.#closed) return;
    if (kind === "request") return this.#refuse(408, "request too slow");
    this.#failBody("the request body stalled");
    this.close();
  }

  #disarm(): void {
    this.#timeout.disarm();
  }
}
