/**
 * The RTMP commands without sockets: a sequence of commands in, the replies
 * (control messages, `_result`s, `onStatus`es) out, against a fake session
 * and a real hub, or a fake one where the case says so.
 */
import assert from "node:assert/strict";
import type { Config } from "../../../lib/config/schema.ts";
import { ProtocolError } from "../../../lib/errors.ts";
import { ReaderQueue } from "../../../lib/egress/reader_queue.ts";
import { Hub, HubError } from "../../../lib/hub/hub.ts";
import { createLogger } from "../../../lib/log.ts";
import type { Frame } from "../../../lib/media/frame.ts";
import type { AudioTrack, VideoTrack } from "../../../lib/media/track.ts";
import { ChunkDemuxer } from "../../../lib/rtmp/chunk_demuxer.ts";
import {
  decodeCommand,
  decodeData,
  type RtmpCommand,
} from "../../../lib/rtmp/command.ts";
import { decodeControl, decodeUserControl } from "../../../lib/rtmp/control.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../../lib/rtmp/message.ts";
import { infoOf } from "../../../lib/rtmp/status.ts";
import { dispatch, errorAnswer } from "../../../lib/server/rtmp/commands.ts";
import {
  type CommandSession,
  type CommandSource,
  initialState,
  type RtmpServerConfig,
} from "../../../lib/server/rtmp/context.ts";
import { hex } from "../../_util/bytes.ts";

const log = createLogger({ level: "error", write: () => {} });
const CHUNK_SIZE = 4096;

const CONFIG: RtmpServerConfig = {
  readTimeout: 10_000,
  writeTimeout: 10_000,
  writeQueueSize: 1 << 20,
  writeBatchInterval: 0,
  gopCache: true,
  playWaitTimeout: 0,
  overridePublisher: "auto",
  rtmpChunkSize: CHUNK_SIZE,
  rtmpMaxMessageSize: 1 << 20,
  rtmpMaxChunkSize: 1 << 16,
  paths: {
    "live/locked": { readUser: "u", readPass: "p" },
  } as Config["paths"],
};

/** A session whose sends, closes and failures are kept for the test to read. */
function fakeSession(
  hub: CommandSession["hub"],
  config: RtmpServerConfig = CONFIG,
) {
  const sent: RtmpMessage[] = [];
  const closed: string[] = [];
  const failed: { e: unknown; source?: CommandSource }[] = [];
  const abort = new AbortController();
  const session: CommandSession = {
    hub,
    config,
    log,
    state: initialState(),
    queue: new ReaderQueue(),
    signal: abort.signal,
    get closing() {
      return closed.length > 0;
    },
    send: (m) => void sent.push(m),
    flush() {},
    close(reason) {
      closed.push(reason);
      abort.abort(new Error(reason));
      return Promise.resolve();
    },
    fail(e, source) {
      failed.push({ e, source });
      return Promise.resolve();
    },
    countDrops() {},
  };
  return { session, sent, closed, failed };
}

/** One command as it arrives: its message stream, then what it carries. */
interface Step {
  on: number;
  cmd: RtmpCommand;
}

function call(
  name: string,
  transactionId: number,
  ...args: unknown[]
): Step {
  return { on: 0, cmd: { name, transactionId, commandObject: null, args } };
}

function onStream(on: number, name: string, ...args: unknown[]): Step {
  return { on, cmd: { name, transactionId: 0, commandObject: null, args } };
}

/** `step` with a transaction id, as ffmpeg numbers even its stream commands. */
function withTransaction(step: Step, transactionId: number): Step {
  return { on: step.on, cmd: { ...step.cmd, transactionId } };
}

const CONNECT: Step = {
  on: 0,
  cmd: {
    name: "connect",
    transactionId: 1,
    commandObject: { app: "live", tcUrl: "rtmp://127.0.0.1/live" },
    args: [],
  },
};
const CONNECT_REPLIES = [
  "WindowAckSize 2500000",
  "SetPeerBandwidth 2500000",
  `SetChunkSize ${CHUNK_SIZE}`,
  "_result 1 NetConnection.Connect.Success",
];

