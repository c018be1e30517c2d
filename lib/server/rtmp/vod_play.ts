/**
 * RTMP of the VOD folder (`rtmp://host/vod/<file>`), with crtmpserver's
 * meaning of `play`'s start: −2 live, then the file (a `vod/` path has no
 * live stream, so the file), −1 live only (not found), ≥ 0 the file from
 * that many ms. `seek(ms)` answers `NetStream.Seek.Notify` and starts
 * afresh (codec configuration again) at the keyframe before it;
 * `pause(true|false, ms)` stops and resumes at the ms given; the end of the
 * file sends `onPlayStatus NetStream.Play.Complete`.
 *
 * @module
 */

import { FlvOutput, type FlvReader } from "../../egress/flv_output.ts";
import { encodeData, NET_STATUS } from "../../rtmp/command.ts";
import { streamBegin, streamEof } from "../../rtmp/control.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../rtmp/message.ts";
import { statusMessage } from "../../rtmp/status.ts";
import { VOD_PREFIX, VodError } from "../../vod/folder.ts";
import type { VodStream } from "../../vod/vod.ts";
import type { SessionInfo } from "../../events/events.ts";
import type { CommandSession } from "./context.ts";

/**
 * `play` of a file; `startMs` as the command gave it; `reader` is who
 * plays, for the read events.
 */
export async function playVod(
  session: CommandSession,
  path: string,
  streamId: number,
  startMs: number,
  reader?: SessionInfo,
): Promise<void> {
  const { state, log } = session;
  if (startMs === -1 || !Number.isFinite(startMs)) {
    // live only: files are not live streams
    session.send(statusMessage(
      streamId,
      "error",
      NET_STATUS.PLAY_STREAM_NOT_FOUND,
      `No live stream ${path}`,
      { details: path },
    ));
    return;
  }
  state.path = path;
  state.playStreamId = streamId;
  state.phase = "waiting";
  let vod: VodStream;
  try {
    vod = await session.vod!.open(fileName(path.slice(VOD_PREFIX.length)), {
      timeline: "file",
      onEnd: () => complete(session),
    });
  } catch (e) {
    state.phase = "connected";
    if (!(e instanceof VodError)) throw e;
    log.info("play: file refused", { path, reason: e.message });
    session.send(statusMessage(
      streamId,
      "error",
      e.code === "not-media"
        ? NET_STATUS.PLAY_FAILED
        : NET_STATUS.PLAY_STREAM_NOT_FOUND,
      e.message,
      { details: path },
    ));
    return;
  }
  if (session.closing) {
    vod.close();
    return;
  }
  state.vod = vod;
  state.stream = vod.stream;
  state.phase = "playing";
  if (reader !== undefined) {
    state.readSession = reader;
    session.hub.readerJoined?.(vod.stream, reader);
  }
  session.send(streamBegin(streamId));
  session.send(statusMessage(
    streamId,
    "status",
    NET_STATUS.PLAY_RESET,
    `Playing and resetting ${path}`,
    { details: path },
  ));
  await startAt(session, Math.max(0, startMs) / 1000, NET_STATUS.PLAY_START);
  log.info("playing file", { path, startMs });
}

/**
 * The file an RTMP stream name means, as Flash Media Server named them and
 * ffmpeg still sends them: `mp4:clip.mp4` is `clip.mp4`, a name without an
 * extension is an FLV file (`clip` is `clip.flv`). ffmpeg takes the first
 * two URL folders as the application when there are more
 * (`rtmp://h/vod/rec/live/a.mp4` plays `mp4:live/a.mp4` in `vod/rec`), so
 * the prefix may follow the first folder of the name too.
 */
export function fileName(name: string): string {
  const m = /^([^/:]+\/)?(mp4|f4v|flv|mp3):(.*)$/.exec(name);
  const bare = m === null ? name : `${m[1] ?? ""}${m[3]!}`;
  const last = bare.slice(bare.lastIndexOf("/") + 1);
  return last.includes(".") ? bare : `${bare}.flv`;
}

