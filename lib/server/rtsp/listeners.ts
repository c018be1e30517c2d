/**
 * The RTSP server's listeners besides its RTSP port: RTSPS, whose TLS
 * sessions, once their handshake is done, go the way of plain connections
 * (RTSP, or an HTTPS tunnel when they begin with `GET `/`POST `), and the
 * plain ports that take HTTP tunnels only.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { listenTcp, type StreamConn, type TcpListener } from "../../net/tcp.ts";
import {
  listenTls,
  type TlsListenAddress,
  type TlsListener,
} from "../../net/tls.ts";

/** Where {@link listenRtsps} hands its connections and counts its failures. */
export interface RtspsOptions {
  log: Logger;
  stats: { tlsHandshakeFailures: number };
  onConnection(conn: StreamConn): void;
}

/** Listens for RTSPS on `tls`; nothing (undefined) without a certificate. */
export function listenRtsps(
  tls: TlsListenAddress | undefined,
  o: RtspsOptions,
): TlsListener | undefined {
  if (tls === undefined) return undefined;
  const { log } = o;
  const listener = listenTls({
    ...tls,
    onConnection: o.onConnection,
    onHandshakeError: (e, remote) => {
      o.stats.tlsHandshakeFailures++;
      log.info("RTSPS connection closed", {
        remote: `${remote.hostname}:${remote.port}`,
        reason: e.message,
      });
    },
    onError: (e) =>
      log.warn("Cannot accept RTSPS connection", { error: String(e) }),
  });
  log.info("RTSPS listening", {
    address: `${listener.hostname}:${listener.port}`,
    // TCP_NODELAY and stalled-handshake shutdown need FFI (see net/tls.ts)
    noDelay: listener.noDelay,
  });
  return listener;
}

/**
 * Listens on each of `addresses` for RTSP over HTTP tunnels only; when one
 * cannot be bound, those bound before it are closed again.
 */
export function listenTunnelPorts(
  addresses: readonly { hostname: string; port: number }[],
  o: { log: Logger; onConnection(conn: StreamConn): void },
): TcpListener[] {
  const listeners: TcpListener[] = [];
  try {
    for (const a of addresses) {
      const l = listenTcp({
        ...a,
        onConnection: o.onConnection,
        onError: (e) =>
          o.log.warn("Cannot accept tunnel connection", { error: String(e) }),
      });
      listeners.push(l);
      o.log.info("RTSP over HTTP tunnels listening", {
        address: `${l.hostname}:${l.port}`,
      });
    }
  } catch (e) {
    for (const l of listeners) l.close();
    throw e;
  }
  return listeners;
}
