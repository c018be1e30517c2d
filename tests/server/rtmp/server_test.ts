/**
 * The RTMP server driven by Sluice's own RTMP client and by raw sockets:
 * status codes, slow readers, timeouts and hostile input.
 */
import assert from "node:assert/strict";
import { RtmpClient, RtmpStatusError } from "../../../lib/client/rtmp.ts";
import { concat } from "@std/bytes";
import { ChunkDemuxer } from "../../../lib/rtmp/chunk_demuxer.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../../lib/rtmp/message.ts";
import { infoOf } from "../../../lib/rtmp/status.ts";
import { HandshakeClient } from "../../../lib/rtmp/handshake.ts";
import { encodeMessage } from "../../../lib/rtmp/chunk_muxer.ts";
import { decodeCommand, encodeCommand } from "../../../lib/rtmp/command.ts";
import { fixtureTags, publishLoops } from "../../_util/flv_fixture.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { until } from "../../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Polls `check` until it holds; fails with the instance's logs after `timeoutMs`. */
function waitFor(
  what: string,
  s: TestSluice,
  check: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  return until(check, timeoutMs, () => `${what}:\n${s.logs.join("\n")}`);
}

Deno.test(
  "RTMP server answers play of a missing stream with NetStream.Play.StreamNotFound",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "300ms" });
    const c = await RtmpClient.connect(s.rtmpUrl("live/none"));
    await assert.rejects(c.play(), (e) =>
      e instanceof RtmpStatusError &&
      e.code === "NetStream.Play.StreamNotFound");
    c.close();
  },
);

Deno.test(
  "RTMP server refuses a second publisher with NetStream.Publish.BadName when override is off",
  opts,
  async () => {
    await using s = startTestSluice({ overridePublisher: false });
    const a = await RtmpClient.connect(s.rtmpUrl("live/x"));
    await a.publish();
    const b = await RtmpClient.connect(s.rtmpUrl("live/x"));
    await assert.rejects(
      b.publish(),
      (e) =>
        e instanceof RtmpStatusError && e.code === "NetStream.Publish.BadName",
    );
    a.close();
    b.close();
  },
);

Deno.test(
  "RTMP server sends Play.Reset, Play.Start and the GOP, then UnpublishNotify after the grace period",
  opts,
  async () => {
    await using s = startTestSluice({ publisherGracePeriod: "300ms" });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/g"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    await waitFor(
      "frames in the hub",
      s,
      () => (s.sluice.hub.stream("live/g")?.stats.framesIn ?? 0) >= 100,
    );
    const player = await RtmpClient.connect(s.rtmpUrl("live/g"));
    await player.play();
    const types: number[] = [];
    const reading = (async () => {
      for await (const m of player.messages()) {
        types.push(m.typeId);
      }
    })();
    pub.close();
    await reading;
    assert.deepEqual(player.statuses.slice(0, 3), [
      "NetStream.Play.Reset",
      "NetStream.Play.Start",
      "NetStream.Data.Start",
    ]);
    assert.ok(
      player.statuses.includes("NetStream.Play.UnpublishNotify"),
      player.statuses.join(),
    );
    assert.equal(types[0], MESSAGE_TYPE.DATA_AMF0, "metadata first");
    assert.ok(
      types.filter((t) => t === MESSAGE_TYPE.VIDEO).length >= 26,
      "sequence header and the GOP from the last keyframe",
    );
  },
);

