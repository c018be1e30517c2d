/**
 * The RTSP methods without sockets: a request (and its session) in, the
 * reply or refusal out, against a fake connection and a real hub.
 */
import assert from "node:assert/strict";
import { RtspAuthenticator } from "../../../lib/auth/credentials.ts";
import { ReaderQueue } from "../../../lib/egress/reader_queue.ts";
import { Hub } from "../../../lib/hub/hub.ts";
import { createLogger } from "../../../lib/log.ts";
import { BatchWriter, WriteBatcher } from "../../../lib/net/batch_writer.ts";
import { RtspFramer } from "../../../lib/rtsp/framer.ts";
import { encodeRequest, type RtspRequest } from "../../../lib/rtsp/message.ts";
import type {
  ConnectionContext,
  ServerContext,
} from "../../../lib/server/rtsp/context.ts";
import { dispatch, PUBLIC } from "../../../lib/server/rtsp/methods.ts";
import { answerOf } from "../../../lib/server/rtsp/reply.ts";
import {
  type Session,
  SessionTable,
} from "../../../lib/server/rtsp/sessions.ts";

const URL = "rtsp://127.0.0.1:8554/live/cam";
const log = createLogger({ level: "error", write: () => {} });

function request(
  method: string,
  url: string,
  headers: [string, string][] = [],
  body = "",
): RtspRequest {
  let req: RtspRequest | undefined;
  new RtspFramer().push(
    encodeRequest({
      method,
      url,
      headers: [["CSeq", "1"], ...headers],
      body,
    }),
    { enqueue: (m) => m.kind === "request" && (req = m) },
  );
  return req!;
}

function fixture() {
  const hub = new Hub({ playWaitTimeoutMs: 0 });
  const sessions = new SessionTable({ hub, log });
  const batcher = new WriteBatcher(0);
  const server: ServerContext = {
    hub,
    config: {
      readTimeout: 10_000,
      writeTimeout: 10_000,
      writeQueueSize: 1 << 20,
      writeBatchInterval: 0,
      gopCache: true,
      playWaitTimeout: 0,
      overridePublisher: "auto",
      rtspSessionTimeout: 60_000,
    },
    auth: new RtspAuthenticator(),
    sessions,
    batcher,
    udp: () => {
      throw new Error("no UDP in this test");
    },
    serverPorts: { rtp: 8000, rtcp: 8001 },
  };
  const queue = new ReaderQueue();
  const conn: ConnectionContext = {
    log,
    remoteHostname: "127.0.0.1",
    secure: false,
    signal: new AbortController().signal,
    announced: undefined,
    channels: new Map(),
    sessions: new Set<Session>(),
    closed: false,
    queue,
    writer: new BatchWriter(
      { write: (p) => Promise.resolve(p.length) },
      () => queue.take(),
    ),
    sessionEnded(s) {
      this.sessions.delete(s);
    },
    close: () => Promise.resolve(),
  };
  return { hub, sessions, server, conn };
}

/** The status `req` gets: a reply's, or the refusal's. */
async function statusOf(
  f: ReturnType<typeof fixture>,
  req: RtspRequest,
  session?: Session,
): Promise<number> {
  try {
    return (await dispatch(f.server, f.conn, req, session)).status;
  } catch (e) {
    const answer = answerOf(e);
    if (answer === undefined) throw e;
    return answer.status ?? 400;
  }
}

const SDP = [
  "v=0",
  "o=- 0 0 IN IP4 127.0.0.1",
  "s=x",
  "t=0 0",
  "m=video 0 RTP/AVP 96",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1",
  "a=control:trackID=0",
  "",
].join("\r\n");

const CASES: {
  name: string;
  req: () => RtspRequest;
  status: number;
}[] = [
  { name: "OPTIONS", req: () => request("OPTIONS", URL), status: 200 },
  {
    name: "an unknown method",
    req: () => request("FLY", URL),
    status: 501,
  },
  {
    name: "PLAY without a Session",
    req: () => request("PLAY", URL),
    status: 454,
  },
  {
    name: "TEARDOWN without a Session",
    req: () => request("TEARDOWN", URL),
    status: 454,
  },
  {
    name: "SET_PARAMETER with a body",
    req: () => request("SET_PARAMETER", URL, [], "volume: 1\r\n"),
    status: 451,
  },
  {
    name: "GET_PARAMETER (keep-alive)",
    req: () => request("GET_PARAMETER", URL),
    status: 200,
  },
  {
    name: "SETUP without Transport",
    req: () => request("SETUP", `${URL}/trackID=0`),
    status: 461,
  },
  {
    name: "SETUP offering multicast only, on a server without multicast",
    req: () =>
      request("SETUP", `${URL}/trackID=0`, [[
        "Transport",
        "RTP/AVP;multicast",
      ]]),
    status: 461,
  },
  {
    name: "SETUP with client_port 0-1",
    req: () =>
      request("SETUP", `${URL}/trackID=0`, [[
        "Transport",
        "RTP/AVP;unicast;client_port=0-1",
      ]]),
    status: 400,
  },
  {
    name: "SETUP of a path with a dot-segment",
    req: () =>
      request("SETUP", "rtsp://h/live/../etc/trackID=0", [[
        "Transport",
        "RTP/AVP/TCP;unicast;interleaved=0-1",
      ]]),
    status: 400,
  },
  {
    name: "DESCRIBE of a path nobody publishes",
    req: () => request("DESCRIBE", URL),
    status: 404,
  },
  {
    name: "ANNOUNCE of an SDP that does not parse",
    req: () =>
      request("ANNOUNCE", URL, [["Content-Type", "application/sdp"]], "x"),
    status: 400,
  },
  {
    name: "ANNOUNCE of an SDP without a track Sluice reads",
    req: () =>
      request(
        "ANNOUNCE",
        URL,
        [["Content-Type", "application/sdp"]],
        SDP.replace("H264/90000", "X-NOPE/90000"),
      ),
    status: 415,
  },
  {
    name: "ANNOUNCE of an H.264 stream",
    req: () =>
      request("ANNOUNCE", URL, [["Content-Type", "application/sdp"]], SDP),
    status: 200,
  },
];

