/**
 * RTSP multicast with real clients. Runs inside a network namespace of its
 * own (made by `multicast_test.ts`, which starts this file there with `ip
 * netns exec`): every group is routed on that namespace's `lo` and no
 * packet leaves it. Not a `_test.ts` file: run in the host's namespace its
 * groups would follow the default route.
 */
import assert from "node:assert/strict";
import { parseTransport } from "../../lib/rtsp/headers/transport.ts";
import { joinMulticast } from "../../lib/net/multicast.ts";
import { receiveDatagrams } from "../../lib/net/udp.ts";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { publishLive } from "../_util/live.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";

if (Deno.env.get("MULTICAST_NETNS") === undefined) {
  throw new Error("run through tests/interop/multicast_test.ts (a netns)");
}

const opts = { sanitizeOps: false, sanitizeResources: false };
const MULTICAST = "RTP/AVP;multicast";

/** A socket in `group` counting RTP packets and the ones that came twice. */
async function observe(group: string, port = 8002) {
  const socket = await joinMulticast(group, port);
  const seen = new Set<string>();
  const counts = { packets: 0, duplicates: 0 };
  void receiveDatagrams(socket, (d) => {
    if (d.length < 12) return;
    const key = `${new DataView(d.buffer, d.byteOffset).getUint32(8)}:${
      (d[2]! << 8) | d[3]!
    }`;
    if (seen.has(key)) counts.duplicates++;
    seen.add(key);
    counts.packets++;
  });
  return { counts, close: () => socket.close() };
}

/** A hand-driven multicast reader of `path`'s video track: its group and session. */
async function rawReader(s: TestSluice, path: string, transport = MULTICAST) {
  const raw = await RawRtsp.connect(s.sluice.rtspPort!);
  const url = s.rtspUrl(path);
  const d = await raw.request("DESCRIBE", url);
  assert.equal(d.status, 200);
  const setup = await raw.request("SETUP", `${url}/trackID=0`, {
    Transport: transport,
  });
  assert.equal(setup.status, 200);
  const t = parseTransport(setup.headers.get("Transport")!)[0]!;
  const session = setup.headers.get("Session")!.split(";")[0]!;
  const play = await raw.request("PLAY", `${url}/`, { Session: session });
  assert.equal(play.status, 200);
  return { raw, transport: t, session, url };
}

const rtsp = (s: TestSluice) => s.sluice.rtsp!.stats;

