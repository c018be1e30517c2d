/**
 * The RTMP server with real, unmodified ffmpeg on 127.0.0.1: publishers and
 * players, counting frames ffmpeg really decodes.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  probe,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "RTMP: ffmpeg publishes H.264+AAC and ffmpeg plays it back, decoding every frame",
  opts,
  async () => {
    await using s = startTestSluice();
    await using pub = publishTestSignal(s.rtmpUrl("live/test"), {
      seconds: 15,
      width: 320,
      height: 240,
      fps: 25,
    });
    await s.published("live/test");
    const r = await playAndCount(s.rtmpUrl("live/test"), {
      seconds: 4,
      timeoutMs: 20_000,
    });
    // 4 s at 25 fps; 4 s of 1024-sample AAC frames at 44.1 kHz is ~172
    assertDecodedH264Aac(r, { video: 90, audio: 150 });
    assert.equal(r.audio?.sampleRate, 44100);
    void pub;
  },
);

Deno.test(
  "RTMP: a player that comes before the publisher starts when it arrives",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "15s" });
    const playing = playAndCount(s.rtmpUrl("live/early"), {
      seconds: 3,
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await using _pub = publishTestSignal(s.rtmpUrl("live/early"), {
      seconds: 12,
      width: 320,
      height: 240,
    });
    const r = await playing;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.video?.width, 320);
    assert.ok(r.video!.frames >= 60, `decoded ${r.video!.frames} frames`);
  },
);

Deno.test("RTMP: two streams at once do not mix", opts, async () => {
  await using s = startTestSluice();
  await using _a = publishTestSignal(s.rtmpUrl("live/a"), {
    seconds: 15,
    width: 320,
    height: 240,
    audio: "aac",
  });
  await using _b = publishTestSignal(s.rtmpUrl("live/b"), {
    seconds: 15,
    width: 160,
    height: 128,
    audio: "none",
  });
  await s.published("live/a");
  await s.published("live/b");
  const [a, b] = await Promise.all([
    playAndCount(s.rtmpUrl("live/a"), { seconds: 3, timeoutMs: 20_000 }),
    playAndCount(s.rtmpUrl("live/b"), { seconds: 3, timeoutMs: 20_000 }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual([a.video?.width, a.video?.height], [320, 240]);
  assert.deepEqual([b.video?.width, b.video?.height], [160, 128]);
  assert.ok(
    a.audio !== undefined && a.audio.frames > 0,
    "stream a has its audio",
  );
  assert.equal(
    b.audio,
    undefined,
    "stream b has no audio, none leaks in from a",
  );
  assert.ok(a.video!.frames >= 60 && b.video!.frames >= 60);
});

Deno.test(
  "RTMP: a player of a missing stream gets StreamNotFound after the wait",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "1500ms" });
    const started = Date.now();
    const r = await playAndCount(s.rtmpUrl("live/missing"), {
      seconds: 2,
      timeoutMs: 15_000,
    });
    const took = Date.now() - started;
    assert.notEqual(r.code, 0);
    assert.equal(r.timedOut, false, "ffmpeg ended by itself: no silent hang");
    assert.match(r.stderr, /Stream not found: live\/missing/);
    assert.ok(took >= 1400, `answered after the wait, not before (${took} ms)`);
    assert.ok(s.logs.some((l) => l.includes("stream not found")));
  },
);

Deno.test(
  "RTMP: an encoder reconnecting from a half-open connection takes over at once and the player keeps playing",
  opts,
  async () => {
    // readTimeout far off: only the takeover can end the first connection in time
    await using s = startTestSluice({
      publisherGracePeriod: "5s",
      readTimeout: "30s",
    });
    const first = publishTestSignal(s.rtmpUrl("live/take"), {
      seconds: 30,
      width: 320,
      height: 240,
    });
    try {
      await s.published("live/take");
      const playing = playAndCount(s.rtmpUrl("live/take"), {
        seconds: 7,
        timeoutMs: 30_000,
      });
      await new Promise((r) => setTimeout(r, 3000));
      // The network drops: the socket stays open on Sluice's side, nothing more comes.
      first.process.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 2500)); // past overridePublisherIdle (2 s)
      const reconnected = Date.now();
      await using _second = publishTestSignal(s.rtmpUrl("live/take"), {
        seconds: 30,
        width: 320,
        height: 240,
      });
      await until(
        () => s.sluice.hub.stream("live/take")?.stats.publishers === 2,
        5000,
        () => s.logs.join("\n"),
      );
      const tookMs = Date.now() - reconnected;
      assert.ok(tookMs < 3000, `took over ${tookMs} ms after reconnecting`);
      assert.ok(s.logs.some((l) => l.includes("took the path over")));
      const r = await playing;
      assert.equal(r.code, 0, r.stderr);
      // 7 s at 25 fps spans both publishers; a player dropped at the takeover would stop near 75 frames
      assert.ok(
        r.video!.frames >= 150,
        `decoded ${r.video!.frames} frames across the takeover`,
      );
    } finally {
      first.process.kill("SIGKILL");
      await first.status;
    }
  },
);

Deno.test(
  "RTMP: by default a second ffmpeg publisher gets Publish.BadName while the first sends",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _first = publishTestSignal(s.rtmpUrl("live/mine"), {
      seconds: 20,
      width: 320,
      height: 240,
    });
    await s.published("live/mine", { frames: 25 });
    const second = publishTestSignal(s.rtmpUrl("live/mine"), {
      seconds: 5,
      width: 160,
      height: 128,
    });
    const status = await second.status;
    assert.notEqual(status.code, 0);
    assert.match(second.stderr(), /BadName|already publishing/);
    assert.equal(s.sluice.hub.stream("live/mine")!.stats.publishers, 1);
    const r = await playAndCount(s.rtmpUrl("live/mine"), {
      seconds: 2,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.video?.width, 320, "the first publisher's picture");
    assert.ok(r.video!.frames >= 40, "the first publisher still plays");
  },
);

Deno.test(
  "RTMP: with overridePublisher false a second publisher gets Publish.BadName",
  opts,
  async () => {
    await using s = startTestSluice({ overridePublisher: false });
    await using _first = publishTestSignal(s.rtmpUrl("live/busy"), {
      seconds: 20,
      width: 160,
      height: 128,
    });
    await s.published("live/busy");
    const second = publishTestSignal(s.rtmpUrl("live/busy"), {
      seconds: 5,
      width: 160,
      height: 128,
    });
    const status = await second.status;
    assert.notEqual(status.code, 0);
    assert.match(second.stderr(), /BadName|already publishing/);
    const r = await playAndCount(s.rtmpUrl("live/busy"), {
      seconds: 2,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.video!.frames >= 40, "the first publisher still plays");
  },
);

Deno.test(
  "RTMP: a player joining mid-stream starts on a keyframe at once",
  opts,
  async () => {
    await using s = startTestSluice();
    // one keyframe every 4 s: without the GOP cache a new player would wait up to 4 s
    await using _pub = publishTestSignal(s.rtmpUrl("live/gop"), {
      seconds: 20,
      width: 320,
      height: 240,
      fps: 25,
      gop: 100,
    });
    await s.published("live/gop");
    await new Promise((r) => setTimeout(r, 2500));
    const result = await probe(s.rtmpUrl("live/gop"), 15_000);
    assert.equal(result.code, 0, result.stderr);
    const cmd = new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-select_streams",
        "v",
        "-show_packets",
        "-show_entries",
        "packet=flags,pts_time",
        "-read_intervals",
        "%+#3",
        "-of",
        "csv=p=0",
        s.rtmpUrl("live/gop"),
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const started = Date.now();
    const out = await cmd.output();
    const took = Date.now() - started;
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.ok(lines.length >= 1, new TextDecoder().decode(out.stderr));
    assert.match(lines[0]!, /K/, `first packet is a keyframe: ${lines[0]}`);
    assert.ok(
      took < 3000,
      `the first frames came from the GOP cache, not the next keyframe (${took} ms)`,
    );
  },
);

Deno.test(
  "RTMP: 50 players at once all receive and decode",
  { ...opts },
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/many"), {
      seconds: 40,
      width: 160,
      height: 128,
      fps: 25,
      audio: "none",
    });
    await s.published("live/many");
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        playAndCount(s.rtmpUrl("live/many"), {
          seconds: 2,
          timeoutMs: 60_000,
        })),
    );
    const ok = results.filter((r) =>
      r.code === 0 && r.video?.width === 160 && r.video.frames >= 40
    );
    assert.equal(
      ok.length,
      50,
      results.filter((r) => !ok.includes(r)).map((r) => r.stderr.slice(-300))
        .join("\n---\n"),
    );
  },
);

Deno.test(
  "RTMP: a stream past 2^24 ms keeps playing across the extended-timestamp boundary",
  opts,
  async () => {
    await using s = startTestSluice();
    // Stamps start 2 s before 0xFFFFFF ms (4 h 39 min): the stream crosses into extended timestamps.
    await using _pub = publishTestSignal(s.rtmpUrl("live/long"), {
      seconds: 15,
      width: 160,
      height: 128,
      extraArgs: ["-output_ts_offset", String(0xffffff / 1000 - 2)],
    });
    await s.published("live/long");
    const r = await playAndCount(s.rtmpUrl("live/long"), {
      seconds: 5,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.video!.frames >= 110,
      `decoded ${r.video!.frames} frames across the boundary`,
    );
    assert.ok(
      r.audio!.frames >= 150,
      `decoded ${r.audio!.frames} audio frames across the boundary`,
    );
  },
);
