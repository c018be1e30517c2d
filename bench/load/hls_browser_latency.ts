/**
 * Live latency in a browser: Debian's chromium (headless, playwright-core)
 * plays the player page of a path that ffmpeg publishes over RTMP
 * (320×240, 25 fps, 1 s GOP), with LL-HLS parts of 200 ms; the page's
 * latency is the wall clock minus hls.js's program date time of the
 * picture shown, sampled every 250 ms after a 5 s warm-up.
 *
 * deno run -A bench/load/hls_browser_latency.ts [seconds]
 */
import { chromium } from "playwright-core";
import { publishTestSignal } from "../../tests/_util/ffmpeg.ts";
import { startTestSluice } from "../../tests/_util/sluice.ts";

const seconds = Number(Deno.args[0] ?? 20);
await using s = startTestSluice();
await using _pub = publishTestSignal(s.rtmpUrl("live/lat"), {
  seconds: seconds + 20,
});
await s.published("live/lat", { frames: 10 });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${s.sluice.httpPort}/live/lat/`);
  await new Promise((r) => setTimeout(r, 5000));
  const latencies: number[] = [];
  for (let i = 0; i < seconds * 4; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const l = await page.evaluate(`window.sluice.latency()`) as
      | number
      | undefined;
    if (l !== undefined) latencies.push(l);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[
      Math.min(latencies.length - 1, Math.floor(latencies.length * q))
    ]!;
  console.log(
    `${latencies.length} samples over ${seconds} s: latency p50 ${
      at(0.5).toFixed(2)
    } s, p95 ${at(0.95).toFixed(2)} s, max ${at(1).toFixed(2)} s`,
  );
} finally {
  await browser.close();
}
