/**
 * RTSP of the VOD folder (`rtsp://host/vod/<file>`), as live555's
 * DynamicRTSPServer serves files: DESCRIBE gives the file's duration
 * (`a=range:npt=0-<d>`); PLAY starts at `Range: npt=` (clamped to the file,
 * or where a PAUSE left it) or `Range: clock=` on a file that knows its
 * wall-clock start (a recording: clamped to it, echoed as `clock=`; 457 on
 * other files) at `Scale:` (keyframes only above 1 and below
 * 0) and answers with the Range it really starts at and RTP-Info whose
 * sequence numbers and RTP times continue the session's RTP streams; PAUSE
 * stops this session alone; the end of the file sends RTCP BYE.
 *
 * @module
 */

import { describeSession, describeTracks } from "../../format/tracks.ts";
import { RtpOutput } from "../../egress/rtp_output.ts";
import { RtspError } from "../../rtsp/error.ts";
import {
  type ClockRange,
  parsePlayRange,
  stringifyRange,
} from "../../rtsp/headers/range.ts";
import { stringifyRtpInfo } from "../../rtsp/headers/rtp_info.ts";
import type { RtspRequest } from "../../rtsp/message.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import { VOD_PREFIX, VodError } from "../../vod/folder.ts";
import type { VodStream } from "../../vod/vod.ts";
import type { ConnectionContext, ServerContext } from "./context.ts";
import { attachReader } from "./play.ts";
import type { TcpReader, UdpReader } from "./readers.ts";
import { Refusal, type Reply, sessionHeader } from "./reply.ts";
import type { Session } from "./sessions.ts";

export type { SessionVod } from "./sessions.ts";

/** Fastest `Scale` either way: beyond it a player asks for nonsense. */
const MAX_SCALE = 64;

async function openVod(
  server: ServerContext,
  path: string,
  onEnd?: () => void,
  onFrame?: (f: Parameters<RtpOutput["frame"]>[0]) => void,
): Promise<VodStream> {
  try {
    return await server.vod!.open(path.slice(VOD_PREFIX.length), {
      timeline: "continuous",
      ...(onEnd !== undefined ? { onEnd } : {}),
      ...(onFrame !== undefined ? { onFrame } : {}),
    });
  } catch (e) {
    if (!(e instanceof VodError)) throw e;
    throw new Refusal(e.code === "not-media" ? 415 : 404, e.message);
  }
}

/** DESCRIBE of a file: its tracks and duration. */
export async function describeVod(
  server: ServerContext,
  req: RtspRequest,
  path: string,
): Promise<Reply> {
  const vod = await openVod(server, path);
  try {
    const formats = describeTracks(vod.file.source.tracks);
    if (formats.length === 0) {
      throw new Refusal(415, `no track of ${path} can be sent over RTP`);
    }
    const sdp = describeSession(formats);
    sdp.attributes = [
      ...(sdp.attributes ?? []).filter((a) => a.name !== "range"),
      { name: "range", value: `npt=0-${vod.durationSeconds.toFixed(3)}` },
    ];
    const base = req.url.endsWith("/") ? req.url : `${req.url}/`;
    return {
      status: 200,
      headers: { "Content-Base": base, "Content-Type": "application/sdp" },
      body: stringifySdp(sdp),
    };
  } finally {
    vod.close();
  }
}

/** Reads `Scale:` (RFC 2326 §12.34): 1 without one. */
function scaleOf(req: RtspRequest): number | undefined {
  const v = req.headers.getOne("Scale");
  if (v === undefined) return undefined;
  const scale = /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(scale) || scale === 0) {
    throw new Refusal(400, `Scale ${v.slice(0, 32)} is not a playing speed`);
  }
  if (Math.abs(scale) > MAX_SCALE) {
    throw new Refusal(456, `Scale ${scale} is beyond ±${MAX_SCALE}`);
  }
  return scale;
}

/** A PLAY's Range in file seconds; `clock` when it was given as absolute time. */
interface PlayRange {
  start?: number;
  end?: number;
  /** Wall clock of file time 0, for a `clock=` range. */
  clock?: number;
}

function rangeOf(req: RtspRequest, vod: VodStream): PlayRange {
  const v = req.headers.getOne("Range");
  if (v === undefined) return {};
  let r;
  try {
    r = parsePlayRange(v);
  } catch (e) {
    if (e instanceof RtspError) throw new Refusal(e.status ?? 457, e.message);
    throw e;
  }
  if (r.unit === "clock") return clockRange(r, vod);
  return {
    ...(typeof r.start === "number" ? { start: r.start } : {}),
    ...(r.end !== undefined ? { end: r.end } : {}),
  };
}

