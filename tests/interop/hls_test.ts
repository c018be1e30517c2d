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

for (const variant of ["mpegts", "lowLatency"] as const) {
  Deno.test(
    `HLS ${variant}: ffprobe reads packets across four segments with rising timestamps`,
    opts,
    async () => {
      await using s = startTestSluice({ hlsVariant: variant });
      await using _pub = publishTestSignal(s.rtmpUrl("live/p"), {
        seconds: 20,
      });
      await s.published("live/p", { frames: 10 });
      const probed = await probePackets(
        hlsUrl(s.sluice.httpPort, "live/p"),
        4,
        30_000,
      );
      const video = probed.packets.filter((p) => p.codecType === "video");
      assert.ok(
        video.length >= 75,
        `${video.length} packets\n${probed.stderr}`,
      );
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
}

Deno.test(
  "HLS: a publisher that reconnects keeps the URLs; the playlist goes on after EXT-X-DISCONTINUITY and ffmpeg plays through",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub1 = publishTestSignal(s.rtmpUrl("live/re"), { seconds: 5 });
    await s.published("live/re", { frames: 10 });
    const url = hlsUrl(s.sluice.httpPort, "live/re");
    const playing = playAndCount(url, { seconds: 9, timeoutMs: 40_000 });
    const before = await (await fetch(url.replace("index", "stream"))).text();
    await pub1.status;
    await using _pub2 = publishTestSignal(s.rtmpUrl("live/re"), {
      seconds: 20,
    });
    await s.published("live/re", { frames: 10 });
    await new Promise((r) => setTimeout(r, 3000));
    const after = await (await fetch(url.replace("index", "stream"))).text();
    const r = await playing;
    assertDecodedH264Aac(r, { video: 150, audio: 150 });
    assert.match(after, /#EXT-X-DISCONTINUITY\n/);
    const lastMsn = (t: string) =>
      Math.max(...[...t.matchAll(/_(\d+)\.mp4\n/g)].map((m) => Number(m[1])));
    assert.ok(lastMsn(after) > lastMsn(before), `${before}\n${after}`);
  },
);

for (
  const c of [
    {
      name: "H.265",
      video: "hevc",
      audio: "aac",
      codecs: ["hevc", "aac"],
      variant: "lowLatency",
    },
    {
      name: "Opus",
      video: "h264",
      audio: "opus",
      codecs: ["h264", "opus"],
      variant: "lowLatency",
    },
    {
      name: "H.265",
      video: "hevc",
      audio: "aac",
      codecs: ["hevc", "aac"],
      variant: "mpegts",
    },
    {
      name: "MP3 (from RTMP)",
      video: "h264",
      audio: "mp3",
      codecs: ["h264", "mp3"],
      variant: "mpegts",
    },
    {
      name: "MP3 (from RTMP)",
      video: "h264",
      audio: "mp3",
      codecs: ["h264", "mp3"],
      variant: "lowLatency",
    },
  ] as const
) {
  Deno.test(
    `HLS ${c.variant}: ${c.name} makes segments ffmpeg decodes`,
    opts,
    async () => {
      await using s = startTestSluice({ hlsVariant: c.variant });
      const rtmp = c.audio === "mp3"; // Sluice takes MP3 over RTMP, not RTP
      await using _pub = publishTestSignal(
        rtmp ? s.rtmpUrl("live/c") : s.rtspUrl("live/c"),
        {
          seconds: 20,
          format: rtmp ? "flv" : "rtsp",
          rtspTransport: "tcp",
          video: c.video,
          audio: c.audio,
        },
      );
      await s.published("live/c", { frames: 10 });
      const r = await playAndCount(hlsUrl(s.sluice.httpPort, "live/c"), {
        seconds: 3,
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        [r.video?.codec, r.video?.width, r.video?.height, r.audio?.codec],
        [c.codecs[0], 320, 240, c.codecs[1]],
        r.stderr,
      );
      assert.ok(r.video!.frames >= 60, `${r.video!.frames} frames`);
      assert.ok(r.audio!.frames >= 50, `${r.audio!.frames} audio frames`);
    },
  );
}

Deno.test(
  "HLS: G.711 audio is left out with one log line; the video plays",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtspUrl("live/g"), {
      seconds: 20,
      format: "rtsp",
      rtspTransport: "tcp",
      audio: "pcma",
    });
    await s.published("live/g", { frames: 10 });
    const url = hlsUrl(s.sluice.httpPort, "live/g");
    const r = await playAndCount(url, { seconds: 3, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.video?.codec, r.audio], ["h264", undefined]);
    assert.ok(r.video!.frames >= 60);
    const lines = s.logs.filter((l) => l.includes("cannot carry"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /PCMA/);
  },
);

Deno.test(
  "HLS: ?variant=ts gives MPEG-TS beside the path's LL-HLS; ffmpeg plays both at once",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/v"), { seconds: 20 });
    await s.published("live/v", { frames: 10 });
    const url = hlsUrl(s.sluice.httpPort, "live/v");
    const [ts, ll] = await Promise.all([
      playAndCount(`${url}?variant=ts`, { seconds: 3, timeoutMs: 30_000 }),
      playAndCount(url, { seconds: 3, timeoutMs: 30_000 }),
    ]);
    assertDecodedH264Aac(ts, { video: 65, audio: 100 });
    assertDecodedH264Aac(ll, { video: 65, audio: 100 });
    assert.match(ts.stderr, /\.ts' for reading/);
    assert.match(ll.stderr, /\.mp4' for reading/);
    assert.equal(s.sluice.http!.hls!.muxers.size, 2);
  },
);
