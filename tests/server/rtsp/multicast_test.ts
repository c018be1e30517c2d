/**
 * Multicast SETUP without sending: the groups the server chooses per path
 * and track, the Transport it answers whatever the client asked, and the
 * SETUPs it refuses. Sending is proven with real clients in a network
 * namespace (tests/interop/multicast_test.ts).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspAuthenticator } from "../../../lib/auth/credentials.ts";
import { ReaderQueue } from "../../../lib/egress/reader_queue.ts";
import { Hub } from "../../../lib/hub/hub.ts";
import { createLogger } from "../../../lib/log.ts";
import { BatchWriter, WriteBatcher } from "../../../lib/net/batch_writer.ts";
import { RtspFramer } from "../../../lib/rtsp/framer.ts";
import { parseTransport } from "../../../lib/rtsp/headers/transport.ts";
import { encodeRequest, type RtspRequest } from "../../../lib/rtsp/message.ts";
import type {
  ConnectionContext,
  ServerContext,
} from "../../../lib/server/rtsp/context.ts";
import { dispatch } from "../../../lib/server/rtsp/methods.ts";
import {
  Multicast,
  type MulticastConfig,
} from "../../../lib/server/rtsp/multicast.ts";
import { answerOf } from "../../../lib/server/rtsp/reply.ts";
import {
  type Session,
  SessionTable,
} from "../../../lib/server/rtsp/sessions.ts";
import { parseMulticastRange } from "../../../lib/config/schema.ts";

const URL = "rtsp://127.0.0.1:8554/live/cam";
const log = createLogger({ level: "error", write: () => {} });

function config(range = "224.1.0.0/16"): MulticastConfig {
  return {
    range: parseMulticastRange(range)!,
    rtpPort: 8002,
    rtcpPort: 8003,
    ttl: 16,
    hostname: "127.0.0.1",
  };
}

function request(
  method: string,
  url: string,
  headers: [string, string][] = [],
  body = "",
): RtspRequest {
  let req: RtspRequest | undefined;
  new RtspFramer().push(
    encodeRequest({ method, url, headers: [["CSeq", "1"], ...headers], body }),
    { enqueue: (m) => m.kind === "request" && (req = m) },
  );
  return req!;
}

function fixture(range?: string) {
  const hub = new Hub({ playWaitTimeoutMs: 0 });
  const sessions = new SessionTable({ hub, log });
  const multicast = new Multicast(config(range), { log, maxBytes: 1 << 20 });
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
    batcher: new WriteBatcher(0),
    udp: () => {
      throw new Error("no unicast UDP in this test");
    },
    serverPorts: { rtp: 8000, rtcp: 8001 },
    multicast,
  };
  const queue = new ReaderQueue();
  const conn: ConnectionContext = {
    log,
    remoteHostname: "127.0.0.1",
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
  return { server, conn, sessions, multicast };
}

type Fixture = ReturnType<typeof fixture>;

/** SETUP of `track` of `url`: the status and the answered Transport. */
async function setup(
  f: Fixture,
  transport: string,
  options: { url?: string; track?: number; session?: Session } = {},
): Promise<{ status: number; transport?: string }> {
  const url = `${options.url ?? URL}/trackID=${options.track ?? 0}`;
  try {
    const r = await dispatch(
      f.server,
      f.conn,
      request("SETUP", url, [["Transport", transport]]),
      options.session,
    );
    return {
      status: r.status,
      transport: (r.headers as Record<string, string>).Transport,
    };
  } catch (e) {
    const a = answerOf(e);
    if (a === undefined) throw e;
    return { status: a.status ?? 400 };
  }
}

Deno.test("RTSP multicast SETUP answers the server's group, ports and TTL", async () => {
  const f = fixture();
  try {
    const r = await setup(f, "RTP/AVP;multicast");
    assert.equal(r.status, 200);
    assert.equal(
      r.transport,
      "RTP/AVP;multicast;destination=224.1.0.1;port=8002-8003;ttl=16",
    );
    const [s] = f.sessions.values();
    assert.equal(s?.tracks.get(0)?.transport.kind, "multicast");
    assert.equal(f.multicast.stats.overridden, 0);
  } finally {
    f.multicast.close();
  }
});

Deno.test("RTSP multicast SETUP: each track of a path has its group, every session the same", async () => {
  const f = fixture();
  try {
    const groupOf = async (track: number, url = URL) =>
      parseTransport(
        (await setup(f, "RTP/AVP;multicast", { url, track }))
          .transport!,
      )[0]!.destination;
    const video = await groupOf(0);
    const audio = await groupOf(1);
    assert.notEqual(video, audio);
    assert.equal(await groupOf(0), video, "a second session, the same group");
    const other = await groupOf(0, "rtsp://127.0.0.1:8554/live/other");
    assert.ok(
      other !== video && other !== audio,
      "another path, another group",
    );
  } finally {
    f.multicast.close();
  }
});

// Bad input: RFC 2326 §12.39 lets a client ask for a destination and a TTL;
// media would then go where a request says. Never honoured.
for (
  const asked of [
    "RTP/AVP;multicast;destination=10.9.8.7;port=5000-5001;ttl=127",
    "RTP/AVP;multicast;destination=239.9.9.9",
    "RTP/AVP;multicast;ttl=255",
    "RTP/AVP;multicast;port=4000-4001",
    "RTP/AVP;multicast;client_port=5000-5001",
    "RTP/AVP/UDP;multicast;port=9000-9001;ttl=0",
  ]
) {
  Deno.test(`RTSP multicast SETUP answers the server's choice to "${asked}"`, async () => {
    const f = fixture();
    try {
      const r = await setup(f, asked);
      assert.equal(r.status, 200);
      const t = parseTransport(r.transport!)[0]!;
      assert.equal(t.destination, "224.1.0.1");
      assert.deepEqual(t.port, { rtp: 8002, rtcp: 8003 });
      assert.equal(t.ttl, 16);
      assert.equal(
        f.multicast.stats.overridden,
        /destination=|ttl=|;port=/.test(asked) ? 1 : 0,
      );
    } finally {
      f.multicast.close();
    }
  });
}