async function until(what: string, ok: () => boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) {
      throw new Error(`not within ${timeoutMs} ms: ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test(
  "Multicast: ffmpeg plays with -rtsp_transport udp_multicast",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = await publishLive(s, "live/mc", { seconds: 20 });
    const r = await playAndCount(s.rtspUrl("live/mc"), {
      seconds: 4,
      timeoutMs: 25_000,
      inputArgs: ["-rtsp_transport", "udp_multicast"],
    });
    assertDecodedH264Aac(r, { video: 80, audio: 120 });
    assert.ok(rtsp(s).multicastDatagrams > 100);
  },
);

Deno.test(
  "Multicast: GStreamer rtspsrc plays with protocols=udp-mcast",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = await publishLive(s, "live/gst", { seconds: 20 });
    const r = await gstRtspPlayAndCount(s.rtspUrl("live/gst"), {
      transport: "udp-mcast",
      frames: 50,
      timeoutMs: 25_000,
    });
    assert.equal(r.frames, 50, r.stderr);
    assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2]);
  },
);

Deno.test(
  "Multicast: readers of one path share its groups and the server sends one copy",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = await publishLive(s, "live/two", { seconds: 25 });
    const a = await rawReader(s, "live/two");
    const group = a.transport.destination!;
    assert.match(group, /^224\.1\./);
    assert.deepEqual(a.transport.port, { rtp: 8002, rtcp: 8003 });
    assert.equal(a.transport.ttl, 16);
    const seen = await observe(group);
    await new Promise((r) => setTimeout(r, 2000));
    const one = seen.counts.packets;
    const b = await rawReader(s, "live/two");
    assert.equal(b.transport.destination, group, "the same group");
    // and a real player beside them, on every track; it joins running
    // groups, so its picture starts at the next keyframe (GOP 1 s)
    const played = playAndCount(s.rtspUrl("live/two"), {
      seconds: 4,
      timeoutMs: 25_000,
      inputArgs: ["-rtsp_transport", "udp_multicast"],
    });
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(
      rtsp(s).multicastSenders,
      2,
      "video and audio: one sender each",
    );
    const two = seen.counts.packets - one;
    assertDecodedH264Aac(await played, { video: 65, audio: 100 });
    seen.close();
    a.raw.close();
    b.raw.close();
    assert.equal(seen.counts.duplicates, 0, "no packet went twice");
    // 25 fps of 320x240: two seconds with one reader and with three are alike
    assert.ok(one > 40 && two > 40, `${one} then ${two} packets`);
    assert.ok(
      two < one * 1.6,
      `${two} packets in 2 s with 3 readers, ${one} with 1`,
    );
  },
);

Deno.test(
  "Multicast: the sender stops after the last reader's TEARDOWN",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = await publishLive(s, "live/td", { seconds: 20 });
    const a = await rawReader(s, "live/td");
    const b = await rawReader(s, "live/td");
    const seen = await observe(a.transport.destination!);
    await until("packets in the group", () => seen.counts.packets > 20, 5000);
    assert.equal(rtsp(s).multicastSenders, 1);
    assert.equal(
      (await a.raw.request("TEARDOWN", a.url, { Session: a.session })).status,
      200,
    );
    const before = seen.counts.packets;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(rtsp(s).multicastSenders, 1, "one reader left");
    assert.ok(seen.counts.packets > before + 10, "still sending");
    assert.equal(
      (await b.raw.request("TEARDOWN", b.url, { Session: b.session })).status,
      200,
    );
    assert.equal(rtsp(s).multicastSenders, 0);
    await new Promise((r) => setTimeout(r, 300)); // what was queued goes out
    const after = seen.counts.packets;
    const sent = rtsp(s).multicastDatagrams;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(seen.counts.packets, after, "nothing after the last TEARDOWN");
    assert.equal(rtsp(s).multicastDatagrams, sent);
    seen.close();
    a.raw.close();
    b.raw.close();
  },
);

Deno.test(
  "Multicast: the sender stops when its last reader times out",
  opts,
  async () => {
    // 1 s plus the server's 5 s margin; the reader sends no keep-alive and no report
    await using s = startTestSluice({ rtspSessionTimeout: "1s" });
    await using _pub = await publishLive(s, "live/to", { seconds: 25 });
    const a = await rawReader(s, "live/to");
    const seen = await observe(a.transport.destination!);
    await until("packets in the group", () => seen.counts.packets > 20, 5000);
    await until(
      "the sender stops",
      () => rtsp(s).multicastSenders === 0,
      12_000,
    );
    assert.ok(rtsp(s).sessionsTimedOut >= 1);
    await new Promise((r) => setTimeout(r, 300));
    const after = seen.counts.packets;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(seen.counts.packets, after, "nothing after the timeout");
    seen.close();
    a.raw.close();
  },
);

Deno.test(
  "Multicast: receiver reports to the group keep a silent reader's session alive",
  opts,
  async () => {
    await using s = startTestSluice({ rtspSessionTimeout: "1s" });
    await using _pub = await publishLive(s, "live/rr", { seconds: 30 });
    const a = await rawReader(s, "live/rr");
    const group = a.transport.destination!;
    // RFC 3550 §6.4.2: an RR with no report blocks, SSRC 0x01020304
    const rr = new Uint8Array([0x80, 201, 0, 1, 1, 2, 3, 4]);
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
      loopback: true,
    });
    const to = { transport: "udp" as const, hostname: group, port: 8003 };
    // 9 s of reports and no request: past the 6 s a silent session lives
    for (let i = 0; i < 9; i++) {
      await socket.send(rr, to);
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(rtsp(s).multicastSenders, 1, "alive on its reports");
    assert.equal(rtsp(s).sessionsTimedOut, 0);
    socket.close();
    await until(
      "the sender stops once reports stop",
      () => rtsp(s).multicastSenders === 0,
      12_000,
    );
    a.raw.close();
  },
);

Deno.test(
  "Multicast: a SETUP naming its own destination and TTL gets the server's",
  opts,
  async () => {
    await using s = startTestSluice({ multicastTTL: 1 });
    await using _pub = await publishLive(s, "live/bad", { seconds: 20 });
    const a = await rawReader(
      s,
      "live/bad",
      "RTP/AVP;multicast;destination=10.9.8.7;port=5000-5001;ttl=127",
    );
    assert.match(a.transport.destination!, /^224\.1\./);
    assert.deepEqual(a.transport.port, { rtp: 8002, rtcp: 8003 });
    assert.equal(a.transport.ttl, 1);
    assert.equal(rtsp(s).multicastOverridden, 1);
    const seen = await observe(a.transport.destination!);
    await until(
      "packets in the server's group",
      () => seen.counts.packets > 10,
      5000,
    );
    seen.close();
    // multicast over TCP is no transport: 461
    const raw = await RawRtsp.connect(s.sluice.rtspPort!);
    const r = await raw.request("SETUP", `${s.rtspUrl("live/bad")}/trackID=0`, {
      Transport: "RTP/AVP/TCP;multicast;interleaved=0-1",
    });
    assert.equal(r.status, 461);
    raw.close();
    a.raw.close();
  },
);

Deno.test(
  "Multicast: Sluice pulls multicast from another Sluice",
  opts,
  async () => {
    await using origin = startTestSluice();
    await using _pub = await publishLive(origin, "live/src", { seconds: 25 });
    await using edge = startTestSluice({
      paths: {
        "relay/cam": {
          source: origin.rtspUrl("live/src"),
          rtspTransport: "multicast",
        },
      },
    });
    await edge.published("relay/cam", { frames: 50, timeoutMs: 15_000 });
    assert.ok(rtsp(origin).multicastSenders >= 1, "the origin sends multicast");
    const r = await playAndCount(edge.rtmpUrl("relay/cam"), {
      seconds: 3,
      timeoutMs: 25_000,
    });
    assertDecodedH264Aac(r, { video: 60, audio: 90 });
  },
);
