/**
 * Transport negotiation of SETUP (RFC 2326 §12.39): the client's own
 * spec, completed, is the answer (ffmpeg refuses a reply that differs).
 * Multicast is the exception: the server chooses group, ports and TTL.
 *
 * @module
 */

import { RtspError } from "../../rtsp/error.ts";
import {
  parseTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import type { MulticastGroup } from "./multicast.ts";
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
  }
  | {
    kind: "multicast";
    group: string;
    rtpPort: number;
    rtcpPort: number;
    ttl: number;
    reply: Transport;
  };

/**
 * The first transport the client offers that Sluice serves (unicast over
 * UDP or TCP, plain RTP/AVP multicast over UDP; the first unicast RTP/SAVP
 * one when `srtpOnly`); 461 when there is none.
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
  // A group's packets are the plain ones: RTP/SAVP multicast is not served (461).
  const servable = transports.filter((t) =>
    t.delivery !== "multicast" ||
    (t.lowerTransport === "UDP" && t.profile !== "SAVP")
  );
  const wanted = srtpOnly
    ? servable.find((t) => t.profile === "SAVP")
    : servable[0];
  if (wanted === undefined) {
    throw new Refusal(461, refusalReason(transports, servable, srtpOnly));
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
  /** The group the server chose for the track; undefined when none is left. */
  multicastGroup?: () => MulticastGroup | undefined;
}

/** The transport answered to `t`. */
export function negotiateTransport(
  t: Transport,
  ctx: TransportContext,
): TrackTransport {
  if (t.delivery === "multicast") {
    const m = ctx.multicastGroup?.();
    if (m === undefined) {
      throw new Refusal(461, "no multicast group is free");
    }
    return {
      kind: "multicast",
      ...m,
      // The server's choice whatever the client named (destination, port,
      // ttl): media never goes where a request says (DESIGN.md, bad input).
      reply: {
        lowerTransport: "UDP",
        delivery: "multicast",
        destination: m.group,
        port: { rtp: m.rtpPort, rtcp: m.rtcpPort },
        ttl: m.ttl,
        ...(t.mode === undefined ? {} : { mode: t.mode }),
      },
    };
  }
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

/** Why none of the offered transports is served. */
function refusalReason(
  offered: Transport[],
  servable: Transport[],
  srtpOnly: boolean,
): string {
  if (srtpOnly && servable.length > 0) {
    return "SRTP is required on RTSPS: set up RTP/SAVP";
  }
  if (offered.some((t) => t.delivery === "multicast" && t.profile === "SAVP")) {
    return "SRTP is not served over multicast";
  }
  return "multicast is served over UDP only";
}