for (const c of CASES) {
  Deno.test(`RTSP methods: ${c.name} gets ${c.status}`, async () => {
    assert.equal(await statusOf(fixture(), c.req()), c.status);
  });
}

Deno.test("RTSP methods: OPTIONS lists every method; 501 lists them too", async () => {
  const f = fixture();
  const reply = await dispatch(
    f.server,
    f.conn,
    request("OPTIONS", URL),
    undefined,
  );
  assert.deepEqual(reply.headers, { Public: PUBLIC });
  try {
    await dispatch(f.server, f.conn, request("FLY", URL), undefined);
    assert.fail("FLY was answered");
  } catch (e) {
    assert.deepEqual(answerOf(e)?.headers, { Public: PUBLIC });
  }
});

Deno.test("RTSP methods: SETUP over TCP makes a session; the same track twice is 455; PLAY of a path without a stream is 404", async () => {
  const f = fixture();
  const setup = () =>
    request("SETUP", `${URL}/trackID=0`, [[
      "Transport",
      "RTP/AVP/TCP;unicast;interleaved=0-1",
    ]]);
  const reply = await dispatch(f.server, f.conn, setup(), undefined);
  assert.equal(reply.status, 200);
  const [s] = f.sessions.values();
  assert.ok(s !== undefined);
  assert.equal(f.conn.sessions.has(s), true);
  assert.match(
    (reply.headers as Record<string, string>).Session!,
    new RegExp(`^${s.id};timeout=60$`),
  );
  assert.match(
    (reply.headers as Record<string, string>).Transport!,
    /RTP\/AVP\/TCP;unicast;interleaved=0-1/,
  );
  assert.equal(f.conn.channels.get(1)?.rtcp, true, "the player's RTCP channel");
  assert.equal(await statusOf(f, setup(), s), 455);
  assert.equal(await statusOf(f, request("PLAY", URL), s), 404);
  assert.equal(await statusOf(f, request("RECORD", URL), s), 455);
  assert.equal(await statusOf(f, request("TEARDOWN", URL), s), 200);
  assert.equal(f.sessions.size, 0);
  assert.equal(f.conn.sessions.size, 0);
});

Deno.test("RTSP methods: ANNOUNCE then SETUP record then RECORD publishes on the path", async () => {
  const f = fixture();
  const announce = request("ANNOUNCE", URL, [[
    "Content-Type",
    "application/sdp",
  ]], SDP);
  assert.equal(await statusOf(f, announce), 200);
  const setup = request("SETUP", `${URL}/trackID=0`, [[
    "Transport",
    "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
  ]]);
  assert.equal(await statusOf(f, setup), 200);
  const [s] = f.sessions.values();
  assert.equal(s?.mode, "record");
  assert.equal(f.conn.channels.get(0)?.rtcp, false, "RTP comes in on 0");
  assert.equal(await statusOf(f, request("PLAY", URL), s), 455);
  assert.equal(await statusOf(f, request("RECORD", URL), s), 200);
  assert.equal(f.hub.hasPublisher("live/cam"), true);
  assert.equal(await statusOf(f, request("PAUSE", URL), s), 455);
  f.sessions.end(s!, "test");
  assert.equal(f.hub.hasPublisher("live/cam"), false);
  f.hub.close();
});

Deno.test("RTSP methods: a Session header from another connection is 454", () => {
  const f = fixture();
  const s = f.sessions.create(f.conn, "live/cam", "play");
  const other = { closed: false, sessionEnded() {} };
  assert.throws(() => f.sessions.find(other, s.id), { status: 454 });
  assert.equal(f.sessions.find(f.conn, s.id), s);
  assert.throws(() => f.sessions.find(f.conn, "nope"), { status: 454 });
});
