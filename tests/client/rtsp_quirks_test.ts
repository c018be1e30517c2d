/**
 * The RTSP client against cameras that bend the protocol (INTEROP.md, "RTSP
 * client side"): a scripted camera answers the way a device does, a Sluice
 * path pulls it, and the tests look at what reached the hub and at what the
 * camera received.
 */
import assert from "node:assert/strict";
import type { Stream, StreamOutput } from "../../lib/hub/stream.ts";
import type { VideoTrack } from "../../lib/media/track.ts";
import { FakeCamera } from "../_util/fake_camera.ts";
import { playAndCount } from "../_util/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Resolves with the stream of `path` once `frames` frames came in. */
async function framesIn(
  s: TestSluice,
  path: string,
  frames: number,
  timeoutMs = 8000,
): Promise<Stream> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const stream = s.sluice.hub.stream(path);
    if (stream !== undefined && stream.stats.framesIn >= frames) return stream;
    if (Date.now() > end) {
      throw new Error(
        `${
          stream?.stats.framesIn ?? 0
        } frames on ${path} within ${timeoutMs} ms; relays ${
          JSON.stringify(s.sluice.relays.states())
        }\n${s.logs.join("\n")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pull(
  camera: FakeCamera,
  transport: "udp" | "tcp" | "automatic",
): TestSluice {
  return startTestSluice({
    paths: { "live/cam": { source: camera.url, rtspTransport: transport } },
  });
}

/** Frames per track kind that reach a reader of `stream` within `ms`. */
async function framesByKind(
  stream: Stream,
  ms: number,
): Promise<{ video: number; audio: number }> {
  const counts = { video: 0, audio: 0 };
  const output: StreamOutput & { readers: number } = {
    readers: 1,
    tracks() {},
    metadata() {},
    frame(f) {
      const kind = stream.tracks.find((t) => t.id === f.trackId)?.kind;
      if (kind === "video" || kind === "audio") counts[kind]++;
      return [];
    },
    end() {},
  };
  stream.output("test-counter", () => output);
  await sleep(ms);
  output.readers = 0;
  stream.pruneOutputs();
  return counts;
}

function videoOf(stream: Stream): VideoTrack | undefined {
  return stream.tracks.find((t): t is VideoTrack => t.kind === "video");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

for (const transport of ["tcp", "udp"] as const) {
  Deno.test(
    `RtspClient pulls H.264 + AAC from a camera over ${transport}: tracks and frames reach the hub`,
    opts,
    async () => {
      await using camera = FakeCamera.start({ tracks: ["h264", "aac"] });
      await using s = pull(camera, transport);
      const stream = await framesIn(s, "live/cam", 40);
      assert.deepEqual(
        stream.tracks.map((t) => [t.kind, t.codec]),
        [["video", "H264"], ["audio", "AAC"]],
      );
      const v = videoOf(stream)!;
      assert.deepEqual([v.width, v.height], [320, 240]);
      const n = await framesByKind(stream, 1000);
      assert.ok(n.video >= 20 && n.audio >= 30, JSON.stringify(n));
      const [state] = s.sluice.relays.states();
      assert.equal(state?.status, "running");
      assert.equal(state?.attempts, 1);
      const setups = camera.received("SETUP");
      assert.equal(setups.length, 2);
      for (const r of setups) {
        const t = r.headers.get("Transport")!;
        assert.match(t, transport === "tcp" ? /RTP\/AVP\/TCP/ : /client_port=/);
        assert.doesNotMatch(t, /mode=/, "no mode=play in a PLAY-side SETUP");
      }
    },
  );
}

// ---- keep-alive ----

for (
  const [name, publicMethods, expected, other] of [
    [
      "Hikvision: lists GET_PARAMETER in Public",
      "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER",
      "GET_PARAMETER",
      "OPTIONS",
    ],
    [
      "live555 (old): leaves GET_PARAMETER out of Public",
      "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN",
      "OPTIONS",
      "GET_PARAMETER",
    ],
  ] as const
) {
  Deno.test(
    `${name}: the keep-alive is ${expected}, with the session, and RTCP receiver reports flow`,
    opts,
    async () => {
      await using camera = FakeCamera.start({
        public: publicMethods,
        sessionTimeoutS: 2, // keep-alive every second
      });
      await using s = pull(camera, "tcp");
      await framesIn(s, "live/cam", 5);
      const playAt = camera.received("PLAY")[0]!.atMs;
      await sleep(2500);
      const after = camera.requests.filter((r) => r.atMs > playAt);
      const keepAlives = after.filter((r) => r.method === expected);
      assert.ok(
        keepAlives.length >= 1,
        JSON.stringify(after.map((r) => r.method)),
      );
      assert.equal(after.filter((r) => r.method === other).length, 0);
      for (const k of keepAlives) {
        assert.equal(k.headers.get("Session"), camera.sessionIdOf(k));
        assert.equal(k.url.replace(/\/$/, ""), camera.url);
      }
      assert.ok(camera.rtcpReceived >= 1, "receiver reports reach the camera");
    },
  );
}

Deno.test(
  "Hikvision NVR: never answers GET_PARAMETER — the pull does not wait for it and goes on",
  opts,
  async () => {
    await using camera = FakeCamera.start({
      public: "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER",
      sessionTimeoutS: 2,
      ignoreKeepAlive: true,
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 5);
    await sleep(3500);
    const before = stream.stats.framesIn;
    await sleep(500);
    assert.ok(stream.stats.framesIn > before, "frames still come in");
    assert.ok(camera.received("GET_PARAMETER").length >= 2);
    const [state] = s.sluice.relays.states();
    assert.deepEqual([state?.status, state?.attempts], ["running", 1]);
    assert.equal(camera.connectionsAccepted, 1);
  },
);

// ---- SETUP URLs: Content-Base + a=control as given ----

interface ControlCase {
  name: string;
  path?: string;
  contentBase?: (url: string) => string | undefined;
  controls: (url: string) => string[];
  /** The SETUP URLs the camera must see, given its stream URL. */
  setups: (url: string) => string[];
}

const CONTROL_CASES: ControlCase[] = [
  {
    name: "Axis: relative a=control under a Content-Base with a slash",
    controls: () => ["trackID=1", "trackID=2"],
    setups: (u) => [`${u}/trackID=1`, `${u}/trackID=2`],
  },
  {
    name: "Hikvision: absolute a=control URLs",
    contentBase: (u) => `${u}/`,
    controls: (u) => [
      `${u.replace("/stream", "/Streaming/Channels/101")}/trackID=1`,
      `${u.replace("/stream", "/Streaming/Channels/101")}/trackID=2`,
    ],
    setups: (u) => [
      `${u.replace("/stream", "/Streaming/Channels/101")}/trackID=1`,
      `${u.replace("/stream", "/Streaming/Channels/101")}/trackID=2`,
    ],
  },
  {
    name:
      "live555: no Content-Base, relative a=control against the request URL",
    contentBase: () => undefined,
    controls: () => ["track1", "track2"],
    setups: (u) => [`${u}/track1`, `${u}/track2`],
  },
  {
    name: "Dahua: Content-Base with a query, a=control trackID=N",
    path: "/cam/realmonitor?channel=1&subtype=0",
    contentBase: (u) => `${u}/`,
    controls: () => ["trackID=0", "trackID=1"],
    setups: (u) => [`${u}/trackID=0`, `${u}/trackID=1`],
  },
  {
    name: "Dahua: absolute a=control with ?token=…&trackID=N",
    path: "/live",
    controls: (
      u,
    ) => [`${u}?token=abc123&trackID=0`, `${u}?token=abc123&trackID=1`],
    setups: (
      u,
    ) => [`${u}?token=abc123&trackID=0`, `${u}?token=abc123&trackID=1`],
  },
  {
    name: "Uniview: a=control:* on the media (aggregate only)",
    controls: () => ["*"],
    setups: (u) => [`${u}/`],
  },
];

for (const c of CONTROL_CASES) {
  Deno.test(`${c.name}: SETUP goes to the URL as given`, opts, async () => {
    const oneTrack = c.controls("x").length === 1;
    await using camera = FakeCamera.start({
      tracks: oneTrack ? ["h264"] : ["h264", "aac"],
      path: c.path,
      contentBase: c.contentBase,
      controls: c.controls,
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 10);
    assert.deepEqual(
      camera.received("SETUP").map((r) => r.url),
      c.setups(camera.url),
    );
    assert.equal(stream.tracks.length, oneTrack ? 1 : 2);
  });
}

// ---- SETUP replies ----

Deno.test(
  "Dahua: a TCP SETUP reply without interleaved= — the channels asked for stand",
  opts,
  async () => {
    await using camera = FakeCamera.start({
      tracks: ["h264", "aac"],
      setupTransport: () => "RTP/AVP/TCP;unicast",
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 10);
    assert.equal(stream.tracks.length, 2);
    const n = await framesByKind(stream, 1000);
    assert.ok(n.video >= 20 && n.audio >= 30, JSON.stringify(n));
  },
);

Deno.test(
  "Dahua: a UDP SETUP reply with other client_port than asked",
  opts,
  async () => {
    await using camera = FakeCamera.start({
      tracks: ["h264", "aac"],
      setupTransport: (ctx) => {
        const p = ctx.asked.clientPort!.rtp;
        return `RTP/AVP;unicast;client_port=${p + 1000}-${
          p + 1001
        };server_port=${ctx.serverPort!.rtp}-${ctx.serverPort!.rtcp}`;
      },
    });
    await using s = pull(camera, "udp");
    const stream = await framesIn(s, "live/cam", 10);
    assert.equal(stream.tracks.length, 2);
    const n = await framesByKind(stream, 1000);
    assert.ok(n.video >= 20 && n.audio >= 30, JSON.stringify(n));
    assert.equal(s.sluice.relays.states()[0]?.attempts, 1);
  },
);

for (
  const [name, ssrc] of [
    ["live555: ssrc= in the SETUP reply", (x: number) => x],
    ["Bosch: an ssrc= that its RTP does not use", (x: number) => x ^ 0xffff],
    ["GStreamer: no ssrc= in the SETUP reply", undefined],
  ] as const
) {
  Deno.test(`${name}: frames reach the hub`, opts, async () => {
    await using camera = FakeCamera.start({
      setupTransport: (ctx) => {
        const ch = ctx.asked.interleaved!;
        const base = `RTP/AVP/TCP;unicast;interleaved=${ch.rtp}-${ch.rtcp}`;
        return ssrc === undefined
          ? base
          : `${base};ssrc=${
            (ssrc(ctx.ssrc) >>> 0).toString(16).toUpperCase().padStart(8, "0")
          }`;
      },
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 25);
    assert.deepEqual([videoOf(stream)?.width, videoOf(stream)?.height], [
      320,
      240,
    ]);
  });
}

// ---- payload and timing ----

Deno.test(
  {
    name:
      "Reolink: no sprop-parameter-sets (SPS/PPS in-band) — the path has its size and plays over RTMP",
    ignore: requireTool("ffmpeg"),
    ...opts,
  },
  async () => {
    await using camera = FakeCamera.start({
      tracks: ["h264", "aac"],
      spropParameterSets: false,
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 10);
    const v = videoOf(stream)!;
    assert.ok(v.parameterSets !== undefined, "SPS/PPS taken in-band");
    assert.deepEqual([v.width, v.height], [320, 240]);
    const r = await playAndCount(s.rtmpUrl("live/cam"), {
      seconds: 2,
      timeoutMs: 15_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.video?.codec, r.video?.width, r.video?.height], [
      "h264",
      320,
      240,
    ]);
    assert.ok(r.video!.frames >= 35, `decoded ${r.video!.frames} frames`);
    assert.equal(r.audio?.codec, "aac");
    assert.ok(r.audio!.frames > 0);
  },
);

for (const transport of ["tcp", "udp"] as const) {
  Deno.test(
    `Hikvision: RTP before the PLAY reply over ${transport} — the first keyframe is kept`,
    opts,
    async () => {
      await using camera = FakeCamera.start({ rtpBeforePlayReply: true });
      await using s = pull(camera, transport);
      const stream = await framesIn(s, "live/cam", 20);
      // Had the packets before the reply been lost, the hub would start at the
      // next keyframe, a second (25 frames) behind what the camera sent.
      const behind = camera.framesSent - stream.stats.framesIn;
      assert.ok(behind <= 5, `the hub is ${behind} frames behind the camera`);
    },
  );
}

// ---- header spelling ----

for (
  const [name, rewrite] of [
    [
      "TP-Link: lower-case header names, CSeq last",
      (lines: [string, string][]) =>
        lines.map(([k, v]) => [k.toLowerCase(), v] as [string, string])
          .reverse(),
    ],
    [
      "Vivotek: upper-case header names, Session first",
      (lines: [string, string][]) =>
        [...lines].sort(([a], [b]) =>
          (a === "Session" ? -1 : 0) - (b === "Session" ? -1 : 0)
        ).map(([k, v]) => [k.toUpperCase(), v] as [string, string]),
    ],
  ] as const
) {
  Deno.test(`${name}: the pull works`, opts, async () => {
    await using camera = FakeCamera.start({
      tracks: ["h264", "aac"],
      public: "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER",
      sessionTimeoutS: 2,
      headers: rewrite,
    });
    await using s = pull(camera, "tcp");
    const stream = await framesIn(s, "live/cam", 30);
    assert.equal(stream.tracks.length, 2);
    // The session id and timeout were read: keep-alives carry it, every second.
    await sleep(1500);
    const k = camera.received("GET_PARAMETER");
    assert.ok(k.length >= 1, "keep-alive sent at the announced timeout");
    assert.equal(k[0]!.headers.get("Session"), camera.sessionIdOf(k[0]!));
  });
}

Deno.test(
  "Camera that only does TCP: a UDP SETUP gets 461 and the pull goes over TCP",
  opts,
  async () => {
    await using camera = FakeCamera.start({
      tracks: ["h264"],
      refuseUdp: true,
    });
    await using s = pull(camera, "automatic");
    await framesIn(s, "live/cam", 20);
    const state = s.sluice.relays.states().find((r) => r.path === "live/cam")!;
    assert.equal(state.status, "running");
    assert.ok(
      s.logs.some((l) => l.includes("pulling") && l.includes("transport=tcp")),
      s.logs.join("\n"),
    );
  },
);

Deno.test(
  "UDP blocked on the way: no RTP within a few seconds, the pull switches to TCP",
  opts,
  async () => {
    await using camera = FakeCamera.start({ tracks: ["h264"], blockUdp: true });
    await using s = pull(camera, "automatic");
    await framesIn(s, "live/cam", 20, 15_000);
    assert.ok(
      s.logs.some((l) => l.includes("no RTP over UDP: switching to TCP")),
      s.logs.join("\n"),
    );
    assert.ok(
      s.logs.some((l) => l.includes("pulling") && l.includes("transport=tcp")),
    );
  },
);