Deno.test("RTSP multicast SETUP refuses what it cannot serve with 461", async () => {
  const f = fixture("224.1.0.0/30"); // 224.1.0.1 to .3: three groups
  try {
    assert.equal(
      (await setup(f, "RTP/AVP/TCP;multicast;interleaved=0-1")).status,
      461,
      "multicast over TCP",
    );
    const first = await setup(f, "RTP/AVP;multicast");
    const [s] = f.sessions.values();
    assert.equal(first.status, 200);
    assert.equal(
      (await setup(f, "RTP/AVP;unicast;client_port=5000-5001", {
        track: 1,
        session: s,
      })).status,
      461,
      "unicast beside multicast in one session",
    );
    for (const track of [1, 2]) {
      assert.equal(
        (await setup(f, "RTP/AVP;multicast", { track })).status,
        200,
      );
    }
    assert.equal(
      (await setup(f, "RTP/AVP;multicast", { track: 3 })).status,
      461,
      "every group of the range in use",
    );
    assert.equal(f.multicast.stats.exhausted, 1);
    // the sessions end: their groups are free again, once swept
    for (const x of f.sessions.values()) f.sessions.end(x, "test");
    f.multicast.sweep(f.sessions.values());
    assert.equal(
      (await setup(f, "RTP/AVP;multicast", { track: 3 })).status,
      200,
    );
  } finally {
    f.multicast.close();
  }
});

Deno.test("RTSP multicast SETUP of RTP/SAVP is 461; an RTP/AVP alternative is taken", async () => {
  const f = fixture();
  try {
    assert.equal((await setup(f, "RTP/SAVP;multicast")).status, 461);
    assert.equal(f.sessions.size, 0, "no session for a refused SETUP");
    const r = await setup(f, "RTP/SAVP;multicast,RTP/AVP;multicast");
    assert.equal(r.status, 200);
    assert.match(r.transport ?? "", /^RTP\/AVP;multicast;destination=224\.1\./);
  } finally {
    f.multicast.close();
  }
});

Deno.test("RTSP multicast SETUP of an announced (recording) track is 461", async () => {
  const f = fixture();
  try {
    const sdp = [
      "v=0",
      "o=- 0 0 IN IP4 127.0.0.1",
      "s=x",
      "t=0 0",
      "m=video 0 RTP/AVP 96",
      "a=rtpmap:96 H264/90000",
      "a=control:trackID=0",
      "",
    ].join("\r\n");
    await dispatch(
      f.server,
      f.conn,
      request("ANNOUNCE", URL, [["Content-Type", "application/sdp"]], sdp),
      undefined,
    );
    assert.equal(
      (await setup(f, "RTP/AVP;multicast;mode=record")).status,
      461,
    );
  } finally {
    f.multicast.close();
  }
});

/** A session with multicast tracks `ids` of `path`, as the sweep sees it. */
function fakeSession(path: string, ids: number[]): Session {
  const tracks: Session["tracks"] = new Map();
  for (const id of ids) {
    tracks.set(id, {
      url: "",
      transport: {
        kind: "multicast",
        group: "",
        rtpPort: 0,
        rtcpPort: 0,
        ttl: 1,
        reply: { lowerTransport: "UDP" },
      },
    });
  }
  return { path, tracks } as Session;
}

Deno.test("Multicast.group: groups in use are distinct, in the range, outside 224.0.0.0/24, and stable", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(
        "224.0.0.0/22",
        "239.255.0.0/28",
        "239.1.2.3/32",
        "224.1.0.0/16",
      ),
      fc.array(
        fc.record({
          path: fc.integer({ min: 0, max: 5 }),
          track: fc.integer({ min: -1, max: 3 }),
          keep: fc.boolean(),
        }),
        { maxLength: 60 },
      ),
      (range, ops) => {
        const m = new Multicast(config(range), { log, maxBytes: 1 });
        const { base, size } = parseMulticastRange(range)!;
        let capacity = 0;
        for (let k = 0; k < size; k++) {
          if ((k > 0 || size < 4) && (base + k) >>> 8 !== 0xe00000) capacity++;
        }
        const live = new Map<string, string>();
        const kept: Session[] = [];
        for (const op of ops) {
          const key = `${op.path}/${op.track}`;
          const g = m.group(`p${op.path}`, op.track);
          if (g === undefined) {
            assert.equal(live.size, capacity, "refused with room left");
            continue;
          }
          if (live.has(key)) assert.equal(g.group, live.get(key), "stable");
          const n = g.group.split(".").map(Number);
          const ip = ((n[0]! << 24) | (n[1]! << 16) | (n[2]! << 8) | n[3]!) >>>
            0;
          assert.ok(ip >= base && ip < base + size, `${g.group} in ${range}`);
          assert.ok(ip >>> 8 !== 0xe00000, `${g.group} is local control`);
          for (const [k, other] of live) {
            if (k !== key) assert.notEqual(other, g.group, "distinct");
          }
          live.set(key, g.group);
          if (op.keep) kept.push(fakeSession(`p${op.path}`, [op.track]));
          else {
            // the session went: the sweep frees its group unless another holds it
            m.sweep(kept);
            for (const k of [...live.keys()]) {
              const [p, t] = k.split("/");
              if (!kept.some((s) => s.path === `p${p}` && s.tracks.has(+t!))) {
                live.delete(k);
              }
            }
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});
