/**
 * How the RTSP client reaches a server, by the URL's scheme: `rtsp://` over
 * TCP (port 554 unless given), `rtsps://` over a TLS session (port 322,
 * RFC 7826 §19.3.1, unless given), `rtsph://` tunnelled in HTTP and
 * `rtspsh://` tunnelled in HTTPS (GStreamer's names; the same default ports
 * as without the tunnel). Requests name the server with `rtsp://` URLs, or
 * `rtsps://` when in TLS, whichever way they travel. Every way the RTSP
 * client reaches a server starts here.
 *
 * @module
 */

import { connectTcp, type StreamConn } from "../../net/tcp.ts";
import { connectTls } from "../../net/tls.ts";
import { openTunnel } from "./tunnel.ts";

/** The port of an `rtsp://` (or `rtsph://`) URL without one. */
export const RTSP_DEFAULT_PORT = 554;
/** The port of an `rtsps://` (or `rtspsh://`) URL without one. */
export const RTSPS_DEFAULT_PORT = 322;

/** The URL schemes the client connects with, as `URL.protocol` gives them. */
export const RTSP_SCHEMES = ["rtsp:", "rtsps:", "rtsph:", "rtspsh:"] as const;
/** One of {@link RTSP_SCHEMES}. */
export type RtspScheme = typeof RTSP_SCHEMES[number];

/** Options of {@link dialRtsp}. */
export interface DialOptions {
  /** TLS (`rtsps://`, `rtspsh://`): PEM certificates trusted besides the system's roots. */
  caCerts?: string[];
}

/** Whether `protocol` (as `URL.protocol` gives it) is one the client connects with. */
export function isRtspScheme(protocol: string): protocol is RtspScheme {
  return (RTSP_SCHEMES as readonly string[]).includes(protocol);
}

/** Whether RTP must travel interleaved on the connection (a tunnel has no UDP). */
export function isTunnel(scheme: RtspScheme): boolean {
  return scheme === "rtsph:" || scheme === "rtspsh:";
}

/** Whether the scheme's connections are TLS sessions. */
export function isSecure(scheme: RtspScheme): boolean {
  return scheme === "rtsps:" || scheme === "rtspsh:";
}

/** The scheme that is TLS or not and tunnelled or not. */
export function rtspScheme(secure: boolean, tunnel: boolean): RtspScheme {
  if (tunnel) return secure ? "rtspsh:" : "rtsph:";
  return secure ? "rtsps:" : "rtsp:";
}

/** Where a URL points for `scheme`: host (without brackets), port, and whether in TLS. */
export function rtspEndpoint(
  scheme: RtspScheme,
  url: URL,
): { hostname: string; port: number; secure: boolean } {
  const secure = isSecure(scheme);
  const port = url.port === ""
    ? (secure ? RTSPS_DEFAULT_PORT : RTSP_DEFAULT_PORT)
    : Number(url.port);
  return { hostname: url.hostname.replace(/^\[|\]$/g, ""), port, secure };
}

/**
 * Connects to the server of `url` the way `scheme` says: a TCP socket, a TLS
 * session whose handshake is done, or a tunnel over two of either.
 */
export function dialRtsp(
  scheme: RtspScheme,
  url: URL,
  timeoutMs: number,
  options: DialOptions = {},
): Promise<StreamConn> {
  const { hostname, port, secure } = rtspEndpoint(scheme, url);
  const dial = () =>
    secure
      ? connectTls(hostname, port, { caCerts: options.caCerts })
      : connectTcp(hostname, port);
  if (!isTunnel(scheme)) return dial();
  return openTunnel(dial, {
    target: `${url.pathname || "/"}${url.search}`,
    host: url.host,
    timeoutMs,
  });
}
