/**
 * HLS muxer lifecycle: started by the first request, closed
 * `hlsMuxerCloseAfter` after the last (its stream output goes with it), or
 * started for every published path with `hlsAlwaysRemux`.
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../../_util/ffmpeg.ts";
import { startTestSluice } from "../../_util/sluice.ts";
import { requireTool } from "../../_util/tools.ts";

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
