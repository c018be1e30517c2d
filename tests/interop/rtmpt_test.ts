/**
 * RTMPT (RTMP tunnelled in HTTP) with real, unmodified ffmpeg on
 * 127.0.0.1: `rtmpt://` publishes and plays on the HTTP port, and what was
 * published through the tunnel plays over plain RTMP and HTTP-FLV, counting
 * frames ffmpeg really decodes.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { gstPlayAndCount } from "../_util/gst.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

function rtmptUrl(s: TestSluice, path: string): string {
  return `rtmpt://127.0.0.1:${s.sluice.httpPort}/${path}`;
}

Deno.test(
  "RTMPT: ffmpeg publishes H.264+AAC over rtmpt:// and ffmpeg plays it over rtmpt://",
  opts,
  async () => {
    await using s = startTestSluice();
    await using pub = publishTestSignal(rtmptUrl(s, "live/t"), {
      seconds: 12,
      width: 320,
      height: 240,
    });
    await s.published("live/t", { frames: 10 });
    const r = await playAndCount(rtmptUrl(s, "live/t"), {
      seconds: 4,
      timeoutMs: 25_000,
    });
    // 4 s at 25 fps; ~172 AAC frames of 1024 samples at 44.1 kHz
    assertDecodedH264Aac(r, { video: 90, audio: 150, context: pub.stderr() });
    const t = s.sluice.http!.rtmpt!;
    assert.equal(t.stats.opened, 2, "one session each");
    assert.equal(t.stats.rejected + t.stats.unknown, 0);
    await until(() => t.sessions === 1, 5000, () => "the player's /close");
  },
);

Deno.test(
  "RTMPT: what ffmpeg publishes over rtmpt:// plays over plain RTMP and HTTP-FLV",
  opts,
  async () => {
    await using s = startTestSluice();
    await using pub = publishTestSignal(rtmptUrl(s, "live/both"), {
      seconds: 12,
      width: 320,
      height: 240,
    });
    await s.published("live/both", { frames: 10 });
    const [rtmp, flv] = await Promise.all([
      playAndCount(s.rtmpUrl("live/both"), { seconds: 3, timeoutMs: 20_000 }),
      playAndCount(s.flvUrl("live/both"), { seconds: 3, timeoutMs: 20_000 }),
    ]);
    assertDecodedH264Aac(rtmp, {
      video: 65,
      audio: 100,
      context: pub.stderr(),
    });
    assertDecodedH264Aac(flv, { video: 65, audio: 100, context: pub.stderr() });
  },
);

Deno.test(
  "RTMPT: a player that stops polling backs up like a socket and is dropped by the slow-reader policy",
  opts,
  async () => {
    // The read timeout is far off: the write timeout alone must drop it.
    await using s = startTestSluice({
      readTimeout: "60s",
      writeTimeout: "2s",
      writeQueueSize: "256KiB",
    });
    await using _pub = publishTestSignal(s.rtmpUrl("live/slow"), {
      seconds: 30,
      width: 640,
      height: 480,
    });
    await s.published("live/slow", { frames: 10 });
    const player = spawn(
      "ffmpeg",
      ["-i", rtmptUrl(s, "live/slow"), "-f", "null", "-"],
      { timeoutMs: 40_000 },
    );
    try {
      const stream = () => s.sluice.hub.stream("live/slow");
      await until(
        () => s.sluice.rtmp!.sessions === 2,
        10_000,
        () => `player not attached:\n${player.stderr()}`,
      );
      await new Promise((r) => setTimeout(r, 1500)); // it plays for a while
      player.process.kill("SIGSTOP");
      await until(
        () => s.sluice.rtmp!.stats.readersDropped === 1,
        25_000,
        () => `not dropped: ${JSON.stringify(stream()?.stats)}`,
      );
      await until(
        () => s.sluice.http!.rtmpt!.sessions === 0,
        5000,
        () => "the dropped player's tunnel is still open",
      );
      assert.ok(s.logs.some((l) => l.includes("dropping reader")));
      assert.equal(s.sluice.hub.hasPublisher("live/slow"), true);
    } finally {
      player.process.kill("SIGCONT");
      await player.stop();
    }
  },
);

Deno.test(
  "RTMPT: a path's publish credentials hold in the tunnel as in RTMP",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/locked": { publishUser: "enc", publishPass: "pw" } },
    });
    const refused = publishTestSignal(
      rtmptUrl(s, "live/locked?user=enc&pass=wrong"),
      { seconds: 5 },
    );
    const status = await refused.status;
    assert.notEqual(status.code, 0, "ffmpeg gave up");
    assert.equal(s.sluice.hub.hasPublisher("live/locked"), false);
    assert.ok(
      s.logs.some((l) => l.includes("authentication failed")),
      s.logs.join("\n"),
    );
    await using pub = publishTestSignal(
      rtmptUrl(s, "live/locked?user=enc&pass=pw"),
      { seconds: 12 },
    );
    await s.published("live/locked", { frames: 10 });
    const r = await playAndCount(s.rtmpUrl("live/locked"), {
      seconds: 2,
      timeoutMs: 20_000,
    });
    assertDecodedH264Aac(r, { video: 40, audio: 60, context: pub.stderr() });
  },
);

Deno.test(
  "RTMPT: GStreamer's rtmpsrc (librtmp, which wants `Content-Length` in that case) plays rtmpt:// at 320x240",
  { ...opts, ignore: ignore || requireTool("gst-launch-1.0") },
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/lib"), {
      seconds: 15,
      width: 320,
      height: 240,
    });
    await s.published("live/lib", { frames: 10 });
    const r = await gstPlayAndCount(rtmptUrl(s, "live/lib"), {
      source: "rtmpsrc",
      frames: 50,
      timeoutMs: 25_000,
    });
    // The harness stops the player after 50 frames: its exit code says nothing then.
    assert.equal(r.frames, 50, r.stderr);
    assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2]);
    assert.ok(s.sluice.http!.rtmpt!.stats.opened >= 1, "it came through RTMPT");
  },
);
