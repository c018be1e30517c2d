/**
 * The dashboard in a real browser: headless Chromium (Debian's, driven by
 * playwright-core) opens `GET /` while ffmpeg publishes, and sees the path
 * with its tracks, its numbers change, its URLs, and the relays. A
 * screenshot goes to tests/output/.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool, toolPath } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("chromium");
const OUTPUT = new URL("../output/", import.meta.url);
// A configured name a peer could choose: it must show as text, never as HTML.
const ODD = `odd<img src=x onerror="document.title='owned'">`;

/** Polls `check` every 200 ms, for at most 10 s. */
async function eventually(
  check: () => Promise<boolean>,
  what: string,
): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting until ${what}`);
}

Deno.test(
  "Dashboard in headless Chromium shows a path ffmpeg publishes, with numbers that change",
  { ignore, sanitizeOps: false, sanitizeResources: false },
  async () => {
    await using s = startTestSluice({
      paths: {
        "live/cam": {},
        // A source nothing answers at: its relay shows as retrying.
        "live/pulled": { source: "rtsp://127.0.0.1:9/nothing" },
        [ODD]: {},
      },
    });
    await using _pub = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 20,
    });
    await s.published("live/cam", { frames: 10 });
    const browser = await chromium.launch({
      executablePath: toolPath("chromium"),
      args: ["--no-sandbox"],
    });
    try {
      const page = await browser.newPage({
        viewport: { width: 1200, height: 700 },
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const base = `http://127.0.0.1:${s.sluice.httpPort}`;
      const res = await page.goto(`${base}/`);
      assert.equal(res?.status(), 200);
      const row = page.locator('tr[data-path="live/cam"]');
      await row.locator(".badge.live").waitFor({ timeout: 10_000 });
      await eventually(
        async () =>
          (await row.locator(".tracks").textContent())!.includes("AAC"),
        "the audio track shows",
      );
      assert.equal(
        await row.locator(".tracks").textContent(),
        "H264 320×240 · AAC 44.1 kHz 1ch",
      );
      // The counters move while ffmpeg sends: received bytes and the bitrate.
      const first = await row.locator(".bytes").textContent();
      await eventually(async () => {
        const bytes = await row.locator(".bytes").textContent();
        const rate = await row.locator(".bitrate").textContent();
        return bytes !== first && rate !== "0 kb/s";
      }, "received bytes and bitrate change");
      // An HTTP-FLV reader shows in the readers column.
      const reader = await fetch(s.flvUrl("live/cam"));
      const body = reader.body!.getReader();
      await body.read();
      await eventually(
        async () => (await row.locator(".readers").textContent()) === "1",
        "the reader shows",
      );
      await body.cancel();
      const fps = Number(await row.locator(".fps").textContent());
      assert.ok(fps > 10, `frames per second shown: ${fps}`);
      // Copy-ready URLs for each protocol.
      const urls = page.locator('tr[data-urls-of="live/cam"] code');
      assert.deepEqual(await urls.allTextContents(), [
        s.rtmpUrl("live/cam"),
        s.rtspUrl("live/cam"),
        `${base}/live/cam/index.m3u8`,
        s.flvUrl("live/cam"),
      ]);
      // The configured path without a publisher, and the relay trying its source.
      await page.locator('tr[data-path="live/pulled"] .badge.idle').waitFor();
      const relay = page.locator("#relays tbody tr").first();
      assert.match(
        (await relay.textContent()) ?? "",
        /live\/pulledpullrtsp:\/\/127\.0\.0\.1:9\/nothing(connecting|retrying)/,
      );
      // A name with markup shows as the text it is.
      assert.equal(
        await page.locator(".name").filter({ hasText: "odd<img" })
          .textContent(),
        ODD,
      );
      assert.equal(await page.locator("main img").count(), 0);
      assert.notEqual(await page.title(), "owned");
      assert.deepEqual(errors, []);
      await Deno.mkdir(OUTPUT, { recursive: true });
      await page.screenshot({
        path: new URL("dashboard.png", OUTPUT).pathname,
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  },
);
