/**
 * HLS of files on demand beyond H.264: ffmpeg decodes AV1 (MP4 and
 * Matroska) and VP9 (WebM) with Opus through VOD HLS, which proves the
 * fMP4 writer's `av01`/`vp09` sample entries and `dOps`; and the player
 * page in a real browser (Debian's chromium with hls.js) plays a file,
 * seeks into a later fMP4 segment and reaches the end.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { playAndCount } from "../_util/ffmpeg.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { isCi, requireTool } from "../_util/tools.ts";
import { makeVodFolder } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const SECONDS = 6;

function hlsUrl(s: TestSluice, file: string, name = "index.m3u8"): string {
  return `http://127.0.0.1:${s.sluice.httpPort}/vod/${file}/${name}`;
}
/** 6 s of AV1 (SVT-AV1) in MP4 and Matroska, and VP9 (libvpx) in WebM, with Opus. */
let otherFolder: Promise<string> | undefined;
const otherMedia = () =>
  otherFolder ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-vod-hls-" });
    const signal = [
      ...["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
      ...["-t", String(SECONDS), "-pix_fmt", "yuv420p", "-g", "25"],
      ...["-c:a", "libopus", "-b:a", "48k"],
    ];
    const make = async (args: string[], file: string) => {
      const run = spawn("ffmpeg", [
        "-loglevel",
        "error",
        "-y",
        ...signal,
        ...args,
        `${dir}/${file}`,
      ], {
        timeoutMs: 120_000,
      });
      const status = await run.status;
      assert.equal(
        status.code,
        0,
        `ffmpeg could not make ${file}: ${run.stderr()}`,
      );
    };
    await make(["-c:v", "libsvtav1", "-preset", "12"], "av1.mp4");
    await make(["-c:v", "libsvtav1", "-preset", "12"], "av1.mkv");
    await make([
      "-c:v",
      "libvpx-vp9",
      "-deadline",
      "realtime",
      "-cpu-used",
      "8",
    ], "vp9.webm");
    return dir;
  })();

for (
  const [file, codec] of [
    ["av1.mp4", "av1"],
    ["av1.mkv", "av1"],
    ["vp9.webm", "vp9"],
  ] as const
) {
  Deno.test(
    `VOD HLS fmp4: ffmpeg decodes ${codec} and Opus of ${file}`,
    opts,
    async () => {
      await using s = startTestSluice({ vodPath: await otherMedia() });
      const index = await (await fetch(hlsUrl(s, file))).text();
      assert.match(
        index,
        codec === "av1"
          ? /CODECS="av01\.0\.\d\dM\.08,opus"/
          : /CODECS="vp09\.00\.\d\d\.08,opus"/,
      );
      const r = await playAndCount(hlsUrl(s, file), { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([r.video?.codec, r.video?.width, r.video?.height], [
        codec,
        320,
        240,
      ], r.stderr);
      assert.ok(
        r.video!.frames >= 148 && r.video!.frames <= 152,
        `${r.video!.frames} video frames`,
      );
      assert.equal(r.audio?.codec, "opus", r.stderr);
      // 20 ms Opus frames for 6 s
      assert.ok(
        r.audio!.frames >= 295 && r.audio!.frames <= 305,
        `${r.audio!.frames} audio frames`,
      );
      assert.doesNotMatch(r.stderr, /error|invalid|corrupt/i);
      // MPEG-TS carries neither: a clear answer, no empty playlist
      const ts = await fetch(`${hlsUrl(s, file)}?variant=ts`);
      await ts.body?.cancel();
      assert.equal(ts.status, 415);
    },
  );
}

const CHROMIUM = "/usr/bin/chromium";
const noChromium = (() => {
  try {
    return !Deno.statSync(CHROMIUM).isFile;
  } catch {
    if (isCi()) {
      throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
    }
    return true;
  }
})();

Deno.test(
  "VOD HLS player page: chromium plays /vod/clip.mp4/ with hls.js, seeks in the fMP4 segments and reaches the end",
  { ...opts, ignore: ignore || noChromium },
  async () => {
    await using s = startTestSluice({
      vodPath: await makeVodFolder(SECONDS, ["mp4"]),
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${s.sluice.httpPort}/vod/clip.mp4/`);
      const state = () =>
        page.evaluate(`(() => {
          const v = document.querySelector("video");
          return { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames,
            width: v.videoWidth, duration: v.duration, ended: v.ended };
        })()`) as Promise<
          {
            t: number;
            frames: number;
            width: number;
            duration: number;
            ended: boolean;
          }
        >;
      const until = async (
        ok: (x: Awaited<ReturnType<typeof state>>) => boolean,
        ms: number,
      ) => {
        const seen = [];
        for (const end = Date.now() + ms; Date.now() < end;) {
          const x = await state();
          seen.push(x);
          if (ok(x)) return x;
          await new Promise((r) => setTimeout(r, 250));
        }
        assert.fail(JSON.stringify(seen.slice(-8)));
      };
      const playing = await until((x) => x.t > 1 && x.frames > 20, 15_000);
      assert.equal(playing.width, 320);
      assert.ok(
        Math.abs(playing.duration - SECONDS) < 0.3,
        `duration ${playing.duration}`,
      );
      // a seek into a later segment: the picture goes on from there
      await page.evaluate(`document.querySelector("video").currentTime = 4`);
      await until((x) => x.t >= 4.3 && !x.ended, 10_000);
      const end = await until((x) => x.ended, 15_000);
      assert.ok(end.t >= SECONDS - 0.2, `ended at ${end.t}`);
    } finally {
      await browser.close();
    }
  },
);
