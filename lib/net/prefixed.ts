/**
 * Looking at the first bytes of a connection before deciding who reads it:
 * the RTSP port tells RTSP from an HTTP tunnel that way. The bytes looked at
 * are pushed back, so the reader chosen sees the connection from its start.
 * A REGISTER exchange likewise hands the next owner of its connection
 * whatever followed the answer in the last read.
 *
 * @module
 */

import type { StreamConn } from "./tcp.ts";

const EMPTY = new Uint8Array(0);

/** A connection whose first reads return `prefix`, then what `conn` reads. */
export class PrefixedConn implements StreamConn {
  readonly #conn: StreamConn;
  #prefix: Uint8Array;
  /** The socket's own, where it can send from a file (RTSP readers share a tick's batch so). */
  readonly trySendFile?: (fd: number, offset: number, length: number) => number;
  /** The socket's own, where it can send from a file. */
  readonly sendFile?: (
    fd: number,
    offset: number,
    length: number,
  ) => Promise<number>;

  constructor(conn: StreamConn, prefix: Uint8Array) {
    this.#conn = conn;
    this.#prefix = prefix;
    this.trySendFile = conn.trySendFile?.bind(conn);
    this.sendFile = conn.sendFile?.bind(conn);
  }

  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#prefix.length === 0) return this.#conn.read(p);
    const n = Math.min(p.length, this.#prefix.length);
    p.set(this.#prefix.subarray(0, n));
    // an empty view would still hold the bytes for the connection's life
    this.#prefix = n === this.#prefix.length ? EMPTY : this.#prefix.subarray(n);
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  get bytesSent(): number | undefined {
    return this.#conn.bytesSent;
  }

  get readEach():
    | ((onData: (chunk: Uint8Array) => boolean | void) => Promise<void>)
    | undefined {
    const conn = this.#conn;
    if (conn.readEach === undefined) return undefined;
    return (onData) => {
      const prefix = this.#prefix;
      this.#prefix = EMPTY;
      if (prefix.length > 0 && onData(prefix) === false) {
        return Promise.resolve();
      }
      return conn.readEach!(onData);
    };
  }

  tryWrite(p: Uint8Array): number {
    return this.#conn.tryWrite?.(p) ?? -1;
  }

  close(): void {
    this.#prefix = EMPTY;
    this.#conn.close();
  }
}

/** Options of {@link peek}. */
export interface PeekOptions<T> {
  /** What the bytes so far say, or `undefined` to read more. */
  decide(bytes: Uint8Array): T | undefined;
  /** Bytes read before giving up on a decision. */
  maxBytes: number;
  /** Time to wait for the bytes; the connection is closed after it. */
  timeoutMs: number;
}

/**
 * Reads `conn` until `decide` says what it is; the bytes read so far come
 * back with it. `null` when the peer closed, sent `maxBytes` without a
 * decision, or sent too little within `timeoutMs` (the connection is then
 * closed). A failed read rejects.
 */
export async function peek<T>(
  conn: StreamConn,
  options: PeekOptions<T>,
): Promise<{ what: T; bytes: Uint8Array } | null> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }, options.timeoutMs);
  try {
    let bytes = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    while (bytes.length < options.maxBytes) {
      const n = await conn.read(buf);
      if (n === null) return null;
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buf.subarray(0, n), bytes.length);
      bytes = next;
      const what = options.decide(bytes);
      if (what !== undefined) return { what, bytes };
    }
    return null;
  } catch (e) {
    if (timedOut) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