Deno.test(
  "RTMP server honours receiveVideo(false) for one player only",
  opts,
  async () => {
    await using s = startTestSluice();
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/rv"));
    await pub.publish();
    const audioOnly = await RtmpClient.connect(s.rtmpUrl("live/rv"));
    await audioOnly.play();
    audioOnly.command("receiveVideo", false);
    const both = await RtmpClient.connect(s.rtmpUrl("live/rv"));
    await both.play();
    await new Promise((r) => setTimeout(r, 100));
    const count = async (c: RtmpClient) => {
      const n = { audio: 0, video: 0 };
      for await (const m of c.messages()) {
        if (m.typeId === MESSAGE_TYPE.AUDIO) n.audio++;
        if (m.typeId === MESSAGE_TYPE.VIDEO && m.payload[1] === 1) n.video++; // coded frames
      }
      return n;
    };
    const counting = [count(audioOnly), count(both)];
    await publishLoops(pub, tags, 3);
    await new Promise((r) => setTimeout(r, 200));
    audioOnly.close();
    both.close();
    pub.close();
    const [a, b] = await Promise.all(counting);
    assert.equal(a!.video, 0, "no video after receiveVideo(false)");
    assert.ok(a!.audio >= 3 * 80, `audio still flows (${a!.audio})`);
    assert.ok(b!.video >= 3 * 50, `the other player gets video (${b!.video})`);
  },
);

Deno.test(
  "RTMP server drops a reader that stops reading, and the other reader gets everything",
  opts,
  async () => {
    await using s = startTestSluice({
      writeQueueSize: "1MiB",
      writeTimeout: "1s",
    });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/slow"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    const good = await RtmpClient.connect(s.rtmpUrl("live/slow"));
    await good.play();
    const stuck = await RtmpClient.connect(s.rtmpUrl("live/slow"), {
      maxQueued: 1,
    });
    await stuck.play(); // and never reads a message: its socket fills up
    let goodVideo = 0;
    const reading = (async () => {
      for await (
        const m of good.messages()
      ) {
        if (m.typeId === MESSAGE_TYPE.VIDEO && m.payload[1] === 1) {
          goodVideo++;
        }
      }
    })();
    // ~20 MB: more than loopback socket buffers can absorb for the stuck reader
    const published = await publishLoops(pub, tags, 400, 2);
    await waitFor(
      "the stuck reader is dropped",
      s,
      () => s.logs.some((l) => l.includes("dropping reader")),
      15_000,
    );
    const stream = s.sluice.hub.stream("live/slow")!;
    await waitFor(
      `the good reader catches up (${published} published)`,
      s,
      () => goodVideo >= published,
      10_000,
    ).catch((e) => {
      throw new Error(
        `${e.message}\ngood reader got ${goodVideo}, framesIn ${
          s.sluice.hub.stream("live/slow")?.stats.framesIn
        }`,
      );
    });
    assert.ok(
      stream.stats.readerDrops > 0,
      "packets were dropped for the stuck reader",
    );
    assert.equal(stream.stats.readersDropped, 1);
    assert.equal(s.sluice.rtmp!.stats.readersDropped, 1);
    assert.equal(stream.readers, 1, "only the good reader is left");
    pub.close();
    good.close();
    stuck.close();
    await reading;
  },
);

Deno.test(
  "RTMP server closes a connection that sends nothing for readTimeout",
  opts,
  async () => {
    await using s = startTestSluice({ readTimeout: "1s" });
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: s.sluice.rtmpPort!,
    });
    const started = Date.now();
    const n = await conn.read(new Uint8Array(16)); // no handshake at all: half-open
    assert.equal(n, null);
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 4000, `closed after ${took} ms`);
    conn.close();
  },
);

Deno.test(
  "RTMP server: a publisher that goes silent is dropped by readTimeout and its readers wait",
  opts,
  async () => {
    await using s = startTestSluice({
      readTimeout: "1s",
      publisherGracePeriod: "10s",
    });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/silent"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    const player = await RtmpClient.connect(s.rtmpUrl("live/silent"));
    await player.play();
    await waitFor(
      "the silent publisher is dropped",
      s,
      () => !s.sluice.hub.hasPublisher("live/silent"),
      5000,
    );
    assert.ok(
      s.sluice.hub.stream("live/silent"),
      "the stream waits for a new publisher",
    );
    assert.equal(
      player.closed,
      false,
      "the player stays attached during the grace period",
    );
    assert.equal(
      player.statuses.includes("NetStream.Play.UnpublishNotify"),
      false,
    );
    player.close();
    pub.close();
  },
);

