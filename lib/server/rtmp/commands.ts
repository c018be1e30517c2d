/**
 * The RTMP command state machine (RTMP 1.0 §7.2): `connect`, `createStream`,
 * what encoders send around `publish` (`releaseStream`, `FCPublish`),
 * `publish`, `play`/`play2`, `deleteStream`/`closeStream`, `pause` and
 * `receiveAudio`/`receiveVideo`, each a command in and its replies sent
 * through a {@link CommandSession}.
 *
 * @module
 */

import { pauseVod, seekVod } from "./vod_play.ts";
import { ProtocolError } from "../../errors.ts";
import { HubError, type Publisher } from "../../hub/hub.ts";
import { RtmpInput } from "../../ingest/rtmp_input.ts";
import type { Track } from "../../media/track.ts";
import {
  NET_STATUS,
  type RtmpCommand,
  statusInfo,
} from "../../rtmp/command.ts";
import {
  PEER_BANDWIDTH_LIMIT,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  windowAckSize,
} from "../../rtmp/control.ts";
import type { RtmpMessage } from "../../rtmp/message.ts";
import {
  errorMessage,
  resultMessage,
  statusMessage,
} from "../../rtmp/status.ts";
import { admit, refuse, requireConnected } from "./access.ts";
import type { CommandSession, CommandSource } from "./context.ts";
import { pause, play, stopPlaying } from "./play.ts";

/** Acknowledgement window Sluice announces (bytes), as common servers do. */
const WINDOW_ACK_SIZE = 2_500_000;

/**
 * Answers `cmd`, which came on message stream `streamId`.
 *
 * @throws {ProtocolError} `sequence` for a second `connect`, or a `publish`
 * before `connect` (a `play` before `connect` ends the connection through
 * {@link CommandSession.fail})
 */
export function dispatch(
  session: CommandSession,
  cmd: RtmpCommand,
  streamId: number,
): void {
  const { state } = session;
  session.log.debug(`command ${cmd.name}`, {
    txn: cmd.transactionId,
    stream: streamId,
  });
  switch (cmd.name) {
    case "connect":
      return connect(session, cmd);
    case "createStream":
      session.send(
        resultMessage(cmd.transactionId, null, state.nextStreamId++),
      );
      return;
    case "releaseStream":
    case "FCPublish":
    case "getStreamLength":
    case "_checkbw":
      if (cmd.transactionId > 0) {
        const value = cmd.name === "getStreamLength" ? 0 : undefined;
        session.send(resultMessage(cmd.transactionId, null, value));
      }
      return;
    case "FCUnpublish":
      return;
    case "publish":
      requireConnected(session);
      publish(session, cmd, streamId).catch((e) =>
        session.fail(e, { cmd, streamId })
      );
      return;
    case "play":
      play(
        session,
        String(cmd.args[0] ?? ""),
        streamId,
        typeof cmd.args[1] === "number" ? cmd.args[1] : -2,
      ).catch((e) => session.fail(e, { cmd, streamId }));
      return;
    case "play2": {
      const params = cmd.args[0] as
        | { streamName?: unknown }
        | null
        | undefined;
      play(session, String(params?.streamName ?? ""), streamId).catch((e) =>
        session.fail(e, { cmd, streamId })
      );
      return;
    }
    case "deleteStream":
    case "closeStream": {
      const id = cmd.name === "deleteStream" ? Number(cmd.args[0]) : streamId;
      if (state.publisher !== undefined && id === state.publishStreamId) {
        stopPublishing(session);
        session.send(statusMessage(
          id,
          "status",
          NET_STATUS.UNPUBLISH_SUCCESS,
          `${state.path} is now unpublished`,
        ));
      }
      if (state.reader !== undefined && id === state.playStreamId) {
        stopPlaying(session);
      }
      return;
    }
    case "pause":
      if (state.vod !== undefined) {
        pauseVod(session, cmd.args[0] === true, Number(cmd.args[1])).catch(
          (e) => session.fail(e, { cmd, streamId }),
        );
        return;
      }
      return pause(session, cmd.args[0] === true);
    case "seek":
      seekVod(session, Number(cmd.args[0])).catch((e) =>
        session.fail(e, { cmd, streamId })
      );
      return;
    case "receiveAudio":
    case "receiveVideo": {
      // Takes effect from the next frame: the shared packets are filtered per player.
      if (state.reader === undefined) return;
      const on = cmd.args[0] !== false;
      if (cmd.name === "receiveAudio") state.reader.audio = on;
      else state.reader.video = on;
      return;
    }
    default:
      return;
  }
}

/**
 * The answer to a command that broke the protocol, sent before the
 * connection closes: the `_error` of a call that has a transaction id
 * (NetConnection.Call.Failed), else an error `onStatus` on the stream it
 * came on (NetStream.Failed); `undefined` for a command on stream 0 that
 * awaits no answer.
 */
