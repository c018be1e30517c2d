/**
 * Sluice's own HTTP/1.1 server on its TCP listener: a fetch-style handler
 * (`Request` → `Response`, as for `Deno.serve`) served without hyper and
 * without a `ReadableStream` per body held in memory. See
 * {@link Http1Connection} for what one connection does.
 *
 * @module
 */

import { listenTcp, type StreamConn } from "../tcp.ts";
import {
  Http1Connection,
  type Http1ConnectionOptions,
  type Http1Handler,
} from "./connection.ts";

/** Options of {@link serveHttp1}. */
export interface ServeHttp1Options
  extends Omit<Http1ConnectionOptions, "scheme" | "defaultHost"> {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  handler: Http1Handler;
}

/** A listening HTTP/1.1 server. */
export interface Http1Server {
  readonly addr: { hostname: string; port: number };
  /** Connections open now. */
  readonly connections: number;
  /**
   * Stops accepting and closes idle connections; the others close after
   * their exchange in progress. Resolves when every connection is closed.
   */
  shutdown(): Promise<void>;
  /** Serves one more connection (one accepted elsewhere, or a TLS one). */
  serve(conn: StreamConn, scheme?: "http" | "https"): void;
}

/** Listens on `hostname:port` and serves HTTP/1.1 there. */
export function serveHttp1(options: ServeHttp1Options): Http1Server {
  const connections = new Set<Http1Connection>();
  let shuttingDown = false;
  const serve = (conn: StreamConn, scheme: "http" | "https" = "http") => {
    if (shuttingDown) {
      try {
        conn.close();
      } catch {
        // already gone
      }
      return;
    }
    const c = new Http1Connection(conn, {
      ...options,
      scheme,
      defaultHost: authority,
    });
    connections.add(c);
    c.done.then(() => connections.delete(c));
  };
  const listener = listenTcp({
    hostname: options.hostname,
    port: options.port,
    onConnection: (conn) => serve(conn),
    onError: options.onError,
  });
  const authority = listener.hostname.includes(":")
    ? `[${listener.hostname}]:${listener.port}`
    : `${listener.hostname}:${listener.port}`;
  return {
    addr: { hostname: listener.hostname, port: listener.port },
    get connections() {
      return connections.size;
    },
    serve,
    async shutdown() {
      shuttingDown = true;
      listener.close();
      for (const c of connections) c.drain();
      await Promise.all([...connections].map((c) => c.done));
    },
  };
}
