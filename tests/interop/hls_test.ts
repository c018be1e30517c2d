/**
 * HLS with real players: ffmpeg publishes over RTMP or RTSP, ffmpeg plays
 * Sluice's HLS (Low-Latency fMP4, plain fMP4, MPEG-TS) and decodes frames
 * of the right codec and size; ffprobe reads packets across segment
 * boundaries with rising timestamps.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  probePackets,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

function hlsUrl(port: number | undefined, path: string): string {
  return `http://127.0.0.1:${port}/${path}/index.m3u8`;
}

for (const variant of ["lowLatency", "fmp4", "mpegts"] as const) {
  for (const format of ["flv", "rtsp"] as const) {
    const from = format === "flv" ? "RTMP" : "RTSP";
    Deno.test(
      `HLS ${variant}: ffmpeg publishes ${from}, ffmpeg plays /live/x/index.m3u8`,
      opts,
      async () => {
        await using s = startTestSluice({ hlsVariant: variant });
        const url = format === "flv"
          ? s.rtmpUrl("live/x")
          : s.rtspUrl("live/x");
        await using _pub = publishTestSignal(url, {
          seconds: 20,
          format,
          rtspTransport: "tcp",
        });
        await s.published("live/x", { frames: 10 });
        const r = await playAndCount(hlsUrl(s.sluice.httpPort, "live/x"), {
          seconds: 4,
          timeoutMs: 30_000,
        });
        assertDecodedH264Aac(r, { video: 90, audio: 100 });
      },
    );
  }
}

Deno.test(
  "HLS: ffprobe reads packets across four segments with rising timestamps",
  opts,
  async () => {
    await using s = startTestSluice({ hlsVariant: "mpegts" });
    await using _pub = publishTestSignal(s.rtmpUrl("live/p"), { seconds: 20 });
    await s.published("live/p", { frames: 10 });
    const probed = await probePackets(
      hlsUrl(s.sluice.httpPort, "live/p"),
      4,
      30_000,
    );
    const video = probed.packets.filter((p) => p.codecType === "video");
    assert.ok(video.length >= 75, `${video.length} packets\n${probed.stderr}`);
    for (let i = 1; i < video.length; i++) {
      assert.ok(
        video[i]!.dts > video[i - 1]!.dts,
        `DTS rises: ${video[i - 1]!.dts} then ${video[i]!.dts}`,
      );
    }
    assert.doesNotMatch(
      probed.stderr,
      /non.monoton|discontinuity|invalid dts/i,
    );
  },
);