/** RFC 2326 §3.7 absolute time onto the file: clamped to its start. */
function clockRange(r: ClockRange, vod: VodStream): PlayRange {
  const clock = vod.file.source.wallClockStartMs;
  if (clock === undefined) {
    throw new Refusal(457, "Range clock= needs a recording's wall clock");
  }
  const at = (ms: number) => Math.max(0, (ms - clock) / 1000);
  if (r.endMs !== undefined && r.endMs <= clock) {
    throw new Refusal(457, "Range ends before the recording starts");
  }
  return {
    clock,
    ...(r.startMs !== undefined ? { start: at(r.startMs) } : {}),
    ...(r.endMs !== undefined ? { end: at(r.endMs) } : {}),
  };
}

/** PLAY of a file: from the Range (or where the session is), at the Scale. */
export async function playVod(
  server: ServerContext,
  conn: ConnectionContext,
  req: RtspRequest,
  s: Session,
): Promise<Reply> {
  if (s.tracks.size === 0) throw new Refusal(455, "PLAY before SETUP");
  const scale = scaleOf(req);
  let sv = s.vod;
  if (sv === undefined) {
    const output = new RtpOutput(() => []);
    const vod = await openVod(
      server,
      s.path,
      () => output.end(),
      (f) => output.frame(f),
    );
    output.tracks(vod.file.source.tracks);
    sv = { vod, output, close: () => vod.close() };
    s.vod = sv;
  }
  const { vod, output } = sv;
  const range = rangeOf(req, vod);
  if (range.start !== undefined && range.start < 0) {
    throw new Refusal(457, "Range starts before the file");
  }
  const duration = vod.durationSeconds;
  if (range.start !== undefined && range.start > duration) {
    // RFC 2326 §11.4.5: the range is beyond the presentation
    throw new Refusal(
      457,
      `Range starts past the end (${duration.toFixed(3)} s)`,
    );
  }
  if (s.state === "playing") {
    vod.player.pause();
    server.sessions.stopPlaying(s);
    s.state = "ready";
  }
  const ids = new Set<number>();
  for (const id of s.tracks.keys()) {
    if (id === -1) { for (const f of output.formats) ids.add(f.track.id); }
    else ids.add(id);
  }
  const trackOf = (id: number) => id === -1 ? [...ids][0]! : id;
  if (s.tracks.values().next().value!.transport.kind === "multicast") {
    throw new Refusal(461, "files on demand are not sent to multicast groups");
  }
  const at = await vod.player.play(range.start, {
    scale: scale ?? 1,
    hold: true,
    ...(range.end !== undefined
      ? { stopSeconds: Math.min(range.end, duration) }
      : {}),
  });
  const onEnd = () => {
    conn.log.info("end of file", { path: s.path });
    const tcp = s.udpReader === undefined;
    server.sessions.end(s, "end of file");
    if (tcp && conn.sessions.size === 0) void conn.close("end of file");
  };
  const link = attachReader(server, conn, s, {
    stream: vod.stream,
    output,
    ids,
    trackOf,
    onEnd,
    starts: output.rtpStartsAt(ids, at.outputSeconds),
  });
  const info = link.starts.map((st) => {
    const t = s.tracks.get(st.trackId) ?? s.tracks.get(-1);
    return { url: t?.url ?? "", seq: st.seq, rtptime: st.rtptime >>> 0 };
  });
  const end = range.end !== undefined
    ? Math.min(range.end, duration)
    : duration;
  const reply: Reply = {
    status: 200,
    headers: {
      Range: range.clock === undefined
        ? `npt=${at.startSeconds.toFixed(3)}-${end.toFixed(3)}`
        : stringifyRange({
          unit: "clock",
          startMs: Math.round(range.clock + at.startSeconds * 1000),
          endMs: Math.round(range.clock + end * 1000),
        }),
      ...(scale !== undefined ? { Scale: String(scale) } : {}),
      ...(info.length > 0 ? { "RTP-Info": stringifyRtpInfo(info) } : {}),
      ...sessionHeader(server, s),
    },
  };
  const reader = link.reader as TcpReader | UdpReader;
  reply.after = () => {
    if (s.play !== link) return;
    reader.release();
    conn.writer.kick(true);
    vod.player.begin();
  };
  return reply;
}

/** PAUSE of a file: this session stops where it is; the answer says where. */
export function pauseVod(server: ServerContext, s: Session): Reply {
  const sv = s.vod!;
  if (s.state === "playing") {
    sv.vod.player.pause();
    server.sessions.stopPlaying(s);
  }
  s.state = "ready";
  return {
    status: 200,
    headers: {
      Range: `npt=${sv.vod.player.positionSeconds.toFixed(3)}-`,
      ...sessionHeader(server, s),
    },
  };
}
