/**
 * HLS muxer lifecycle: started by the first request, closed
 * `hlsMuxerCloseAfter` after the last (its stream output goes with it), or
 * started for every published path with `hlsAlwaysRemux`.
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../../_util/ffmpeg.ts";
import { startTestSluice } from "../../_util/sluice.ts";
import { requireTool } from "../../_util/tools.ts";
import { rawHttp } from "../../_util/http_raw.ts";

const opts = {
  ignore: requireTool("ffmpeg"),
  sanitizeOps: false,
  sanitizeResources: false,
};

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return ok();
}

Deno.test(
  "HLS: the muxer starts on the first request and closes hlsMuxerCloseAfter after the last",
  opts,
  async () => {
    await using s = startTestSluice({ hlsMuxerCloseAfter: "1s" });
    await using _pub = publishTestSignal(s.rtmpUrl("live/idle"), {
      seconds: 20,
    });
    await s.published("live/idle", { frames: 10 });
    const hls = s.sluice.http!.hls!;
    assert.equal(hls.muxers.size, 0);
    const r = await fetch(
      `http://127.0.0.1:${s.sluice.httpPort}/live/idle/index.m3u8`,
    );
    await r.text();
    assert.equal(r.status, 200);
    assert.equal(hls.muxers.size, 1);
    assert.equal(s.sluice.hub.stream("live/idle")!.readers, 1);
    assert.ok(await until(() => hls.muxers.size === 0, 4000), "closed");
    assert.equal(s.sluice.hub.stream("live/idle")!.readers, 0);
    assert.ok(s.logs.some((l) => l.includes("HLS muxer closed")));
  },
);

Deno.test(
  "HLS: hlsAlwaysRemux starts a muxer for a published path without a request",
  opts,
  async () => {
    await using s = startTestSluice({ hlsAlwaysRemux: true });
    await using _pub = publishTestSignal(s.rtmpUrl("live/always"), {
      seconds: 20,
    });
    await s.published("live/always", { frames: 10 });
    const hls = s.sluice.http!.hls!;
    assert.ok(await until(() => hls.muxers.size === 1, 3000));
    const m = hls.muxers.peek("live/always")!;
    assert.ok(await until(() => m.segmenter.completeSegments > 0, 5000));
  },
);

Deno.test("HLS: hls false leaves the routes out", opts, async () => {
  await using s = startTestSluice({ hls: false });
  assert.equal(s.sluice.http!.hls, undefined);
  const r = await fetch(
    `http://127.0.0.1:${s.sluice.httpPort}/live/x/index.m3u8`,
  );
  await r.text();
  assert.equal(r.status, 404);
});

Deno.test(
  "HLS: /<path>/ and hls.js are served; the dashboard at / links each path's player page",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/secret": { readUser: "u", readPass: "p" } },
    });
    await using _a = publishTestSignal(s.rtmpUrl("live/open"), { seconds: 20 });
    await using _b = publishTestSignal(s.rtmpUrl("live/secret"), {
      seconds: 20,
    });
    await s.published("live/open", { frames: 1 });
    await s.published("live/secret", { frames: 1 });
    const base = `http://127.0.0.1:${s.sluice.httpPort}`;
    // The dashboard renders its rows in the page: its script links them.
    const dashboard = await (await fetch(base + "/dashboard.js")).text();
    assert.match(dashboard, /href: "\/" \+ p\.name/);
    const page = await fetch(base + "/live/open/");
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /<script src="\/_\/hls\.min\.js">/);
    assert.match(html, /index\.m3u8/);
    const js = await fetch(base + "/_/hls.min.js");
    assert.equal(
      js.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    assert.ok((await js.arrayBuffer()).byteLength > 100_000);
    // As sent (fetch would resolve the dots).
    const bad = await rawHttp(
      s.sluice.httpPort!,
      "GET /live/%2e%2e/open/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(bad.status, 400);
  },
);
