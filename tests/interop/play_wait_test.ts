/**
 * What ffprobe hears for a path nobody publishes, with Sluice's defaults:
 * RTSP 404, RTMP "Stream not found", HTTP 404, each after the 3 s
 * play-before-publish wait and well inside the 5 s common clients wait.
 */
import assert from "node:assert/strict";
import { probe } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "ffprobe of a path nobody publishes hears 404 or StreamNotFound within 3–4 s over RTSP, RTMP and HTTP-FLV",
  opts,
  async () => {
    await using s = startTestSluice();
    const urls = {
      rtsp: [s.rtspUrl("live/none"), /404 Not Found/],
      rtmp: [s.rtmpUrl("live/none"), /Stream not found|StreamNotFound/],
      http: [s.flvUrl("live/none"), /404 Not Found/],
    } as const;
    const results = await Promise.all(
      Object.entries(urls).map(async ([name, [url, answer]]) => {
        const started = Date.now();
        const r = await probe(url, 15_000);
        return { name, answer, r, ms: Date.now() - started };
      }),
    );
    for (const { name, answer, r, ms } of results) {
      assert.notEqual(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stderr, answer, name);
      assert.ok(ms >= 2900, `${name}: waited for a publisher first (${ms} ms)`);
      // ffprobe itself takes a few hundred ms to start
      assert.ok(ms < 4500, `${name}: answered well inside 5 s (${ms} ms)`);
    }
  },
);
