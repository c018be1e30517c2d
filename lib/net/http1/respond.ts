/**
 * Writes a fetch-style `Response` on an HTTP/1.1 connection. A body held in
 * memory (bytes or text: HLS playlists, parts, segments, API answers) goes
 * out with its head in one write and no `ReadableStream`; a streamed body
 * (HTTP-FLV, recordings) is read as the socket takes it, so a slow client
 * backs up its producer exactly as a slow TCP peer does.
 *
 * @module
 */

import { closeQuietly, writeAll } from "../tcp.ts";
import { encodeHead, responseHead } from "./response_head.ts";
import { type ResponseTarget, withoutBody, writeWhole } from "./_whole.ts";

export type { ResponseTarget } from "./_whole.ts";

/** Bodies of responses marked by {@link endsWithConnection}: the stream survives a middleware's copy of the `Response`. */
const untilClose = new WeakSet<ReadableStream<Uint8Array>>();

/**
 * Marks `res` (a live stream that ends only when the client leaves, such as
 * HTTP-FLV) to go out without chunk framing, its body ending with the
 * connection: each write then goes to the socket as it is, with no size
 * line (one send instead of two). A finite body should stay chunked: ffmpeg
 * reports a close-delimited end as an I/O error.
 */
export function endsWithConnection(res: Response): Response {
  if (res.body !== null) untilClose.add(res.body);
  return res;
}

/** Bodies made by {@link sharedBytesResponse}, and the bytes they stand for. */
const sharedBodies = new WeakMap<ReadableStream<Uint8Array>, Uint8Array>();

/**
 * A `Response` of `bytes` (shared, never modified) that Sluice's HTTP/1.1
 * server writes from the very buffer. `new Response(bytes)` copies them,
 * as the Fetch standard's body extraction says; for HLS parts and segments
 * served to a crowd, that copy and its garbage were half of the server's
 * CPU. Any other reader of the `Response` gets the same bytes through its
 * stream, which the server itself never reads.
 */
export function sharedBytesResponse(
  bytes: Uint8Array,
  init: ResponseInit,
): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
  sharedBodies.set(body, bytes);
  return new Response(body, init);
}

/** The body Deno keeps of a `Response`, when the runtime shows it. */
function innerBody(res: Response): unknown {
  const key = Object.getOwnPropertySymbols(res).find((s) =>
    s.description === "response"
  );
  if (key === undefined) return STREAM;
  const inner = (res as unknown as Record<symbol, unknown>)[key] as {
    body?: { streamOrStatic?: unknown } | null;
  } | undefined;
  if (inner === undefined || typeof inner !== "object") return STREAM;
  return inner.body?.streamOrStatic;
}

const STREAM = Symbol("a stream, or unknown");

/**
 * The bytes of a body that goes out whole, or `undefined` for a stream.
 * Deno keeps a body given as bytes or text apart from a stream; one look at
 * it tells which path to take without making a stream of every body. A
 * body held in memory gives the very buffer the `Response` holds when the
 * runtime shows it, or a copy through `Response.bytes()`; a body made by
 * {@link sharedBytesResponse} gives its bytes. When the runtime does not
 * tell, the body counts as a stream (the path that is right for any body).
 */
function wholeBody(
  res: Response,
): Uint8Array | Promise<Uint8Array> | undefined {
  const inner = innerBody(res);
  if (inner === STREAM || inner instanceof ReadableStream) {
    // Reading `res.body` of a body held in memory would make it a stream: only here.
    const stream = inner === STREAM ? res.body : inner;
    return stream === null ? undefined : sharedBodies.get(stream);
  }
  const held = inner as { body?: unknown; consumed?: unknown };
  if (
    typeof held === "object" && held !== null &&
    held.body instanceof Uint8Array && held.consumed === false
  ) {
    held.consumed = true;
    return held.body;
  }
  return res.bytes();
}

/**
 * Writes `res` (its head only for `HEAD` or a status without a body);
 * `close` asks for `Connection: close`. Resolves once written; rejects when
 * the connection fails. `canChunk` is false for an HTTP/1.0 client, whose
 * streamed body then ends with the connection (and forces `close`).
 * Returns whether the connection must close after it.
 */