/** Sends raw bytes after a valid handshake; returns whether the server closed the socket. */
async function sendAfterHandshake(
  port: number,
  bytes: Uint8Array,
): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const hs = new HandshakeClient();
  await conn.write(hs.start());
  const buf = new Uint8Array(65536);
  while (!hs.done) {
    const n = await conn.read(buf);
    if (n === null) return true;
    const reply = hs.push(buf.subarray(0, n));
    if (reply) await conn.write(reply);
  }
  await conn.write(bytes);
  const deadline = setTimeout(() => conn.close(), 5000);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return true;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(deadline);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test(
  "RTMP server closes only the connection that sends bad input, other streams play on",
  opts,
  async () => {
    await using s = startTestSluice({ rtmpMaxMessageSize: "1MiB" }, "warn");
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/ok"));
    await pub.publish();
    const player = await RtmpClient.connect(s.rtmpUrl("live/ok"));
    const port = s.sluice.rtmpPort!;
    const hostile: [string, Uint8Array][] = [
      // Set Chunk Size of 2^31 - 1 (a 2 GB allocation in a server that trusts it)
      [
        "huge chunk size",
        encodeMessage({
          chunkStreamId: 2,
          typeId: 1,
          timestamp: 0,
          streamId: 0,
          payload: new Uint8Array([0x7f, 0xff, 0xff, 0xff]),
        }, 128),
      ],
      // a message header announcing 16 MiB - 1 against a 1 MiB limit
      [
        "huge message",
        new Uint8Array([0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0]),
      ],
      // a type-3 chunk on a chunk stream that never had a header
      ["type 3 first", new Uint8Array([0xc9, 1, 2, 3])],
      // a command whose first value is a number, not a name
      [
        "command without name",
        encodeMessage({
          chunkStreamId: 3,
          typeId: 20,
          timestamp: 0,
          streamId: 0,
          payload: new Uint8Array([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
        }, 128),
      ],
      // a truncated AMF string inside connect
      [
        "short AMF",
        encodeMessage({
          chunkStreamId: 3,
          typeId: 20,
          timestamp: 0,
          streamId: 0,
          payload: new Uint8Array([0x02, 0x00, 0x07, 0x63]),
        }, 128),
      ],
      // publish before connect
      [
        "publish before connect",
        encodeMessage({
          chunkStreamId: 3,
          typeId: 20,
          timestamp: 0,
          streamId: 1,
          payload: encodeCommand({
            name: "publish",
            transactionId: 5,
            commandObject: null,
            args: ["x"],
          }),
        }, 128),
      ],
    ];
    await player.play();
    const reading = (async () => {
      let n = 0;
      for await (
        const m of player.messages()
      ) if (m.typeId === MESSAGE_TYPE.VIDEO) n++;
      return n;
    })();
    for (const [name, bytes] of hostile) {
      assert.equal(
        await sendAfterHandshake(port, bytes),
        true,
        `${name}: the server closes that connection`,
      );
      await publishLoops(pub, tags, 1);
    }
    // a wrong version byte in C0
    const bad = await Deno.connect({ hostname: "127.0.0.1", port });
    await bad.write(new Uint8Array(1537).fill(0x06));
    assert.equal(
      await bad.read(new Uint8Array(4096)),
      null,
      "RTMPE is refused",
    );
    bad.close();
    pub.close();
    const videos = await reading;
    assert.ok(
      videos >= hostile.length * 50,
      `the player got every loop (${videos} video messages)`,
    );
    assert.ok(
      s.sluice.rtmp!.stats.protocolErrors >= hostile.length,
      `${s.sluice.rtmp!.stats.protocolErrors} protocol errors counted`,
    );
  },
);

Deno.test(
  "RTMP server rejects a stream name over 255 bytes and with control characters",
  opts,
  async () => {
    await using s = startTestSluice();
    for (const name of ["x".repeat(300), "a\u0001b", "../etc"]) {
      const c = await RtmpClient.connect(s.rtmpUrl("live/placeholder"));
      await assert.rejects(
        c.publish(name),
        (e) =>
          e instanceof RtmpStatusError &&
          e.code === "NetStream.Publish.BadName",
      );
      c.close();
    }
  },
);

Deno.test(
  "RTMP server checks path credentials in the stream name's query, for publish and play",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: {
        "live/cred": {
          publishUser: "cam",
          publishPass: "pw",
          readUser: "v",
          readPass: "r",
        },
      },
    });
    const noCreds = await RtmpClient.connect(s.rtmpUrl("live/placeholder"));
    await assert.rejects(
      noCreds.publish("cred"),
      (e) =>
        e instanceof RtmpStatusError && e.code === "NetStream.Publish.BadName",
    );
    noCreds.close();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/placeholder"));
    await pub.publish("cred?user=cam&pass=pw");
    assert.equal(
      s.sluice.hub.hasPublisher("live/cred"),
      true,
      "the query is not part of the path",
    );
    const wrong = await RtmpClient.connect(s.rtmpUrl("live/placeholder"));
    await assert.rejects(
      wrong.play("cred?user=v&pass=nope"),
      (e) => e instanceof RtmpStatusError && e.code === "NetStream.Play.Failed",
    );
    wrong.close();
    const right = await RtmpClient.connect(s.rtmpUrl("live/placeholder"));
    await right.play("cred?user=v&pass=r");
    right.close();
    pub.close();
    assert.ok(s.logs.some((l) => l.includes("authentication failed")));
  },
);

