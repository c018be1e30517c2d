/**
 * Transport negotiation of SETUP (RFC 2326 §12.39): the client's own
 * spec, completed, is the answer (ffmpeg refuses a reply that differs).
 *
 * @module
 */

import { RtspError } from "../../rtsp/error.ts";
import {
  parseTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import { Refusal } from "./reply.ts";

/** How a set-up track travels. */
export type TrackTransport =
  | { kind: "tcp"; rtpChannel: number; rtcpChannel: number; reply: Transport }
  | {
    kind: "udp";
    hostname: string;
    rtpPort: number;
    rtcpPort: number;
    reply: Transport;
  };

/**
 * The first unicast transport the client offers (the first RTP/SAVP one
 * when `srtpOnly`); 461 when there is none.
 */
export function requestedTransport(
  header: string | undefined,
  srtpOnly = false,
): Transport {
  if (header === undefined) throw new Refusal(461, "no Transport header");
  let transports: Transport[];
  try {
    transports = parseTransport(header);
  } catch (e) {
    if (e instanceof RtspError) throw new Refusal(e.status ?? 461, e.message);
    throw e;
  }
  const unicast = transports.filter((t) => t.delivery !== "multicast");
  const wanted = srtpOnly
    ? unicast.find((t) => t.profile === "SAVP")
    : unicast[0];
  if (wanted === undefined) {
    throw new Refusal(
      461,
      unicast.length > 0
        ? "SRTP is required on RTSPS: set up RTP/SAVP"
        : "only unicast transports are served",
    );
  }
  return wanted;
}

/** What the negotiation needs of the connection and the server. */
export interface TransportContext {
  /** Whether an interleaved channel is in use on the connection. */
  channelTaken(channel: number): boolean;
  /** The client's address: media goes there, never to one from a header. */
  remoteHostname: string;
  /** The server's RTP and RTCP ports. */
  serverPorts: { rtp: number; rtcp: number };
}

/** The transport answered to `t`. */
export function negotiateTransport(
  t: Transport,
  ctx: TransportContext,
): TrackTransport {
  if (t.lowerTransport === "TCP") {
    let rtp = t.interleaved?.rtp;
    if (rtp === undefined || rtp > 254) {
      rtp = 0;
      while (ctx.channelTaken(rtp) || ctx.channelTaken(rtp + 1)) rtp += 2;
    }
    const rtcp = t.interleaved?.rtcp ?? rtp + 1;
    if (ctx.channelTaken(rtp) || ctx.channelTaken(rtcp)) {
      throw new Refusal(461, `interleaved channel ${rtp} is taken`);
    }
    return {
      kind: "tcp",
      rtpChannel: rtp,
      rtcpChannel: rtcp,
      reply: { ...t, delivery: "unicast", interleaved: { rtp, rtcp } },
    };
  }
  const ports = t.clientPort;
  if (ports === undefined) {
    throw new Refusal(461, "UDP transport without client_port");
  }
  // RTP on an even port, RTCP on a higher one (RFC 3550 §11): 0-1, a
  // reversed range or an odd RTP port cannot be a client's real ports.
  if (
    ports.rtp === 0 || ports.rtp % 2 !== 0 ||
    (ports.rtcp !== undefined && ports.rtcp <= ports.rtp)
  ) {
    throw new Refusal(
      400,
      `client_port ${ports.rtp}-${
        ports.rtcp ?? ""
      } is not an even RTP port and the RTCP port above it`,
    );
  }
  return {
    kind: "udp",
    hostname: ctx.remoteHostname,
    rtpPort: ports.rtp,
    rtcpPort: ports.rtcp ?? ports.rtp + 1,
    reply: {
      ...t,
      delivery: "unicast",
      destination: undefined,
      serverPort: ctx.serverPorts,
    },
  };
}
