/**
 * The player page in a real browser: Debian's chromium, headless, driven by
 * playwright-core, plays `/<path>/` with hls.js in low-latency mode while
 * ffmpeg publishes over RTMP; the picture advances, frames are decoded, the
 * live latency stays low, and playback survives a publisher restart.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { takeMachineAlone } from "../_util/machine.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { isCi, requireTool } from "../_util/tools.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    if (isCi()) {
      throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
    }
    return false;
  }
})();
const ignore = requireTool("ffmpeg") || !hasChromium;
const OUTPUT = new URL("./output/", import.meta.url);

interface Sample {
  currentTime: number;
  frames: number;
  latency: number | undefined;
  width: number;
}

Deno.test(
  "HLS player page: chromium plays /live/web/ with hls.js at low latency and survives a publisher restart",
  { ignore, sanitizeOps: false, sanitizeResources: false },
  async () => {
    // The latency bound is a timing: it holds on a machine whose two cores
    // are not saturated by other tests' encoders and decoders at the time.
    await using _alone = await takeMachineAlone();
    await using s = startTestSluice();
    const pub1 = publishTestSignal(s.rtmpUrl("live/web"), { seconds: 12 });
    await s.published("live/web", { frames: 10 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${s.sluice.httpPort}/live/web/`);
      const sample = () =>
        page.evaluate(`(() => {
          const v = document.querySelector("video");
          return {
            currentTime: v.currentTime,
            frames: v.getVideoPlaybackQuality().totalVideoFrames,
            latency: window.sluice.latency(),
            width: v.videoWidth,
          };
        })()`) as Promise<Sample>;
      const samples: Sample[] = [];
      const collect = async (seconds: number) => {
        for (let i = 0; i < seconds * 2; i++) {
          await new Promise((r) => setTimeout(r, 500));
          samples.push(await sample());
        }
      };
      await collect(8);
      const first = samples[2]!;
      const last = samples.at(-1)!;
      assert.ok(
        last.currentTime > first.currentTime + 2,
        JSON.stringify(samples),
      );
      assert.ok(last.frames > first.frames + 50, JSON.stringify(samples));
      assert.equal(last.width, 320);
      const latencies = samples.slice(4).map((x) => x.latency).filter((
        l,
      ): l is number => l !== undefined).sort((a, b) => a - b);
      assert.ok(latencies.length > 4, JSON.stringify(samples));
      const p50 = latencies[Math.floor(latencies.length / 2)]!;
      console.log(
        `latency p50 ${p50.toFixed(2)} s, p95 ${
          latencies[Math.floor(latencies.length * 0.95)]!.toFixed(2)
        } s`,
      );
      assert.ok(p50 < 1.5, `latency p50 ${p50} s: ${latencies}`);

      // The publisher goes and comes back: playback goes on.
      await pub1.status;
      await using _pub2 = publishTestSignal(s.rtmpUrl("live/web"), {
        seconds: 20,
      });
      await s.published("live/web", { frames: 10 });
      const before = await sample();
      samples.length = 0;
      await collect(8);
      const after = samples.at(-1)!;
      assert.ok(
        after.currentTime > before.currentTime + 3,
        JSON.stringify({ before, samples }),
      );
      assert.ok(
        after.frames > before.frames + 75,
        JSON.stringify({ before, samples }),
      );
      await Deno.mkdir(OUTPUT, { recursive: true });
      await page.screenshot({
        path: new URL("hls_player.png", OUTPUT).pathname,
      });
    } finally {
      await browser.close();
    }
  },
);