/** Sends `bytes` after a valid handshake; returns the messages the server sent until it closed. */
async function repliesAfterHandshake(
  port: number,
  bytes: Uint8Array,
): Promise<RtmpMessage[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const hs = new HandshakeClient();
  await conn.write(hs.start());
  const buf = new Uint8Array(65536);
  while (!hs.done) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed in the handshake");
    const reply = hs.push(buf.subarray(0, n));
    if (reply) await conn.write(reply);
  }
  await conn.write(bytes);
  const demuxer = new ChunkDemuxer();
  const messages: RtmpMessage[] = [];
  const out = { enqueue: (m: RtmpMessage) => void messages.push(m) };
  if (hs.rest.length > 0) demuxer.push(hs.rest.slice(), out);
  const deadline = setTimeout(() => conn.close(), 5000);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return messages;
      demuxer.push(buf.slice(0, n), out);
    }
  } finally {
    clearTimeout(deadline);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test(
  "RTMP server answers a second connect with _error, then closes that connection",
  opts,
  async () => {
    await using s = startTestSluice({}, "error");
    const connect = (transactionId: number) =>
      encodeMessage({
        chunkStreamId: 3,
        typeId: MESSAGE_TYPE.COMMAND_AMF0,
        timestamp: 0,
        streamId: 0,
        payload: encodeCommand({
          name: "connect",
          transactionId,
          commandObject: { app: "live", tcUrl: "rtmp://127.0.0.1/live" },
          args: [],
        }),
      }, 128);
    const messages = await repliesAfterHandshake(
      s.sluice.rtmpPort!,
      concat([connect(1), connect(2)]),
    );
    const commands = messages
      .filter((m) => m.typeId === MESSAGE_TYPE.COMMAND_AMF0)
      .map((m) => decodeCommand(m.payload, false))
      .map((c) => `${c.name} ${c.transactionId} ${infoOf(c).code}`);
    assert.deepEqual(commands, [
      "_result 1 NetConnection.Connect.Success",
      "_error 2 NetConnection.Call.Failed",
    ]);
    assert.equal(s.sluice.rtmp!.stats.protocolErrors, 1);
  },
);
