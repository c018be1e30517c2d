/**
 * HTTP-FLV with real players: ffmpeg and GStreamer (souphttpsrc ! flvdemux)
 * play what ffmpeg publishes over RTMP or records over RTSP.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  probePackets,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { gstPlayAndCount } from "../_util/gst.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "HTTP-FLV: ffmpeg publishes RTMP, ffmpeg plays http://…/live/x.flv",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/x"), { seconds: 15 });
    await s.published("live/x", { frames: 10 });
    const r = await playAndCount(s.flvUrl("live/x"), {
      seconds: 3,
      timeoutMs: 20_000,
    });
    assertDecodedH264Aac(r, { video: 65, audio: 100 });
  },
);

for (const transport of ["tcp", "udp"] as const) {
  Deno.test(
    `HTTP-FLV: ffmpeg records H.264 with B-frames over RTSP (${transport}); HTTP-FLV has rebuilt DTS and plays`,
    opts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtspUrl("live/rec"), {
        seconds: 15,
        format: "rtsp",
        rtspTransport: transport,
        extraArgs: ["-bf", "2"],
      });
      await s.published("live/rec", { frames: 10 });
      const [played, probed] = await Promise.all([
        playAndCount(s.flvUrl("live/rec"), { seconds: 3, timeoutMs: 20_000 }),
        probePackets(s.flvUrl("live/rec"), 3, 20_000),
      ]);
      assertDecodedH264Aac(played, { video: 65, audio: 100 });
      const video = probed.packets.filter((p) => p.codecType === "video");
      assert.ok(
        video.length >= 50,
        `${video.length} packets\n${probed.stderr}`,
      );
      for (let i = 1; i < video.length; i++) {
        assert.ok(
          video[i]!.dts > video[i - 1]!.dts,
          `DTS rises: ${video[i - 1]!.dts} then ${video[i]!.dts}`,
        );
      }
      assert.ok(video.every((p) => p.pts >= p.dts), "no PTS before its DTS");
      assert.ok(
        video.some((p) => p.pts > p.dts),
        "B-frames arrive with composition times",
      );
    },
  );
}

Deno.test(
  "HTTP-FLV: ffmpeg plays with credentials in the URL and is refused without",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/sec": { readUser: "viewer", readPass: "pw" } },
    });
    await using _pub = publishTestSignal(s.rtmpUrl("live/sec"), {
      seconds: 15,
    });
    await s.published("live/sec", { frames: 10 });
    const url = s.flvUrl("live/sec");
    const refused = await playAndCount(url, { seconds: 1, timeoutMs: 10_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401/);
    const ok = await playAndCount(url.replace("http://", "http://viewer:pw@"), {
      seconds: 3,
      timeoutMs: 20_000,
    });
    assertDecodedH264Aac(ok, { video: 65, audio: 100 });
  },
);

Deno.test(
  "HTTP-FLV: GStreamer souphttpsrc ! flvdemux plays it",
  { ...opts, ignore: ignore || requireTool("gst-launch-1.0") },
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/g"), { seconds: 15 });
    await s.published("live/g", { frames: 10 });
    const r = await gstPlayAndCount(s.flvUrl("live/g"), {
      source: "souphttpsrc",
      frames: 50,
      timeoutMs: 20_000,
    });
    assert.equal(r.frames, 50, r.stderr);
    assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2]);
  },
);
