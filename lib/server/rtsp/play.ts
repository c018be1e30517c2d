/**
 * PLAY and RECORD: a session's link to the hub. A player's reader joins the
 * stream's RTP output (over TCP on its connection, over UDP from the
 * server's ports); a recorder becomes the path's publisher.
 *
 * @module
 */

import type { SessionInfo } from "../../events/events.ts";
import { queryLast } from "./access.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";
import { type RtpOutput, rtspOutput } from "../../egress/rtp_output.ts";
import type { SdpTrack } from "../../format/tracks.ts";
import { HubError } from "../../hub/hub.ts";
import { RtpInput } from "../../ingest/rtp_input.ts";
import { RtspError } from "../../rtsp/error.ts";
import { parseRange } from "../../rtsp/headers/range.ts";
import { stringifyRtpInfo } from "../../rtsp/headers/rtp_info.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { MulticastReader } from "./multicast.ts";
import { type PlayLink, TcpReader, UdpReader } from "./readers.ts";
import { Refusal, type Reply, sessionHeader } from "./reply.ts";
import type { Session } from "./sessions.ts";
import type { SrtpContext } from "../../srtp/context.ts";

/** PLAY: the session's tracks start from the GOP cache, after the answer. */
export function play(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  s: Session,
): Reply {
  if (s.mode !== "play") {
    throw new Refusal(455, "PLAY of a recording session");
  }
  const range = req.headers.getOne("Range");
  if (range !== undefined) {
    try {
      parseRange(range); // clock= and smpte are refused here (457), never read as times
    } catch (e) {
      if (e instanceof RtspError) {
        throw new Refusal(e.status ?? 457, e.message);
      }
      throw e;
    }
  }
  if (s.state === "playing") return playReply(server, s);
  if (s.tracks.size === 0) throw new Refusal(455, "PLAY before SETUP");
  const stream = server.hub.stream(s.path);
  if (stream === undefined) throw new Refusal(404, `no stream ${s.path}`);
  const output = rtspOutput(stream, server.batcher);
  const ids = new Set<number>();
  for (const id of s.tracks.keys()) {
    if (id === -1) { for (const f of output.formats) ids.add(f.track.id); }
    else ids.add(id);
  }
  const onEnd = () => {
    conn.log.info("stream ended", { path: s.path });
    const tcp = s.udpReader === undefined;
    server.sessions.end(s, "stream ended");
    // Over TCP the connection ends too, after the BYEs: a player (or a pulling
    // relay) learns at once instead of waiting out its own timeout.
    if (tcp && conn.sessions.size === 0) void conn.close("stream ended");
  };
  // A session that set up the aggregate URL (-1) plays its first track there.
  const trackOf = (id: number) => id === -1 ? [...ids][0]! : id;
  const first = s.tracks.values().next().value!;
  if (first.transport.kind === "multicast") {
    return playMulticast(server, conn, s, { stream, output, trackOf, onEnd });
  }
  const link = attachReader(server, conn, s, {
    stream,
    output,
    ids,
    trackOf,
    onEnd,
  });
  const reply = playReply(server, s);
  const reader = link.reader as TcpReader | UdpReader;
  reply.after = () => {
    if (s.play !== link) return; // torn down in between
    reader.release();
    conn.writer.kick(true);
  };
  return reply;
}

/**
 * Joins a session (over TCP or UDP) to `output` as a held reader, which
 * the caller releases once the PLAY answer went out; the session is
 * playing from now.
 */
export function attachReader(
  server: ServerContext,
  conn: ConnectionContext,
  s: Session,
  o: {
    stream: PlayLink["stream"];
    output: RtpOutput;
    ids: ReadonlySet<number>;
    trackOf: (id: number) => number;
    onEnd: () => void;
    starts?: PlayLink["starts"];
  },
): PlayLink {
  const first = s.tracks.values().next().value!;
  let reader: TcpReader | UdpReader;
  if (first.transport.kind === "tcp") {
    const channels = new Map<number, { rtp: number; rtcp: number }>();
    for (const [id, t] of s.tracks) {
      if (t.transport.kind !== "tcp") continue;
      channels.set(o.trackOf(id), {
        rtp: t.transport.rtpChannel,
        rtcp: t.transport.rtcpChannel,
      });
    }
    reader = new TcpReader(conn, channels, o.onEnd);
  } else {
    const ports = new Map<
      number,
      { hostname: string; rtpPort: number; rtcpPort: number }
    >();
    for (const [id, t] of s.tracks) {
      if (t.transport.kind === "udp") ports.set(o.trackOf(id), t.transport);
    }
    const udp = new UdpReader(server.udp(), ports, {
      maxBytes: server.config.writeQueueSize,
      onEnd: o.onEnd,
      batcher: server.batcher,
    });
    s.udpReader = udp;
    s.udpLag = new ReaderLag(udp.queues, {
      protocol: "rtsp",
      writeTimeoutMs: server.config.writeTimeout,
    });
    reader = udp;
  }
  // RTP/SAVP: this reader gets the packets every SRTP reader shares.
  reader.srtp = first.transport.reply.profile === "SAVP";
  const link: PlayLink = {
    stream: o.stream,
    output: o.output,
    reader,
    starts: o.starts ?? o.output.rtpStarts(o.ids),
    session: sessionInfo(conn, s),
  };
  s.play = link;
  s.state = "playing";
  server.hub.readerJoined?.(o.stream, link.session!);
  conn.log.info("playing", {
    path: s.path,
    session: s.id,
    transport: first.transport.kind,
    srtp: reader.srtp,
  });
  o.output.addReader(reader, o.ids);
  return link;
}