/** A sent message in a few words, for comparing sequences. */
function describe(m: RtmpMessage): string {
  switch (m.typeId) {
    case MESSAGE_TYPE.COMMAND_AMF0: {
      const c = decodeCommand(m.payload, false);
      const info = infoOf(c);
      if (c.name === "onStatus") {
        return `onStatus ${m.streamId} ${info.level} ${info.code}`;
      }
      const value = typeof c.args[0] === "number"
        ? ` ${c.args[0]}`
        : info.code === undefined
        ? ""
        : ` ${info.code}`;
      return `${c.name} ${c.transactionId}${value}`;
    }
    case MESSAGE_TYPE.DATA_AMF0:
      return `data ${m.streamId} ${decodeData(m.payload, false).join(" ")}`;
    case MESSAGE_TYPE.USER_CONTROL: {
      const e = decodeUserControl(m.payload);
      return e.type === "streamBegin" ? `StreamBegin ${e.streamId}` : e.type;
    }
    default: {
      const c = decodeControl(m);
      if (c?.type === "setChunkSize") return `SetChunkSize ${c.size}`;
      if (c?.type === "windowAckSize") return `WindowAckSize ${c.size}`;
      if (c?.type === "setPeerBandwidth") return `SetPeerBandwidth ${c.size}`;
      return `type ${m.typeId}`;
    }
  }
}

/** Lets a play's wait for its stream settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
}

/** A hub without streams: every play is of a missing path. */
const EMPTY_HUB: CommandSession["hub"] = {
  publish: () => {
    throw new Error("this hub takes no publisher");
  },
  waitForStream: (path) =>
    Promise.reject(new HubError(`no ${path}`, "not-found", path)),
  readerLeft: () => {},
};

interface Case {
  name: string;
  steps: Step[];
  /** Sent, in order. */
  replies: string[];
  /** The fake hub instead of a real one. */
  hub?: CommandSession["hub"];
  /** Paths published on the real hub before the steps. */
  published?: string[];
  config?: Partial<RtmpServerConfig>;
  /** The code of the ProtocolError the last step throws. */
  throws?: string;
  /** The code of the ProtocolError a step handed to `fail()`. */
  failed?: string;
  /** What the session sends for that error before it closes. */
  answer?: string;
  /** Why the connection was closed, when it was. */
  closed?: string[];
  /** Where the state machine ends. */
  phase?: string;
}

