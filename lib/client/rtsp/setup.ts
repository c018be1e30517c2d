/**
 * SETUP of one track from the client side: the Transport asked for (UDP
 * ports bound as an even/odd pair, interleaved channels, or multicast),
 * and what the server's answer leaves of it (for multicast, the group and
 * ports the server chose, joined here).
 *
 * @module
 */

import { closeQuietly } from "../../net/tcp.ts";
import { isMulticastV4, joinMulticast } from "../../net/multicast.ts";
import { listenUdpPair, type UdpPair } from "../../net/udp.ts";
import { encodeRtcp } from "../../rtp/rtcp.ts";
import {
  parseTransport,
  stringifyTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import { RtspClientError, type RtspConnection } from "./connection.ts";

/** A set-up track: how its RTP travels and what the server answered. */
export interface SetupTrack {
  trackId: number;
  transport: Transport;
  udp?: UdpPair;
  /** Interleaved channels (TCP): as answered, or as asked when the answer leaves them out. */
  channels?: { rtp: number; rtcp: number };
  /** RTP source and highest sequence seen, for receiver reports. */
  ssrc?: number;
  seq?: number;
  cycles: number;
  packets: number;
}

/**
 * SETUP of `url` as track `trackId`: over UDP on a fresh port pair, or
 * interleaved on `channel` and the one after it. Throws an
 * {@link RtspClientError} with the server's status when it refuses.
 */
export async function setupTrack(
  connection: RtspConnection,
  url: string,
  options: {
    trackId: number;
    udp: boolean;
    mode: "play" | "record";
    channel: number;
    /** Set up RTP/SAVP (SRTP). */
    srtp?: boolean;
    /** Ask for multicast (the server chooses group and ports). */
    multicast?: boolean;
  },
): Promise<SetupTrack> {
  if (options.multicast) return await setupMulticast(connection, url, options);
  const pair = options.udp ? bindPair() : undefined;
  const request: Transport = pair !== undefined
    ? {
      lowerTransport: "UDP",
      delivery: "unicast",
      clientPort: { rtp: pair.port, rtcp: pair.port + 1 },
    }
    : {
      lowerTransport: "TCP",
      delivery: "unicast",
      interleaved: { rtp: options.channel, rtcp: options.channel + 1 },
    };
  // No mode=play: some servers refuse it (INTEROP.md); mode=record where it is needed.
  if (options.mode === "record") request.mode = "record";
  if (options.srtp === true) request.profile = "SAVP";
  let reply: Transport = request;
  try {
    const r = await connection.request("SETUP", url, {
      Transport: stringifyTransport(request),
    });
    if (r.status !== 200) {
      throw new RtspClientError(
        "SETUP",
        `${url}: server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    try {
      reply = parseTransport(r.headers.get("Transport") ?? "")[0] ?? request;
    } catch {
      // servers that answer a malformed Transport: keep what we asked for
    }
  } catch (e) {
    closePair(pair);
    throw e;
  }
  const track: SetupTrack = {
    trackId: options.trackId,
    transport: reply,
    udp: pair,
    cycles: 0,
    packets: 0,
  };
  if (pair === undefined) {
    // Some servers leave interleaved= out of the reply (Dahua): the channels asked for stand.
    const ch = reply.interleaved ?? request.interleaved!;
    track.channels = { rtp: ch.rtp, rtcp: ch.rtcp ?? ch.rtp + 1 };
  }
  return track;
}

/** SETUP of a multicast track: the server's group and ports, joined. */
async function setupMulticast(
  connection: RtspConnection,
  url: string,
  options: { trackId: number },
): Promise<SetupTrack> {
  const request: Transport = { lowerTransport: "UDP", delivery: "multicast" };
  const r = await connection.request("SETUP", url, {
    Transport: stringifyTransport(request),
  });
  if (r.status !== 200) {
    throw new RtspClientError(
      "SETUP",
      `${url}: server answered ${r.status} ${r.reason}`,
      r.status,
    );
  }
  let reply: Transport | undefined;
  try {
    reply = parseTransport(r.headers.get("Transport") ?? "")[0];
  } catch {
    // refused below
  }
  const group = reply?.destination ?? "";
  const port = reply?.port;
  if (
    reply?.delivery !== "multicast" || !isMulticastV4(group) ||
    port === undefined || port.rtp === 0
  ) {
    throw new RtspClientError(
      "SETUP",
      `${url}: the server answered no multicast group and ports`,
      461,
    );
  }
  const rtcpPort = port.rtcp ?? port.rtp + 1;
  const rtp = await joinMulticast(group, port.rtp);
  let rtcp: Deno.DatagramConn;
  try {
    rtcp = await joinMulticast(group, rtcpPort);
  } catch (e) {
    closeQuietly(rtp);
    throw e;
  }
  return {
    trackId: options.trackId,
    transport: reply,
    udp: { rtp, rtcp, port: port.rtp },
    cycles: 0,
    packets: 0,
  };
}

/**
 * Where a UDP track's RTP or RTCP goes: the server's ports on its host, or
 * for multicast the group (receiver reports go to every member, RFC 3550 §6).
 */
export function udpDestination(
  track: SetupTrack,
  serverHostname: string,
  rtcp: boolean,
): Deno.NetAddr | undefined {
  const t = track.transport;
  if (t.delivery === "multicast" && t.destination !== undefined) {
    const port = rtcp ? t.port?.rtcp ?? (t.port?.rtp ?? 0) + 1 : t.port?.rtp;
    if (port === undefined) return undefined;
    return { transport: "udp", hostname: t.destination, port };
  }
  const port = rtcp ? t.serverPort?.rtcp : t.serverPort?.rtp;
  if (port === undefined) return undefined;
  return { transport: "udp", hostname: serverHostname, port };
}

/** Counts an RTP packet of `track` for receiver reports: its source and extended highest sequence. */
export function countRtp(track: SetupTrack, data: Uint8Array): void {
  if (data.length < 12) return;
  const seq = (data[2]! << 8) | data[3]!;
  if (track.seq !== undefined && seq < track.seq && track.seq - seq > 0x8000) {
    track.cycles++;
  }
  track.seq = seq;
  track.ssrc =
    ((data[8]! << 24) | (data[9]! << 16) | (data[10]! << 8) | data[11]!) >>> 0;
  track.packets++;
}

/**
 * The receiver report of `track` from `ourSsrc` (RFC 3550 §6.4.2), once
 * RTP has come: cameras that hear nothing from a receiver stop sending.
 */
export function receiverReport(
  track: SetupTrack,
  ourSsrc: number,
): Uint8Array | undefined {
  if (track.ssrc === undefined || track.seq === undefined) return undefined;
  return encodeRtcp([{
    kind: "rr",
    ssrc: ourSsrc,
    reports: [{
      ssrc: track.ssrc,
      fractionLost: 0,
      cumulativeLost: 0,
      highestSequence: ((track.cycles << 16) | track.seq) >>> 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    }],
  }]);
}

/** Binds a track's even/odd port pair. */
function bindPair(): UdpPair {
  const pair = listenUdpPair("0.0.0.0");
  if (pair === undefined) {
    throw new RtspClientError("SETUP", "no free even/odd UDP port pair");
  }
  return pair;
}

/** Closes a track's UDP sockets. */
export function closePair(pair: UdpPair | undefined): void {
  if (pair === undefined) return;
  closeQuietly(pair.rtp);
  closeQuietly(pair.rtcp);
}