/** (Re)links the player to a fresh stream of its file, starting at `seconds`. */
async function startAt(
  session: CommandSession,
  seconds: number,
  code: string,
): Promise<void> {
  const { state } = session;
  const vod = state.vod!;
  vod.player.pause();
  if (state.reader !== undefined) state.output?.removeReader(state.reader);
  const stream = vod.restart();
  stream.setMetadata({
    duration: vod.durationSeconds,
    ...videoSize(vod),
  });
  state.stream = stream;
  const streamId = state.playStreamId;
  session.send(statusMessage(
    streamId,
    "status",
    code,
    `${
      code === NET_STATUS.SEEK_NOTIFY ? "Seeking" : "Started playing"
    } ${state.path}`,
    { details: state.path },
  ));
  session.send(
    dataMessage(streamId, encodeData("|RtmpSampleAccess", true, true)),
  );
  session.send(
    statusMessage(streamId, "status", NET_STATUS.DATA_START, "Data start"),
  );
  const chunkSize = state.outChunkSize;
  const output = stream.output<FlvOutput>(
    `rtmp:${chunkSize}:${streamId}`,
    (cached) => new FlvOutput(cached, { chunkSize, streamId }),
  );
  const reader: FlvReader = state.reader ?? {
    queue: session.queue,
    onEnd: () => {},
  };
  state.output = output;
  state.reader = reader;
  output.addReader(reader);
  await vod.player.play(seconds);
  session.flush();
}

function videoSize(vod: VodStream): Record<string, number> {
  const v = vod.file.source.tracks.find((t) => t.kind === "video");
  return v?.kind === "video" && v.width !== undefined && v.height !== undefined
    ? { width: v.width, height: v.height }
    : {};
}

/** `seek(ms)`: a fresh start at the keyframe before `ms`. */
export async function seekVod(
  session: CommandSession,
  ms: number,
): Promise<void> {
  const { state } = session;
  if (state.vod === undefined) {
    session.send(statusMessage(
      state.playStreamId,
      "error",
      NET_STATUS.SEEK_FAILED,
      "Nothing to seek in",
    ));
    return;
  }
  if (!Number.isFinite(ms) || ms < 0) {
    session.send(statusMessage(
      state.playStreamId,
      "error",
      NET_STATUS.SEEK_INVALID_TIME,
      `Cannot seek to ${ms}`,
    ));
    return;
  }
  await startAt(session, ms / 1000, NET_STATUS.SEEK_NOTIFY);
}

/** `pause(true|false, ms)`: stop, or resume at `ms` (where it is when not given). */
export async function pauseVod(
  session: CommandSession,
  paused: boolean,
  ms: number,
): Promise<void> {
  const { state } = session;
  const vod = state.vod!;
  if (paused) {
    vod.player.pause();
    session.send(statusMessage(
      state.playStreamId,
      "status",
      NET_STATUS.PAUSE_NOTIFY,
      `Paused ${state.path}`,
    ));
    return;
  }
  session.send(statusMessage(
    state.playStreamId,
    "status",
    NET_STATUS.UNPAUSE_NOTIFY,
    `Unpaused ${state.path}`,
  ));
  const at = Number.isFinite(ms) && ms >= 0
    ? ms / 1000
    : vod.player.positionSeconds;
  await startAt(session, at, NET_STATUS.PLAY_START);
}

/** The end of the file: Play.Complete, as crtmpserver sends it, and StreamEOF. */
function complete(session: CommandSession): void {
  const { state } = session;
  const streamId = state.playStreamId;
  session.send(dataMessage(
    streamId,
    encodeData("onPlayStatus", {
      level: "status",
      code: NET_STATUS.PLAY_COMPLETE,
      duration: state.vod?.durationSeconds ?? 0,
    }),
  ));
  session.send(streamEof(streamId));
  session.send(statusMessage(
    streamId,
    "status",
    NET_STATUS.PLAY_STOP,
    `Stopped playing ${state.path}`,
  ));
  session.flush();
}

function dataMessage(streamId: number, payload: Uint8Array): RtmpMessage {
  return {
    chunkStreamId: CHUNK_STREAM.DATA,
    typeId: MESSAGE_TYPE.DATA_AMF0,
    timestamp: 0,
    streamId,
    payload,
  };
}