const CASES: Case[] = [
  {
    name: "connect: the window, bandwidth, chunk size, then Connect.Success",
    steps: [CONNECT],
    replies: CONNECT_REPLIES,
    phase: "connected",
  },
  {
    name: "connect twice: the second is a sequence error, answered by _error",
    steps: [CONNECT, CONNECT],
    replies: CONNECT_REPLIES,
    throws: "sequence",
    answer: "_error 1 NetConnection.Call.Failed",
  },
  {
    name: "publish before connect: a sequence error, answered on its stream",
    steps: [onStream(1, "publish", "cam", "live")],
    replies: [],
    throws: "sequence",
    answer: "onStatus 1 error NetStream.Failed",
    phase: "connecting",
  },
  {
    name: "play before connect: a sequence error through fail()",
    steps: [withTransaction(onStream(1, "play", "cam"), 4)],
    replies: [],
    failed: "sequence",
    answer: "_error 4 NetConnection.Call.Failed",
  },
  {
    name:
      "publish before connect on stream 0 without a transaction id: no answer",
    steps: [onStream(0, "publish", "cam")],
    replies: [],
    throws: "sequence",
  },
  {
    name: "createStream numbers streams from 1",
    steps: [CONNECT, call("createStream", 2), call("createStream", 3)],
    replies: [...CONNECT_REPLIES, "_result 2 1", "_result 3 2"],
  },
  {
    name:
      "releaseStream, FCPublish, _checkbw and getStreamLength: an empty _result when a transaction id asks",
    steps: [
      CONNECT,
      call("releaseStream", 2, "cam"),
      call("FCPublish", 3, "cam"),
      call("FCPublish", 0, "cam"),
      call("_checkbw", 4),
      call("getStreamLength", 5, "cam"),
      call("FCUnpublish", 6, "cam"),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "_result 2",
      "_result 3",
      "_result 4",
      "_result 5 0",
    ],
  },
  {
    name: "publish: StreamBegin and Publish.Start",
    steps: [CONNECT, call("createStream", 2), onStream(1, "publish", "cam")],
    replies: [
      ...CONNECT_REPLIES,
      "_result 2 1",
      "StreamBegin 1",
      "onStatus 1 status NetStream.Publish.Start",
    ],
    phase: "publishing",
  },
  {
    name: "publish with a name that climbs out of the app: Publish.BadName",
    steps: [CONNECT, onStream(1, "publish", "../../etc/passwd")],
    replies: [...CONNECT_REPLIES, "onStatus 1 error NetStream.Publish.BadName"],
    closed: ["invalid stream name"],
  },
  {
    name: "publish with an empty name: Publish.BadName",
    steps: [CONNECT, onStream(1, "publish", "")],
    replies: [...CONNECT_REPLIES, "onStatus 1 error NetStream.Publish.BadName"],
    closed: ["invalid stream name"],
  },
  {
    name: "publish of a busy path, override off: Publish.BadName",
    steps: [CONNECT, onStream(1, "publish", "cam")],
    published: ["live/cam"],
    config: { overridePublisher: false },
    replies: [...CONNECT_REPLIES, "onStatus 1 error NetStream.Publish.BadName"],
    closed: ["path busy"],
  },
  {
    name: "a second publish on one connection: refused, the first goes on",
    steps: [
      CONNECT,
      onStream(1, "publish", "cam"),
      onStream(1, "publish", "cam2"),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Publish.Start",
      "onStatus 1 error NetStream.Publish.BadName",
    ],
    phase: "publishing",
  },
  {
    name: "deleteStream of the publishing stream: Unpublish.Success",
    steps: [
      CONNECT,
      onStream(1, "publish", "cam"),
      call("deleteStream", 0, 1),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Publish.Start",
      "onStatus 1 status NetStream.Unpublish.Success",
    ],
    phase: "connected",
  },
  {
    name: "closeStream on the publishing stream: Unpublish.Success",
    steps: [
      CONNECT,
      onStream(1, "publish", "cam"),
      onStream(1, "closeStream"),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Publish.Start",
      "onStatus 1 status NetStream.Unpublish.Success",
    ],
    phase: "connected",
  },
  {
    name: "deleteStream of another stream: no answer, publishing goes on",
    steps: [
      CONNECT,
      onStream(1, "publish", "cam"),
      call("deleteStream", 0, 2),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Publish.Start",
    ],
    phase: "publishing",
  },
  {
    name: "play of a missing path: Play.StreamNotFound",
    hub: EMPTY_HUB,
    steps: [CONNECT, onStream(1, "play", "nobody")],
    replies: [
      ...CONNECT_REPLIES,
      "onStatus 1 error NetStream.Play.StreamNotFound",
    ],
    closed: ["stream not found"],
  },
  {
    name: "play of a published path: Reset, Start, sample access, Data.Start",
    published: ["live/cam"],
    steps: [CONNECT, onStream(1, "play", "cam")],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Play.Reset",
      "onStatus 1 status NetStream.Play.Start",
      "data 1 |RtmpSampleAccess true true",
      "onStatus 1 status NetStream.Data.Start",
    ],
    phase: "playing",
  },
  {
    name: "play2 takes its name from streamName",
    published: ["live/cam"],
    steps: [CONNECT, onStream(1, "play2", { streamName: "cam" })],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Play.Reset",
      "onStatus 1 status NetStream.Play.Start",
      "data 1 |RtmpSampleAccess true true",
      "onStatus 1 status NetStream.Data.Start",
    ],
    phase: "playing",
  },
  {
    name: "play without the path's credentials: Play.Failed",
    published: ["live/locked"],
    steps: [CONNECT, onStream(1, "play", "locked?user=u&pass=wrong")],
    replies: [...CONNECT_REPLIES, "onStatus 1 error NetStream.Play.Failed"],
    closed: ["authentication failed"],
  },
  {
    name: "pause and unpause: Pause.Notify, Unpause.Notify",
    published: ["live/cam"],
    steps: [
      CONNECT,
      onStream(1, "play", "cam"),
      onStream(1, "pause", true, 0),
      onStream(1, "pause", false, 0),
    ],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Play.Reset",
      "onStatus 1 status NetStream.Play.Start",
      "data 1 |RtmpSampleAccess true true",
      "onStatus 1 status NetStream.Data.Start",
      "onStatus 1 status NetStream.Pause.Notify",
      "onStatus 1 status NetStream.Unpause.Notify",
    ],
    phase: "playing",
  },
  {
    name: "pause when not playing: no answer",
    steps: [CONNECT, onStream(1, "pause", true, 0)],
    replies: CONNECT_REPLIES,
  },
  {
    name: "deleteStream of the playing stream: the player leaves",
    published: ["live/cam"],
    steps: [CONNECT, onStream(1, "play", "cam"), call("deleteStream", 0, 1)],
    replies: [
      ...CONNECT_REPLIES,
      "StreamBegin 1",
      "onStatus 1 status NetStream.Play.Reset",
      "onStatus 1 status NetStream.Play.Start",
      "data 1 |RtmpSampleAccess true true",
      "onStatus 1 status NetStream.Data.Start",
    ],
    phase: "connected",
  },
];