export function errorAnswer(
  e: ProtocolError,
  source: CommandSource,
): RtmpMessage | undefined {
  const { cmd, streamId } = source;
  if (cmd.transactionId > 0) {
    return errorMessage(cmd.transactionId, NET_STATUS.CALL_FAILED, e.message);
  }
  if (streamId > 0) {
    return statusMessage(
      streamId,
      "error",
      NET_STATUS.STREAM_FAILED,
      e.message,
    );
  }
  return undefined;
}

function connect(session: CommandSession, cmd: RtmpCommand): void {
  const { state, config } = session;
  if (state.phase !== "connecting") {
    throw new ProtocolError("Cannot connect twice on one connection", {
      protocol: "rtmp",
      code: "sequence",
    });
  }
  const obj = (cmd.commandObject ?? {}) as Record<string, unknown>;
  state.app = typeof obj.app === "string" ? obj.app : "";
  const tcUrl = typeof obj.tcUrl === "string" ? obj.tcUrl : "";
  state.appQuery = tcUrl.includes("?")
    ? tcUrl.slice(tcUrl.indexOf("?") + 1)
    : "";
  state.objectEncoding = obj.objectEncoding === 3 ? 3 : 0;
  state.phase = "connected";
  // One write for the whole answer: the client's delayed ACK would cost ~40 ms between small writes.
  session.send(windowAckSize(WINDOW_ACK_SIZE));
  session.send(
    setPeerBandwidth(WINDOW_ACK_SIZE, PEER_BANDWIDTH_LIMIT.DYNAMIC),
  );
  session.send(setChunkSize(config.rtmpChunkSize));
  state.outChunkSize = config.rtmpChunkSize;
  session.send(resultMessage(
    cmd.transactionId,
    { fmsVer: "FMS/3,0,1,123", capabilities: 31, mode: 1 },
    statusInfo("status", NET_STATUS.CONNECT_SUCCESS, "Connection succeeded.", {
      objectEncoding: state.objectEncoding,
    }),
  ));
  session.log.debug("connect", {
    app: state.app,
    tcUrl: String(obj.tcUrl ?? ""),
  });
}

async function publish(
  session: CommandSession,
  cmd: RtmpCommand,
  streamId: number,
): Promise<void> {
  const { state, config, log } = session;
  const name = String(cmd.args[0] ?? "");
  const codes = {
    invalid: NET_STATUS.PUBLISH_BAD_NAME,
    denied: NET_STATUS.PUBLISH_BAD_NAME,
  };
  const admitted = await admit(session, name, streamId, "publish", codes);
  if (admitted === undefined || session.closing) return;
  const { path, user, session: info } = admitted;
  if (state.publisher !== undefined || state.reader !== undefined) {
    return refuse(
      session,
      streamId,
      NET_STATUS.PUBLISH_BAD_NAME,
      "This connection already publishes or plays",
    );
  }
  const override = config.paths?.[path]?.overridePublisher ??
    config.overridePublisher;
  // admit() checked them: only a named user (not `any`) gave any
  const authenticated = user !== "any";
  const type = String(cmd.args[1] ?? "live");
  const record = recordRequest(type, authenticated);
  if (record === undefined && (type === "record" || type === "append")) {
    log.info(
      "publish type ignored: recording on request needs publish credentials",
      { path, type },
    );
  }
  let publisher: Publisher;
  try {
    publisher = session.hub.publish(path, {
      overridePublisher: override,
      authenticated,
      session: info,
      record,
      onTakenOver: () => {
        log.info("another publisher took the path over", { path });
        state.publisher = undefined;
        void session.close("taken over", { flush: false });
      },
    });
  } catch (e) {
    if (!(e instanceof HubError)) throw e;
    log.info("publish refused: path is busy", { path, reason: e.message });
    return refuse(
      session,
      streamId,
      NET_STATUS.PUBLISH_BAD_NAME,
      `Stream ${path} is already publishing`,
      "path busy",
    );
  }
  state.path = path;
  state.publisher = publisher;
  state.publishStreamId = streamId;
  state.ingest = new RtmpInput(publisher, (track) => {
    log.info("track", { path, codec: track.codec, ...trackFields(track) });
  });
  state.phase = "publishing";
  session.send(streamBegin(streamId));
  session.send(statusMessage(
    streamId,
    "status",
    NET_STATUS.PUBLISH_START,
    `${path} is now published`,
  ));
  log.info("publishing", { path, type });
}

/**
 * `publish(name, "record" | "append")` records only for a publisher that
 * gave the path's publish credentials: anyone else could fill the disk.
 */
function recordRequest(
  type: string,
  authenticated: boolean,
): "record" | "append" | undefined {
  if (type !== "record" && type !== "append") return undefined;
  return authenticated ? type : undefined;
}

function stopPublishing(session: CommandSession): void {
  const { state } = session;
  if (state.publisher === undefined) return;
  state.publisher.close();
  state.publisher = undefined;
  state.ingest = undefined;
  state.phase = "connected";
  session.log.info("unpublished", { path: state.path });
}

function trackFields(track: Track) {
  return track.kind === "video"
    ? { width: track.width, height: track.height }
    : { sampleRate: track.sampleRate, channels: track.channels };
}
