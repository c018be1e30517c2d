/**
 * SETUP: a track of a stream to play, or of an announced stream to record,
 * joins a session (made now when the request has none), with the transport
 * negotiated for it.
 *
 * @module
 */

import {
  stringifyTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { resolveControl, sameResource } from "../../rtsp/url.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { authorize, pathOf } from "./access.ts";
import { Refusal, type Reply, sessionHeader } from "./reply.ts";
import type { Session } from "./sessions.ts";
import { SrtpContext } from "../../srtp/context.ts";
import { negotiateTransport, requestedTransport } from "./transport.ts";

/** Most sessions one connection may hold (each SETUP without a Session makes one). */
const MAX_SESSIONS_PER_CONNECTION = 16;

/**
 * SETUP of one track, in `session` or in a new one. The first multicast
 * SETUP waits for the multicast senders' sockets to open.
 */
export function setup(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  session: Session | undefined,
): Reply | Promise<Reply> {
  const wanted = requestedTransport(
    req.headers.getOne("Transport"),
    conn.secure === true && server.config.srtp === "required",
  );
  if (wanted.delivery !== "multicast") {
    return setupTrack(server, conn, req, session, wanted);
  }
  const multicast = server.multicast;
  if (multicast === undefined) {
    throw new Refusal(461, "multicast is not served here");
  }
  return multicast.open().then(
    () => setupTrack(server, conn, req, session, wanted),
    (e) => {
      throw new Refusal(461, `cannot send multicast: ${String(e)}`);
    },
  );
}

async function setupTrack(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  session: Session | undefined,
  wanted: Transport,
): Promise<Reply> {
  const srtp = wanted.profile === "SAVP";
  const match = matchAnnounced(conn, req.url);
  const record = wanted.mode === "record" || session?.mode === "record" ||
    (match !== undefined && wanted.mode !== "play");
  if (session !== undefined && session.state !== "ready") {
    throw new Refusal(455, `SETUP while ${session.state}`);
  }
  let path: string;
  let trackId: number;
  if (record) {
    if (match === undefined) {
      throw new Refusal(404, "SETUP of a track that was not announced");
    }
    path = match.path;
    trackId = match.trackId;
    if (session !== undefined && session.mode !== "record") {
      throw new Refusal(455, "a play session cannot record");
    }
  } else {
    path = pathOf(req.url);
    const control = /(?:^|\/)trackID=(\d+)$/.exec(path);
    if (control !== null) path = path.slice(0, control.index);
    trackId = control === null ? -1 : Number(control[1]);
    await authorize(server, conn, req, path, "read");
    if (
      session !== undefined &&
      (session.mode !== "play" || session.path !== path)
    ) {
      throw new Refusal(455, "SETUP of another path in this session");
    }
  }
  const multicast = wanted.delivery === "multicast";
  if (multicast && server.multicast !== undefined) {
    if (record) throw new Refusal(461, "multicast is for players only");
    if (
      wanted.destination !== undefined || wanted.ttl !== undefined ||
      wanted.port !== undefined
    ) {
      // Never honoured: the server chooses where media goes (RFC 2326 §12.39
      // lets it refuse; the server's choice is answered, as gst-rtsp-server does).
      server.multicast.stats.overridden++;
      conn.log.info("multicast SETUP named its own destination, port or TTL", {
        destination: wanted.destination?.slice(0, 64),
        port: wanted.port?.rtp,
        ttl: wanted.ttl,
      });
    }
  }
  const first = session?.tracks.values().next().value;
  if (
    first !== undefined && (first.transport.kind === "multicast") !== multicast
  ) {
    throw new Refusal(461, "a session is either multicast or unicast");
  }
  if (session !== undefined && session.tracks.has(trackId)) {
    throw new Refusal(455, `track ${trackId} is already set up`);
  }
  if (
    first !== undefined && (first.transport.reply.profile === "SAVP") !== srtp
  ) {
    throw new Refusal(
      461,
      "the tracks of a session use one profile, RTP/AVP or RTP/SAVP",
    );
  }
  const reader = record && srtp ? recordSrtp(conn, trackId) : undefined;
  if (
    session === undefined && conn.sessions.size >= MAX_SESSIONS_PER_CONNECTION
  ) {
    throw new Refusal(453, "too many sessions on this connection");
  }
  const transport = negotiateTransport(wanted, {
    channelTaken: (ch) => conn.channels.has(ch),
    remoteHostname: conn.remoteHostname,
    serverPorts: server.serverPorts,
    multicastGroup: () => server.multicast?.group(path, trackId),
  });
  const s = session ??
    server.sessions.create(conn, path, record ? "record" : "play");
  if (session === undefined) {
    conn.sessions.add(s);
    if (record) s.announced = conn.announced;
  }
  s.tracks.set(trackId, { transport, url: req.url, srtp: reader });
  if (transport.kind === "tcp") {
    // A recorder's RTP comes in on its channel; a player's RTCP, on the one after.
    if (record) {
      conn.channels.set(transport.rtpChannel, {
        session: s,
        trackId,
        rtcp: false,
      });
    }
    conn.channels.set(transport.rtcpChannel, {
      session: s,
      trackId,
      rtcp: true,
    });
  } else if (transport.kind === "udp") {
    server.sessions.routeUdp(s, trackId, transport.hostname, {
      rtp: transport.rtpPort,
      rtcp: transport.rtcpPort,
    });
  }
  return {
    status: 200,
    headers: {
      Transport: stringifyTransport(transport.reply),
      ...sessionHeader(server, s),
    },
  };
}

/**
 * The SRTP context that reads an announced track (RFC 4567: the client's
 * key in its ANNOUNCE); 461 when the track came without a usable key.
 */
function recordSrtp(
  conn: Pick<ConnectionContext, "announced">,
  trackId: number,
): SrtpContext {
  const key = conn.announced?.keys[trackId];
  if (key === undefined) {
    throw new Refusal(
      461,
      "RTP/SAVP of a track announced without a=key-mgmt:mikey",
    );
  }
  if (key instanceof Error) throw new Refusal(461, key.message);
  return new SrtpContext(key.master, {
    rocs: new Map(key.sessions.map((c) => [c.ssrc, c.roc])),
    maxSsrcs: 4,
  });
}

/** The announced track whose control URL `url` names. */
function matchAnnounced(
  conn: Pick<ConnectionContext, "announced">,
  url: string,
): { path: string; trackId: number } | undefined {
  const a = conn.announced;
  if (a === undefined) return undefined;
  for (const [i, m] of a.sdp.media.entries()) {
    const control = m.control ?? "";
    const resolved = control === "" || control === "*"
      ? a.base
      : resolveControl(a.base, control);
    if (resolved === url || sameResource(resolved, url)) {
      return { path: a.path, trackId: i };
    }
  }
  return undefined;
}