/** What the session answers a protocol error of `source` with, in a few words. */
function answerOf(e: ProtocolError, source: CommandSource): string | undefined {
  const m = errorAnswer(e, source);
  return m === undefined ? undefined : describe(m);
}

/** The code of a ProtocolError; the error itself when it is another. */
function codeOf(e: unknown): unknown {
  return e instanceof ProtocolError ? e.code : e;
}

for (const c of CASES) {
  Deno.test(`RTMP commands: ${c.name}`, async () => {
    const config = { ...CONFIG, ...c.config };
    const hub = new Hub({ playWaitTimeoutMs: 0 });
    for (const path of c.published ?? []) hub.publish(path);
    const f = fakeSession(c.hub ?? hub, config);
    let thrown: { e: unknown; source: CommandSource } | undefined;
    for (const step of c.steps) {
      try {
        dispatch(f.session, step.cmd, step.on);
      } catch (e) {
        thrown = { e, source: { cmd: step.cmd, streamId: step.on } };
        break;
      }
      await settle();
    }
    assert.deepEqual(f.sent.map(describe), c.replies);
    assert.equal(codeOf(thrown?.e), c.throws);
    assert.deepEqual(
      f.failed.map((x) => codeOf(x.e)),
      c.failed === undefined ? [] : [c.failed],
    );
    const error = thrown ?? f.failed[0];
    assert.equal(
      error?.e instanceof ProtocolError && error.source !== undefined
        ? answerOf(error.e, error.source)
        : undefined,
      c.answer,
    );
    assert.deepEqual(f.closed, c.closed ?? []);
    if (c.phase !== undefined) assert.equal(f.session.state.phase, c.phase);
    hub.close();
  });
}

// H.264 Baseline 176x144 (tests/codec/h264_test.ts) and a PPS.
const H264: VideoTrack = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  width: 176,
  height: 144,
  parameterSets: {
    sps: [hex("67 42 00 0b ed 05 89 c8")],
    pps: [hex("68 ce 38 80")],
  },
};
// ISO/IEC 14496-3 §1.6.2.1: AAC LC, 44.1 kHz, 2 channels
const AAC: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 44100,
  sampleRate: 44100,
  channels: 2,
  config: hex("12 10"),
};

function video(ms: number, keyframe: boolean): Frame {
  const nal = new Uint8Array(40).fill(1);
  nal[0] = keyframe ? 0x65 : 0x41;
  return { trackId: 0, dts: ms * 90, pts: ms * 90, keyframe, units: [nal] };
}

function audio(ms: number): Frame {
  const dts = Math.round(ms * 44.1);
  return {
    trackId: 1,
    dts,
    pts: dts,
    keyframe: true,
    units: [new Uint8Array(8).fill(0xa0)],
  };
}

/** The media a player's queue holds, as message types, configuration left out. */
function mediaQueued(queue: ReaderQueue, demuxer: ChunkDemuxer): string[] {
  const types: string[] = [];
  for (const chunk of queue.take()) {
    demuxer.push(chunk, {
      enqueue: (m) => {
        if (m.typeId === MESSAGE_TYPE.AUDIO && m.payload[1] !== 0) {
          types.push("audio");
        } else if (m.typeId === MESSAGE_TYPE.VIDEO && m.payload[1] !== 0) {
          types.push("video");
        }
      },
    });
  }
  return types;
}

