/**
 * Opens the byte stream an RTSP client talks over, by the URL's scheme:
 * `rtsp://` a TCP connection (port 554 unless given), `rtsps://` a TLS
 * session (port 322, RFC 7826 §19.3.1, unless given). Every way the RTSP
 * client reaches a server starts here.
 *
 * @module
 */

import { connectTcp, type StreamConn } from "../../net/tcp.ts";
import { connectTls } from "../../net/tls.ts";

/** The port of an `rtsp://` URL without one. */
export const RTSP_DEFAULT_PORT = 554;
/** The port of an `rtsps://` URL without one. */
export const RTSPS_DEFAULT_PORT = 322;

/** The URL schemes {@link dialRtsp} opens, with the colon as `URL.protocol` gives it. */
export const RTSP_SCHEMES: readonly string[] = ["rtsp:", "rtsps:"];

/** Options of {@link dialRtsp}. */
export interface DialOptions {
  /** `rtsps://`: PEM certificates trusted besides the system's roots. */
  caCerts?: string[];
}

/** Where a URL points: host (without brackets), port, and whether in TLS. */
export function rtspEndpoint(
  url: string,
): { hostname: string; port: number; secure: boolean } {
  const u = new URL(url);
  const secure = u.protocol === "rtsps:";
  const port = u.port === ""
    ? (secure ? RTSPS_DEFAULT_PORT : RTSP_DEFAULT_PORT)
    : Number(u.port);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ""), port, secure };
}

/** Connects to the server of `url` (a TCP socket, or a TLS session whose handshake is done). */
export function dialRtsp(
  url: string,
  options: DialOptions = {},
): Promise<StreamConn> {
  const { hostname, port, secure } = rtspEndpoint(url);
  return secure
    ? connectTls(hostname, port, { caCerts: options.caCerts })
    : connectTcp(hostname, port);
}
