/**
 * The RTSP methods: a request and its session in, a reply out (or a
 * {@link Refusal}). Requests on one connection are answered in order; only
 * DESCRIBE waits (for a publisher, then for its codec configuration).
 *
 * @module
 */

import {
  describeSession,
  describeTracks,
  type TrackFormat,
  tracksFromSdp,
} from "../../format/tracks.ts";
import { HubError } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { sameResource } from "../../rtsp/url.ts";
import { parseSdp } from "../../sdp/parse.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import type { Sdp } from "../../sdp/types.ts";
import { authorize, pathOf } from "./access.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { play, record } from "./play.ts";
import { deregister, register } from "./register.ts";
import { Refusal, type Reply, sessionHeader } from "./reply.ts";
import type { Session } from "./sessions.ts";
import { setup } from "./setup.ts";
import { describeVod, pauseVod, playVod } from "./vod.ts";
import { isVodPath } from "../../vod/folder.ts";
import { announcedKeys } from "./srtp.ts";
import { rtspOutput } from "../../egress/rtp_output.ts";
import { withSrtpKeys } from "../../egress/rtp_srtp.ts";

/** The methods Sluice answers, as OPTIONS lists them. */
export const PUBLIC =
  "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER, REGISTER, DEREGISTER";
/** How long DESCRIBE waits for a new publisher's codec configuration. */
const TRACKS_WAIT_MS = 3000;

/** The reply to `req`, whose `Session` header named `session`. */
export function dispatch(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  session: Session | undefined,
): Promise<Reply> | Reply {
  switch (req.method) {
    case "OPTIONS":
      return {
        status: 200,
        headers: { Public: PUBLIC, ...sessionHeader(server, session) },
      };
    case "DESCRIBE":
      return describe(server, conn, req);
    case "ANNOUNCE":
      return announce(server, conn, req);
    case "SETUP":
      return setup(server, conn, req, session);
    case "PLAY":
      if (server.vod !== undefined && isVodPath(need(session).path)) {
        return playVod(server, conn, req, session!);
      }
      return play(server, conn, req, need(session));
    case "RECORD":
      return record(server, conn, need(session));
    case "PAUSE":
      if (need(session).vod !== undefined) return pauseVod(server, session!);
      return pause(server, need(session));
    case "TEARDOWN":
      return teardown(server, conn, req, need(session));
    case "GET_PARAMETER":
      return { status: 200, headers: sessionHeader(server, session) };
    case "SET_PARAMETER":
      if (req.body.length > 0) {
        throw new Refusal(451, "no parameter can be set");
      }
      return { status: 200, headers: sessionHeader(server, session) };
    case "REGISTER":
      return register(server, conn, req);
    case "DEREGISTER":
      return deregister(server, conn, req);
    default:
      throw new Refusal(
        501,
        `method ${req.method.slice(0, 32)} is not implemented`,
        { Public: PUBLIC },
      );
  }
}

function need(session: Session | undefined): Session {
  if (session === undefined) {
    throw new Refusal(454, "the request needs a Session");
  }
  return session;
}