for (const name of ["receiveAudio", "receiveVideo"] as const) {
  Deno.test(`RTMP commands: ${name}(false) filters the player's next frames, (true) lets them in again`, async () => {
    const hub = new Hub({ playWaitTimeoutMs: 0 });
    const publisher = hub.publish("live/cam");
    publisher.setTracks([H264, AAC]);
    const f = fakeSession(hub);
    for (const step of [CONNECT, onStream(1, "play", "cam")]) {
      dispatch(f.session, step.cmd, step.on);
      await settle();
    }
    assert.equal(f.session.state.phase, "playing");
    const demuxer = new ChunkDemuxer({ chunkSize: CHUNK_SIZE });
    const write = (ms: number) => {
      publisher.writeFrame(video(ms, ms === 0));
      publisher.writeFrame(audio(ms));
    };
    write(0);
    assert.deepEqual(mediaQueued(f.session.queue, demuxer), ["video", "audio"]);
    dispatch(f.session, onStream(1, name, false).cmd, 1);
    write(40);
    const left = name === "receiveAudio" ? "video" : "audio";
    assert.deepEqual(mediaQueued(f.session.queue, demuxer), [left]);
    dispatch(f.session, onStream(1, name, true).cmd, 1);
    write(80);
    assert.deepEqual(mediaQueued(f.session.queue, demuxer), ["video", "audio"]);
    assert.deepEqual(f.sent.map(describe).slice(CONNECT_REPLIES.length), [
      "StreamBegin 1",
      "onStatus 1 status NetStream.Play.Reset",
      "onStatus 1 status NetStream.Play.Start",
      "data 1 |RtmpSampleAccess true true",
      "onStatus 1 status NetStream.Data.Start",
    ]);
    hub.close();
  });
}

Deno.test("RTMP commands: a paused player gets no frames until it unpauses", async () => {
  const hub = new Hub({ playWaitTimeoutMs: 0 });
  const publisher = hub.publish("live/cam");
  publisher.setTracks([H264, AAC]);
  const f = fakeSession(hub);
  for (const step of [CONNECT, onStream(1, "play", "cam")]) {
    dispatch(f.session, step.cmd, step.on);
    await settle();
  }
  const demuxer = new ChunkDemuxer({ chunkSize: CHUNK_SIZE });
  publisher.writeFrame(video(0, true));
  assert.deepEqual(mediaQueued(f.session.queue, demuxer), ["video"]);
  dispatch(f.session, onStream(1, "pause", true, 40).cmd, 1);
  publisher.writeFrame(video(40, false));
  assert.deepEqual(mediaQueued(f.session.queue, demuxer), []);
  dispatch(f.session, onStream(1, "pause", false, 40).cmd, 1);
  publisher.writeFrame(video(80, false));
  // back from the cached GOP (the keyframe at 0, then 40), then the new frame
  assert.deepEqual(mediaQueued(f.session.queue, demuxer), [
    "video",
    "video",
    "video",
  ]);
  hub.close();
});

Deno.test('RTMP commands: publish(name, "record"|"append") asks the hub to record only with the path\'s publish credentials', async () => {
  const config: RtmpServerConfig = {
    ...CONFIG,
    paths: { "live/rec": { publishUser: "enc", publishPass: "pw" } },
  };
  const cases: [string, string, string | undefined][] = [
    ["rec?user=enc&pass=pw", "record", "record"],
    ["rec?user=enc&pass=pw", "append", "append"],
    ["rec?user=enc&pass=pw", "live", undefined],
    ["open", "record", undefined], // anyone may publish here: nobody may fill the disk
  ];
  for (const [name, type, want] of cases) {
    const asked: (string | undefined)[] = [];
    const hub = new Hub({
      playWaitTimeoutMs: 0,
      onPublish: (_s, o) => void asked.push(o.record),
    });
    const f = fakeSession(hub, config);
    for (
      const step of [
        CONNECT,
        call("createStream", 2),
        onStream(1, "publish", name, type),
      ]
    ) {
      dispatch(f.session, step.cmd, step.on);
      await settle();
    }
    assert.deepEqual(asked, [want], `${name} ${type}`);
    assert.equal(f.session.state.phase, "publishing");
    hub.close();
  }
});
