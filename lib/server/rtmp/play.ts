/**
 * A player's life on one connection: `play` waits for the stream, links the
 * connection's queue to the stream's RTMP output and sends the play
 * statuses; `pause` unlinks and links it again; the stream's end or
 * `deleteStream` unlink it for good.
 *
 * @module
 */

import { isVodPath } from "../../vod/folder.ts";
import { playVod } from "./vod_play.ts";
import { FlvOutput, type FlvReader } from "../../egress/flv_output.ts";
import { HubError } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import { encodeData, NET_STATUS } from "../../rtmp/command.ts";
import { streamBegin, streamEof } from "../../rtmp/control.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../rtmp/message.ts";
import { statusMessage } from "../../rtmp/status.ts";
import { admit, refuse, requireConnected } from "./access.ts";
import type { CommandSession } from "./context.ts";

/**
 * Plays `name` on message stream `streamId`: waits up to `playWaitTimeout`
 * for a publisher, then sends Play.Reset, Play.Start and the cached GOP.
 * Play.StreamNotFound and the end of the connection when none comes.
 */
export async function play(
  session: CommandSession,
  name: string,
  streamId: number,
  startMs = -2,
): Promise<void> {
  const { state, log } = session;
  requireConnected(session);
  const codes = {
    invalid: NET_STATUS.PLAY_STREAM_NOT_FOUND,
    denied: NET_STATUS.PLAY_FAILED,
  };
  const admitted = await admit(session, name, streamId, "read", codes);
  if (admitted === undefined || session.closing) return;
  const path = admitted.path;
  if (
    state.publisher !== undefined || state.reader !== undefined ||
    state.phase === "waiting"
  ) {
    return refuse(
      session,
      streamId,
      NET_STATUS.PLAY_FAILED,
      "This connection already publishes or plays",
    );
  }
  if (session.vod !== undefined && isVodPath(path)) {
    return playVod(session, path, streamId, startMs, admitted.session);
  }
  state.path = path;
  state.playStreamId = streamId;
  state.phase = "waiting";
  let stream: Stream;
  try {
    stream = await session.hub.waitForStream(path, {
      timeoutMs: session.config.playWaitTimeout,
      signal: session.signal,
    });
  } catch (e) {
    if (session.closing) return;
    if (!(e instanceof HubError)) throw e;
    log.info("play: stream not found", { path });
    session.send(statusMessage(
      streamId,
      "error",
      NET_STATUS.PLAY_STREAM_NOT_FOUND,
      `Stream not found: ${path}`,
      { details: path },
    ));
    await session.close("stream not found");
    return;
  }
  if (session.closing) return;
  state.stream = stream;
  state.phase = "playing";
  state.readSession = admitted.session;
  session.hub.readerJoined?.(stream, admitted.session);
  session.send(streamBegin(streamId));
  session.send(statusMessage(
    streamId,
    "status",
    NET_STATUS.PLAY_RESET,
    `Playing and resetting ${path}`,
    { details: path },
  ));
  session.send(statusMessage(
    streamId,
    "status",
    NET_STATUS.PLAY_START,
    `Started playing ${path}`,
    { details: path },
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
    (cached) =>
      new FlvOutput(cached, { chunkSize, streamId, tick: session.outputTick }),
  );
  const reader: FlvReader = {
    queue: session.queue,
    onEnd: () => streamEnded(session),
  };
  state.output = output;
  state.reader = reader;
  output.addReader(reader);
  session.flush(); // the GOP goes out now, not with the next batch
  log.info("playing", { path });
}

/** Pauses the player (its queue leaves the output) or resumes it. */
export function pause(session: CommandSession, paused: boolean): void {
  const { state } = session;
  if (state.reader === undefined || state.output === undefined) return;
  if (paused) {
    state.output.removeReader(state.reader);
    session.send(statusMessage(
      state.playStreamId,
      "status",
      NET_STATUS.PAUSE_NOTIFY,
      `Paused ${state.path}`,
    ));
  } else {
    session.send(statusMessage(
      state.playStreamId,
      "status",
      NET_STATUS.UNPAUSE_NOTIFY,
      `Unpaused ${state.path}`,
    ));
    state.output.addReader(state.reader);
  }
}

/** Unlinks the player from its stream, which the hub may then end. */
export function stopPlaying(session: CommandSession): void {
  const { state } = session;
  if (state.reader === undefined) return;
  state.output?.removeReader(state.reader);
  session.countDrops();
  state.vod?.close();
  state.vod = undefined;
  state.reader = undefined;
  state.output = undefined;
  if (state.stream !== undefined) {
    session.hub.readerLeft(state.stream, state.readSession);
  }
  state.readSession = undefined;
  state.stream = undefined;
  state.phase = "connected";
}

function streamEnded(session: CommandSession): void {
  const { state } = session;
  if (state.phase !== "playing") return;
  if (state.stream !== undefined && state.readSession !== undefined) {
    // The stream is gone: only the read event is left to end.
    session.hub.readerLeft(state.stream, state.readSession);
    state.readSession = undefined;
  }
  state.reader = undefined;
  state.output = undefined;
  session.send(streamEof(state.playStreamId));
  session.send(statusMessage(
    state.playStreamId,
    "status",
    NET_STATUS.PLAY_UNPUBLISH_NOTIFY,
    `${state.path} is now unpublished`,
  ));
  session.send(statusMessage(
    state.playStreamId,
    "status",
    NET_STATUS.PLAY_STOP,
    `Stopped playing ${state.path}`,
  ));
  void session.close("stream ended");
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