async function describe(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<Reply> {
  const path = pathOf(req.url);
  await authorize(server, conn, req, path, "read");
  if (server.vod !== undefined && isVodPath(path)) {
    return describeVod(server, req, path);
  }
  const stream = await waitStream(server, conn, path);
  const formats = await waitFormats(stream, conn);
  if (formats.length === 0) {
    throw new Refusal(415, `no track of ${path} can be sent over RTP`);
  }
  const base = contentBase(req.url, conn.secure === true);
  // On RTSPS each track is RTP/SAVP with its key: GStreamer's rtspsrc then
  // sets up SRTP, ffmpeg reads on with RTP/AVP inside TLS. Keys travel only
  // inside TLS: on plain RTSP, SRTP would protect nothing from whoever reads
  // the connection (live555 likewise offers SRTP only with RTSP over TLS).
  const described = conn.secure ? keyed(stream, formats) : formats;
  return {
    status: 200,
    headers: { "Content-Base": base, "Content-Type": "application/sdp" },
    body: stringifySdp(describeSession(described)),
  };
}

/**
 * The Content-Base of a DESCRIBE answer: the request URL with a trailing
 * slash, and on RTSPS with the `rtsps` scheme even when the client wrote
 * `rtsp://`, so the URLs it builds from it name the secure port's scheme.
 */
export function contentBase(url: string, secure: boolean): string {
  const base = url.endsWith("/") ? url : `${url}/`;
  return secure ? base.replace(/^rtsp:\/\//i, "rtsps://") : base;
}

/**
 * `formats` with each track's SRTP key, SSRC and roll-over counter. An RTP
 * output made just for this (no reader yet) is not kept: it would packetize
 * every frame for nobody until a reader came and went. The PLAY after makes
 * it again with a new SSRC starting at ROC 0, which is what a receiver
 * assumes of an SSRC its MIKEY does not name; the keys are the stream's.
 */
function keyed(stream: Stream, formats: TrackFormat[]): TrackFormat[] {
  const output = rtspOutput(stream);
  const out = withSrtpKeys(formats, (id) => output.srtpOffer(id));
  if (output.readers === 0) stream.pruneOutputs();
  return out;
}

async function waitStream(
  server: ServerContext,
  conn: ConnectionContext,
  path: string,
): Promise<Stream> {
  try {
    return await server.hub.waitForStream(path, {
      timeoutMs: server.config.playWaitTimeout,
      signal: conn.signal,
    });
  } catch (e) {
    if (e instanceof HubError) throw new Refusal(404, `no stream ${path}`);
    if (conn.signal.aborted) {
      throw new Refusal(503, "the connection is closing");
    }
    throw e;
  }
}

/** The stream's RTP formats once its tracks carry their codec configuration (or after a short wait). */
async function waitFormats(
  stream: Stream,
  conn: ConnectionContext,
): Promise<TrackFormat[]> {
  const end = Date.now() + TRACKS_WAIT_MS;
  for (;;) {
    const formats = describeTracks(stream.tracks);
    const ready = stream.tracks.length > 0 &&
      stream.tracks.every((t) =>
        t.kind === "audio" || t.parameterSets !== undefined
      );
    if ((ready && formats.length > 0) || Date.now() > end || conn.closed) {
      return formats;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function announce(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
): Promise<Reply> {
  const path = pathOf(req.url);
  const user = await authorize(server, conn, req, path, "publish");
  let sdp: Sdp;
  try {
    sdp = parseSdp(req.body);
  } catch (e) {
    throw new Refusal(
      400,
      `cannot parse the SDP: ${e instanceof Error ? e.message : e}`,
    );
  }
  const tracks = tracksFromSdp(sdp.media);
  if (!tracks.some((t) => t !== undefined)) {
    throw new Refusal(415, "no track Sluice can read");
  }
  const base = req.url.endsWith("/") ? req.url : `${req.url}/`;
  conn.announced = {
    path,
    base,
    sdp,
    tracks,
    keys: announcedKeys(sdp),
    user,
  };
  conn.log.info("announced", {
    path,
    tracks: tracks.map((t) => t?.track.codec ?? "-").join(","),
  });
  return { status: 200 };
}

/**
 * TEARDOWN of the aggregate URL ends the session; of one track's URL, only
 * that track (RFC 2326 §10.7: GStreamer tears tracks down one by one).
 */
function teardown(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  s: Session,
): Reply {
  if (s.tracks.size > 1) {
    for (const [id, t] of s.tracks) {
      if (!sameResource(t.url, req.url)) continue;
      s.tracks.delete(id);
      s.play?.reader.removeTrack(id);
      for (const [ch, route] of conn.channels) {
        if (route.session === s && route.trackId === id) {
          conn.channels.delete(ch);
        }
      }
      return { status: 200, headers: sessionHeader(server, s) };
    }
  }
  server.sessions.end(s, "teardown");
  return { status: 200 };
}

/** PAUSE stops the flow; a later PLAY starts again from the GOP cache (a live stream has no "where it was"). */
function pause(server: ServerContext, s: Session): Reply {
  if (s.state === "recording") {
    throw new Refusal(455, "PAUSE while recording");
  }
  if (s.state === "playing") server.sessions.stopPlaying(s);
  s.state = "ready";
  return { status: 200, headers: sessionHeader(server, s) };
}
