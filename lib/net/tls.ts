/**
 * TLS sockets: the RTSPS and RTMPS listeners (`Deno.listenTls`, PEM read
 * from files) and client connections to `rtsps://` and `rtmps://` servers.
 *
 * A TLS listener accepts at once and runs each handshake apart, bounded in
 * time: a peer that stalls, sends garbage instead of a ClientHello, or
 * speaks plain RTSP or RTMP to the TLS port is closed, reported to
 * `onHandshakeError` and disturbs nothing else.
 *
 * TCP_NODELAY: Deno sets no socket option on sockets `Deno.listenTls`
 * accepts or `Deno.connectTls` opens (strace shows no `setsockopt` beyond
 * SO_REUSEADDR on the listener), and `Deno.TlsConn` has no `setNoDelay`.
 * Where FFI is granted (Linux, `--allow-ffi`, as `deno task start` runs),
 * Sluice sets it on the TLS listener's socket, which Linux copies to every
 * socket accepted from it, and on each client socket after the handshake
 * (`_tls_socket.ts`); without FFI, TLS sockets keep Nagle's algorithm.
 * A stalled handshake is shut down the same way: Deno's handshake task
 * keeps a silent peer's socket open past `close()`.
 *
 * @module
 */

import { closeQuietly, listenError, type TcpListener } from "./tcp.ts";
import {
  setListenerNoDelay,
  setSocketNoDelay,
  shutdownSocket,
  socketNoDelay,
} from "./_tls_socket.ts";

/** A certificate chain and its private key, PEM text. */
export interface TlsKeyPair {
  cert: string;
  key: string;
}

/** Where a TLS listener listens, with what certificate. */
export interface TlsListenAddress extends TlsKeyPair {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** A handshake not done within this closes that connection. @default {10000} */
  handshakeTimeoutMs?: number;
}

/** Options of {@link listenTls}. */
export interface ListenTlsOptions extends TlsListenAddress {
  /** Called for every connection whose handshake finished. */
  onConnection(conn: Deno.TlsConn): void;
  /** Called when a handshake fails or times out; the connection is closed already. */
  onHandshakeError?(error: Error, remote: Deno.NetAddr): void;
  /** Called when accepting fails for a reason other than closing. */
  onError?(error: unknown): void;
}

/** A listening TLS socket. */
export interface TlsListener extends TcpListener {
  /**
   * Whether accepted sockets get TCP_NODELAY: set on the listener through
   * FFI (Linux with `--allow-ffi`), which Linux copies to accepted sockets.
   */
  readonly noDelay: boolean;
}

/** The handshake time allowed by default: a real client needs a few round trips. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Reads a certificate and key pair from PEM files.
 *
 * @throws {Error} naming the file that cannot be read or holds no PEM block
 */
export function readTlsKeyPair(certFile: string, keyFile: string): TlsKeyPair {
  return {
    cert: readPemFile(certFile, "certificate"),
    key: readPemFile(keyFile, "private key"),
  };
}

/**
 * The PEM text of `file`, checked to hold at least one PEM block.
 *
 * @throws {Error} when the file cannot be read or holds no PEM block
 */
export function readPemFile(file: string, what = "PEM"): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw new Error(
      `Cannot read ${what} file "${file}": ${
        e instanceof Error ? e.message : e
      }`,
      { cause: e },
    );
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    throw new Error(`Cannot read ${what} file "${file}": no PEM block in it`);
  }
  return text;
}

/**
 * Listens for TLS and accepts until closed; every connection is handed on
 * once its handshake finished within the timeout.
 *
 * @throws {Error} naming the address when it cannot be bound, or when the
 * certificate or key is not usable
 */
export function listenTls(options: ListenTlsOptions): TlsListener {
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      transport: "tcp",
      cert: options.cert,
      key: options.key,
    });
  } catch (e) {
    throw listenError("TLS", options.hostname, options.port, e);
  }
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  let closed = false;
  (async () => {
    while (!closed) {
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closed || e instanceof Deno.errors.BadResource) return;
        options.onError?.(e);
        continue;
      }
      // Each handshake on its own: a stalled peer holds up nobody else.
      void handshake(conn, timeoutMs).then(
        () => {
          if (closed) closeQuietly(conn);
          else options.onConnection(conn);
        },
        (e: Error) => {
          closeQuietly(conn);
          // Deno's handshake task holds a silent peer's socket past close().
          if (e instanceof TlsHandshakeTimeout) {
            shutdownSocket(conn.localAddr, conn.remoteAddr);
          }
          options.onHandshakeError?.(e, conn.remoteAddr);
        },
      );
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  const noDelay = setListenerNoDelay(addr.hostname, addr.port);
  return {
    hostname: addr.hostname,
    port: addr.port,
    noDelay,
    close() {
      if (closed) return;
      closed = true;
      listener.close();
    },
  };
}

/** The error of a handshake that failed or took too long. */
export class TlsHandshakeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsHandshakeError";
  }
}

/** A handshake that did not finish in time. */
export class TlsHandshakeTimeout extends TlsHandshakeError {
  constructor(timeoutMs: number) {
    super(`Cannot finish TLS handshake: nothing within ${timeoutMs} ms`);
    this.name = "TlsHandshakeTimeout";
  }
}

/** Runs the server side of the handshake, rejecting after `timeoutMs`. */
async function handshake(conn: Deno.TlsConn, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TlsHandshakeTimeout(timeoutMs)),
      timeoutMs,
    );
  });
  const done = conn.handshake();
  // The losing side of the race settles after the close: never unhandled.
  done.catch(() => {});
  try {
    await Promise.race([done, timeout]);
  } catch (e) {
    if (e instanceof TlsHandshakeError) throw e;
    throw new TlsHandshakeError(
      `Cannot finish TLS handshake: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link connectTls}. */
export interface ConnectTlsOptions {
  /**
   * PEM certificates trusted besides the system's roots: a private CA, or a
   * server's self-signed certificate itself (it must not be marked as a CA).
   */
  caCerts?: string[];
}

/**
 * Opens a TLS connection and finishes its handshake (the certificate
 * checked for `hostname`); TCP_NODELAY is set where FFI reaches the socket.
 */
export async function connectTls(
  hostname: string,
  port: number,
  options: ConnectTlsOptions = {},
): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname,
    port,
    caCerts: options.caCerts,
  });
  try {
    await conn.handshake();
  } catch (e) {
    closeQuietly(conn);
    throw e;
  }
  // Requests and media batches are single writes: none should wait for an ACK.
  setSocketNoDelay(
    conn.localAddr as Deno.NetAddr,
    conn.remoteAddr as Deno.NetAddr,
  );
  return conn;
}

/**
 * Whether `conn`'s TCP socket has TCP_NODELAY set (read through FFI);
 * undefined where that cannot be told.
 */
export function hasNoDelay(
  conn: Pick<Deno.Conn, "localAddr" | "remoteAddr">,
): boolean | undefined {
  return socketNoDelay(
    conn.localAddr as Deno.NetAddr,
    conn.remoteAddr as Deno.NetAddr,
  );
}
