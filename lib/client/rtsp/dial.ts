/**
 * How the RTSP client reaches a server, by the URL's scheme: `rtsp://` over
 * TCP, `rtsph://` tunnelled in HTTP. Requests name the server with
 * `rtsp://` URLs whichever way they travel.
 *
 * @module
 */

import { connectTcp, type StreamConn } from "../../net/tcp.ts";
import { openTunnel } from "./tunnel.ts";

/** The URL schemes the client connects with. */
export const RTSP_SCHEMES = ["rtsp:", "rtsph:"] as const;
/** One of {@link RTSP_SCHEMES}. */
export type RtspScheme = typeof RTSP_SCHEMES[number];

/** Whether `protocol` (as `URL.protocol` gives it) is one the client connects with. */
export function isRtspScheme(protocol: string): protocol is RtspScheme {
  return (RTSP_SCHEMES as readonly string[]).includes(protocol);
}

/** Whether RTP must travel interleaved on the connection (a tunnel has no UDP). */
export function isTunnel(scheme: RtspScheme): boolean {
  return scheme === "rtsph:";
}

/**
 * Connects to the server of `url` (an `rtsp://` URL as requests name it)
 * the way `scheme` says; 554 is the port when the URL gives none.
 */
export function dialRtsp(
  scheme: RtspScheme,
  url: URL,
  timeoutMs: number,
): Promise<StreamConn> {
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port === "" ? 554 : Number(url.port);
  const tcp = () => connectTcp(hostname, port);
  switch (scheme) {
    case "rtsp:":
      return tcp();
    case "rtsph:":
      return openTunnel(tcp, {
        target: `${url.pathname || "/"}${url.search}`,
        host: url.host,
        timeoutMs,
      });
  }
}
