/**
 * TCP sockets: every `Deno.listen`/`Deno.connect` of Sluice goes through here.
 *
 * @module
 */

import { listenFd } from "./fd_listener.ts";
import type { StreamConn } from "./stream_conn.ts";

export type { StreamConn } from "./stream_conn.ts";

/** A listening TCP socket and the address it got. */
export interface TcpListener {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; open connections are their owners' to close. */
  close(): void;
}

/** Options of {@link listenTcp}. */
export interface ListenTcpOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Called for every accepted connection, with TCP_NODELAY already set. */
  onConnection(conn: StreamConn): void;
  /** Called when accepting fails for a reason other than closing. */
  onError?(error: unknown): void;
  /**
   * Accept with Sluice's own FFI sockets where they can be used (Linux,
   * `--allow-ffi`, an IP literal): one epoll wait for every connection, a
   * few hundred bytes each instead of a Deno resource and a pending
   * operation (`fd_conn.ts`). Otherwise, or with false, `Deno.listen`.
   * @default {true}
   */
  ownSockets?: boolean;
}

/**
 * Listens and accepts until closed. Every socket gets TCP_NODELAY: small
 * replies (connect, createStream, play) must not wait for the peer's delayed
 * ACK.
 */
export function listenTcp(options: ListenTcpOptions): TcpListener {
  if (options.ownSockets !== false) {
    let own: TcpListener | null;
    try {
      own = listenFd(options);
    } catch (e) {
      throw listenError("TCP", options.hostname, options.port, e);
    }
    if (own !== null) return own;
  }
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
    });
  } catch (e) {
    throw listenError("TCP", options.hostname, options.port, e);
  }
  let closed = false;
  (async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closed || e instanceof Deno.errors.BadResource) return;
        options.onError?.(e);
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // the peer may already be gone; the read loop will notice
      }
      options.onConnection(conn);
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    close() {
      if (closed) return;
      closed = true;
      listener.close();
    },
  };
}

/** Opens a TCP connection with TCP_NODELAY set. */
export async function connectTcp(
  hostname: string,
  port: number,
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname, port, transport: "tcp" });
  conn.setNoDelay(true);
  return conn;
}

/** Writes all of `bytes`, looping over partial writes. */
export async function writeAll(
  conn: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/** "host:port" of a connection's remote end. */
export function remoteOf(conn: Pick<StreamConn, "remoteAddr">): string {
  const a = conn.remoteAddr as Deno.NetAddr;
  return a.hostname.includes(":")
    ? `[${a.hostname}]:${a.port}`
    : `${a.hostname}:${a.port}`;
}

/** Closes a connection, ignoring "already closed". */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * Whether `e` only says the connection is gone: reset or closed by the peer,
 * or closed by Sluice while a read or write was pending. Such an end is
 * ordinary and logged at debug level, never as an error.
 */
export function isConnectionEnd(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.BrokenPipe;
}

/** The error for a socket that cannot be bound: it names the address. */
export function listenError(
  transport: "TCP" | "UDP" | "TLS",
  hostname: string,
  port: number,
  cause: unknown,
): Error {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `Cannot listen on ${transport} ${hostname}:${port}: ${why}`,
    { cause },
  );
}