export async function writeResponse(
  conn: ResponseTarget,
  res: Response,
  options: {
    head: boolean;
    close: boolean;
    canChunk: boolean;
    /** Cancels a streamed body (the connection ended). */
    signal?: AbortSignal;
    /**
     * Told when a write of a streamed body starts (`true`) and when the
     * body is awaited instead (`false`): the connection times the writes
     * only, not a live body's quiet spells.
     */
    onWrite?: (pending: boolean) => void;
  },
): Promise<boolean> {
  const noBody = withoutBody(res.status, options.head);
  const whole = wholeBody(res);
  if (whole !== undefined) {
    const body = await whole;
    // A `HEAD` answer made of a `GET` one (hono's) keeps its length only
    // in the header: the body is gone.
    const headLength = options.head && body.length === 0
      ? declaredLength(res)
      : undefined;
    await writeWhole(conn, {
      status: res.status,
      headers: res.headers,
      body,
      noBody,
      close: options.close,
      shared: false,
      ...(headLength === undefined ? {} : { length: headLength }),
    });
    return options.close;
  }
  const length = declaredLength(res);
  if (noBody) {
    await res.body?.cancel().catch(() => {});
    const framing = length === undefined
      ? { kind: "chunked" as const }
      : { kind: "length" as const, length };
    await writeAll(
      conn,
      encodeHead(responseHead(res.status, res.headers, framing, options.close)),
    );
    return options.close;
  }
  const chunked = length === undefined && options.canChunk &&
    !(res.body !== null && untilClose.has(res.body));
  const close = options.close || (length === undefined && !chunked);
  const framing = length !== undefined
    ? { kind: "length" as const, length }
    : chunked
    ? { kind: "chunked" as const }
    : { kind: "close" as const };
  await writeAll(
    conn,
    encodeHead(responseHead(res.status, res.headers, framing, close)),
  );
  if (res.body === null) return close;
  return await pipeBody(conn, res.body, chunked, length, options) || close;
}

/** The `Content-Length` a handler set, if it is a length. */
function declaredLength(res: Response): number | undefined {
  const declared = res.headers.get("content-length");
  return declared !== null && /^\d{1,15}$/.test(declared)
    ? Number(declared)
    : undefined;
}

const encoder = new TextEncoder();
const END = encoder.encode("0\r\n\r\n");
const END_AFTER = encoder.encode("\r\n0\r\n\r\n");

/**
 * Copies `body` to `conn`, chunk-framed when `chunked`; with a declared
 * `length`, a body that does not match it closes the connection (returns
 * true). Cancels `body` when the connection fails or `signal` aborts.
 */
async function pipeBody(
  conn: ResponseTarget,
  body: ReadableStream<Uint8Array>,
  chunked: boolean,
  length: number | undefined,
  options: {
    signal?: AbortSignal;
    onWrite?: (pending: boolean) => void;
  },
): Promise<boolean> {
  const { signal, onWrite } = options;
  const reader = body.getReader();
  const cancel = () => reader.cancel("the connection ended").catch(() => {});
  if (signal?.aborted) cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  // A body that fails while a write waits for a client that reads nothing
  // (an HTTP-FLV player dropped for staying behind) ends the connection
  // now: the write would wait for as long as the client holds it open.
  reader.closed.catch(() => {
    if (conn.close !== undefined) closeQuietly(conn as { close(): void });
  });
  let sent = 0;
  try {
    for (;;) {
      onWrite?.(false);
      const { value, done } = await reader.read();
      onWrite?.(true);
      if (done) break;
      if (value.length === 0) continue;
      if (length !== undefined && sent + value.length > length) {
        await reader.cancel().catch(() => {});
        return true;
      }
      // The chunk's size line (with the CRLF that ends the chunk before)
      // and its data go in two writes: no copy of the data.
      if (chunked) await writeAll(conn, sizeLine(value.length, sent > 0));
      sent += value.length;
      await writeAll(conn, value);
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
  if (chunked) await writeAll(conn, sent > 0 ? END_AFTER : END);
  return length !== undefined && sent !== length;
}

/** A chunk's size line, after the CRLF that ends the chunk before it. */
function sizeLine(size: number, after: boolean): Uint8Array {
  return encoder.encode(`${after ? "\r\n" : ""}${size.toString(16)}\r\n`);
}
