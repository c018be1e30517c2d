/**
 * Files on demand with real players: ffmpeg plays files of the VOD folder
 * over HTTP-FLV, RTSP and RTMP, decodes them whole, and starts where `-ss`
 * asks (within one GOP).
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { firstVideoSeconds } from "../_util/vod_seek.ts";
import { requireTool } from "../_util/tools.ts";
import { gstSeek, makeVodFolder, VOD_CONTAINERS } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

let folder: Promise<string> | undefined;
const media = () => folder ??= makeVodFolder();

for (const ext of VOD_CONTAINERS) {
  Deno.test(`VOD HTTP-FLV: ffmpeg plays clip.${ext} whole`, opts, async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const t0 = Date.now();
    const r = await playAndCount(s.flvUrl(`vod/clip.${ext}`), {
      timeoutMs: 30_000,
    });
    // 10 s at 25 fps, 44.1 kHz AAC: all of it, paced in real time
    assertDecodedH264Aac(r, { video: 248, audio: 420 });
    assert.ok(r.video!.frames <= 251, `${r.video!.frames} frames`);
    assert.ok(Date.now() - t0 > 8_000, "paced in real time");
  });
}

Deno.test("VOD RTSP: ffmpeg plays clip.mp4 whole over TCP", opts, async () => {
  await using s = startTestSluice({ vodPath: await media() });
  const r = await playAndCount(s.rtspUrl("vod/clip.mp4"), {
    timeoutMs: 30_000,
    inputArgs: ["-rtsp_transport", "tcp"],
  });
  assertDecodedH264Aac(r, { video: 245, audio: 400 });
});

Deno.test(
  "VOD RTSP: ffmpeg -ss 5 starts within one GOP of 5 s",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const r = await firstVideoSeconds(s.rtspUrl("vod/clip.mkv"), 5, [
      "-rtsp_transport",
      "tcp",
    ]);
    assert.ok(r >= 4 && r <= 5.05, `first frame at ${r} s`);
  },
);

Deno.test(
  "VOD RTMP: ffmpeg plays clip.mp4 whole to Play.Complete",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const r = await playAndCount(s.rtmpUrl("vod/clip.mp4"), {
      timeoutMs: 30_000,
    });
    assertDecodedH264Aac(r, { video: 245, audio: 400 });
    assert.equal(r.timedOut, false, "the file's end ends the play");
  },
);

Deno.test(
  "VOD RTMP: ffmpeg -ss 6 seeks to within one GOP of 6 s",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const r = await firstVideoSeconds(s.rtmpUrl("vod/clip.flv"), 6, []);
    assert.ok(r >= 4.9 && r <= 6.1, `first frame at ${r} s`);
  },
);

Deno.test("VOD RTSP: GStreamer rtspsrc plays clip.mp4 and seeks to 7 s", {
  ...opts,
  ignore: requireTool("python3") || requireTool("gst-launch-1.0"),
}, async () => {
  await using s = startTestSluice({ vodPath: await media() });
  const r = await gstSeek(s.rtspUrl("vod/clip.mp4"), 25, 7, 25);
  assert.ok(r.after >= 25, `${r.after} frames after the seek`);
  // what follows the seek is the file from its keyframe at 7 s
  assert.ok(
    r.lastSeconds >= 6.9 && r.lastSeconds <= 9,
    `frame at ${r.lastSeconds} s after seeking to 7 s`,
  );
});

Deno.test(
  "VOD HTTP-FLV and RTMP: traversal, non-media and bad start get clear answers",
  opts,
  async () => {
    const dir = await media();
    await Deno.writeTextFile(`${dir}/notes.txt`, "not media\n".repeat(100));
    await using s = startTestSluice({ vodPath: dir });
    const base = `http://127.0.0.1:${s.sluice.httpPort}`;
    const cases: [string, number[]][] = [
      ["/vod/%2e%2e/%2e%2e/etc/passwd.flv", [400, 404]],
      ["/vod/..%2f..%2fetc%2fpasswd.flv", [400, 404]],
      ["/vod/nothere.mp4.flv", [404]],
      ["/vod/notes.txt.flv", [415]],
      ["/vod/clip.mp4.flv?start=-3", [400]],
      ["/vod/clip.mp4.flv?start=abc", [400]],
    ];
    for (const [path, want] of cases) {
      const r = await fetch(`${base}${path}`);
      await r.body?.cancel();
      assert.ok(want.includes(r.status), `${path}: ${r.status}`);
    }
    // RTMP: a player of a file that is not media hears so and plays nothing
    const r = await playAndCount(s.rtmpUrl("vod/notes.txt"), {
      timeoutMs: 10_000,
    });
    assert.equal(r.video, undefined);
    assert.notEqual(r.code, 0);
    // and the folder still serves a good file at once
    const ok = await playAndCount(s.flvUrl("vod/clip.ts"), {
      timeoutMs: 20_000,
      frames: 25,
    });
    assertDecodedH264Aac(ok, { video: 25 });
  },
);

Deno.test(
  "VOD RTSP and RTMP: ffmpeg plays clip.ts over RTSP (UDP) and clip.mkv over RTMP",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const [rtsp, rtmp] = await Promise.all([
      playAndCount(s.rtspUrl("vod/clip.ts"), {
        timeoutMs: 30_000,
        inputArgs: ["-rtsp_transport", "udp"],
      }),
      playAndCount(s.rtmpUrl("vod/clip.mkv"), { timeoutMs: 30_000 }),
    ]);
    assertDecodedH264Aac(rtsp, { video: 240, audio: 400 });
    assertDecodedH264Aac(rtmp, { video: 245, audio: 400 });
  },
);