/**
 * PLAY of a multicast session: it joins each track's sender, which the
 * first player starts (its GOP cache goes to the group after this answer)
 * and later ones find running (their RTP begins with its next packet).
 */
function playMulticast(
  server: ServerContext,
  conn: ConnectionContext,
  s: Session,
  o: {
    stream: PlayLink["stream"];
    output: RtpOutput;
    trackOf: (id: number) => number;
    onEnd: () => void;
  },
): Reply {
  const multicast = server.multicast;
  if (multicast === undefined) throw new Refusal(461, "no multicast here");
  const started: UdpReader[] = [];
  const fresh = new Set<number>();
  const running = new Set<number>();
  const keys: number[] = [];
  for (const id of s.tracks.keys()) {
    const trackId = o.trackOf(id);
    if (!o.output.formats.some((f) => f.track.id === trackId)) continue;
    const r = multicast.join(s, id, trackId, {
      output: o.output,
      hostname: conn.remoteHostname,
      onEnd: o.onEnd,
    });
    if (r === undefined) continue;
    keys.push(id);
    if (r === "running") running.add(trackId);
    else {
      started.push(r);
      fresh.add(trackId);
    }
  }
  if (keys.length === 0) {
    throw new Refusal(404, `no track of ${s.path} to send`);
  }
  const reader = new MulticastReader(multicast, s, { keys, started });
  const link: PlayLink = {
    stream: o.stream,
    output: o.output,
    reader,
    // One instant for every track (RTP-Info, RFC 2326 §12.33): the GOP
    // cache's when a sender starts with it here, else the next packet's.
    // Instants apart made ffmpeg step audio back at its first Sender Report.
    starts: o.output.rtpStarts(
      new Set([...fresh, ...running]),
      { cached: fresh.size > 0 },
    ),
    session: sessionInfo(conn, s),
  };
  s.play = link;
  s.state = "playing";
  server.hub.readerJoined?.(o.stream, link.session!);
  conn.log.info("playing", {
    path: s.path,
    session: s.id,
    transport: "multicast",
  });
  const reply = playReply(server, s);
  reply.after = () => {
    if (s.play === link) reader.release();
  };
  return reply;
}

/** The PLAY answer: where each track's RTP begins (RTP-Info). */
function playReply(server: ServerContext, s: Session): Reply {
  const starts = s.play?.starts ?? [];
  const info = starts.map((st) => {
    const t = s.tracks.get(st.trackId) ?? s.tracks.get(-1);
    return { url: t?.url ?? "", seq: st.seq, rtptime: st.rtptime >>> 0 };
  });
  return {
    status: 200,
    headers: {
      Range: "npt=0.000-",
      ...(info.length > 0 ? { "RTP-Info": stringifyRtpInfo(info) } : {}),
      ...sessionHeader(server, s),
    },
  };
}

/** RECORD: the session publishes its announced, set-up tracks on the path. */
export function record(
  server: ServerContext,
  conn: ConnectionContext,
  s: Session,
): Reply {
  if (s.mode !== "record") throw new Refusal(455, "RECORD of a play session");
  if (s.state === "recording") {
    return { status: 200, headers: sessionHeader(server, s) };
  }
  const a = s.announced;
  if (a === undefined || s.tracks.size === 0) {
    throw new Refusal(455, "RECORD before ANNOUNCE and SETUP");
  }
  const { config } = server;
  const override = config.paths?.[s.path]?.overridePublisher ??
    config.overridePublisher;
  let publisher;
  try {
    publisher = server.hub.publish(s.path, {
      overridePublisher: override,
      // ANNOUNCE was authorized on this connection: a named user (not
      // `any`) gave credentials
      authenticated: (s.announced?.user ?? "any") !== "any",
      session: sessionInfo(conn, s),
      onTakenOver: () => {
        conn.log.info("another publisher took the path over", {
          path: s.path,
        });
        s.publisher = undefined;
        server.sessions.end(s, "taken over");
        void conn.close("taken over");
      },
    });
  } catch (e) {
    if (e instanceof HubError) {
      // 403 (RFC 2326 §7.1.1, meaning as in RFC 2068 §10.4.4): the
      // request is well formed, the path is someone else's, and
      // credentials would not help (a newcomer that gave a path's publish
      // credentials takes over), where 400 would blame the request.
      throw new Refusal(403, e.message);
    }
    throw e;
  }
  const tracks = new Map<
    number,
    { sdp: SdpTrack; udp: boolean; srtp?: SrtpContext }
  >();
  for (const [id, t] of s.tracks) {
    const sdp = a.tracks[id];
    if (sdp !== undefined) {
      tracks.set(id, { sdp, udp: t.transport.kind === "udp", srtp: t.srtp });
    }
  }
  s.publisher = publisher;
  s.record = new RtpInput(publisher, tracks);
  s.state = "recording";
  conn.log.info("recording", {
    path: s.path,
    session: s.id,
    srtp: [...s.tracks.values()].some((t) => t.srtp !== undefined),
  });
  return { status: 200, headers: sessionHeader(server, s) };
}

/** Who a session is, for publish and read events. */
function sessionInfo(
  conn: Pick<ConnectionContext, "remoteHostname">,
  s: Session,
): SessionInfo {
  const url = s.tracks.values().next().value?.url ?? s.announced?.base ?? "";
  const q = queryLast(url);
  return {
    id: s.id,
    protocol: "rtsp",
    remoteAddress: conn.remoteHostname,
    query: q.includes("?") ? q.slice(q.indexOf("?") + 1) : "",
  };
}
