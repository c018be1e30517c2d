/**
 * One registration of a path at a central server (the `register` path
 * key): Sluice connects out, REGISTERs the path with `reuse_connection`,
 * and its own RTSP server answers the central server's DESCRIBE, SETUP and
 * PLAY on that connection. A camera-side Sluice behind NAT reaches a
 * central one this way with no port open.
 *
 * @module
 */

import { registerStream } from "../client/rtsp/register.ts";
import { rtspPath } from "../rtsp/url.ts";
import type { StreamConn } from "../net/tcp.ts";
import {
  type Connected,
  DEFAULT_TIMEOUT_MS,
  type RelayHandle,
} from "./_relay.ts";

/** The RTSP server that answers on the registered connection. */
export interface RegisterServer {
  /** Serves RTSP on `conn`, where only `path` may be read; resolves when it ends. */
  serve(conn: StreamConn, path: string): Promise<void>;
  /** The port our RTSP server listens on (it goes in the registered URL). */
  readonly port: number;
}

/** Options of {@link connectRegister}. */
export interface RegisterOptions {
  server: RegisterServer;
  /** The connect and the REGISTER must finish within this. @default {10000} */
  timeoutMs?: number;
}

/**
 * The name a path is registered under at `url`
 * (`rtsp://[user:pass@]host[:port][/name]`): the URL's path, else the
 * path itself; `undefined` when the URL's path is not a valid one.
 */
export function registerName(url: string, path: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== "rtsp:" || u.hostname === "") return undefined;
  const name = rtspPath(url); // as written: URL resolves `..`
  return name === "" ? path : name;
}

/**
 * Registers the relay's path at the server at `url` and serves it there;
 * resolves once the REGISTER was accepted, `ended` settling when the
 * connection goes.
 */
export async function connectRegister(
  r: RelayHandle,
  url: string,
  o: RegisterOptions,
): Promise<Connected> {
  const path = r.state.path;
  const name = registerName(url, path);
  if (name === undefined) {
    throw new TypeError(`Cannot register at "${r.state.url}": bad URL`);
  }
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  const link = await registerStream(url, {
    // encoded as a URL path: the central server decodes it once
    proxyUrlSuffix: name.split("/").map(encodeURIComponent).join("/"),
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    streamUrl: (local) => {
      const host = local.hostname.includes(":")
        ? `[${local.hostname}]`
        : local.hostname;
      return `rtsp://${host}:${o.server.port}/${encoded}`;
    },
  });
  r.closeCurrent = () => {
    try {
      link.conn.close();
    } catch {
      // already closed
    }
  };
  return { ended: o.server.serve(link.conn, path) };
}
