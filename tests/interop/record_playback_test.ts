/**
 * Playback of recordings over HTTP with ffmpeg: a 10 s publish recorded in
 * 4 s segments is listed as one stretch, and `/playback/get` of 5 s from
 * 2 s in (across the segment boundary at 4 s) decodes as one seamless file
 * of 125 frames, as fMP4 and as progressive MP4 (with 206 answers to
 * `Range`).
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");

Deno.test(
  "Playback: /playback/list merges segments; /playback/get across two segments decodes seamlessly (fmp4, mp4, Range)",
  { ignore, sanitizeOps: false, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using s = startTestSluice({
        record: true,
        recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
        recordSegmentDuration: "4s",
        recordPartDuration: "1s",
        publisherGracePeriod: 0,
        paths: { "live/pb": { readUser: "u", readPass: "p" } },
      });
      const pub = publishTestSignal(s.rtmpUrl("live/pb"), {
        seconds: 10,
        bFrames: 2,
      });
      assert.equal((await pub.status).code, 0, pub.stderr());
      const base = `http://127.0.0.1:${s.sluice.httpPort}/playback`;
      const auth = "?user=u&pass=p&path=live/pb";
      const until = Date.now() + 5000;
      while (
        s.sluice.recorder.index.segments("live/pb").some((e) => e.open) &&
        Date.now() < until
      ) await new Promise((r) => setTimeout(r, 100));

      const refused = await fetch(`${base}/list?path=live/pb`);
      await refused.body?.cancel();
      assert.equal(refused.status, 401);
      const list = await fetch(`${base}/list${auth}`);
      assert.equal(list.status, 200);
      const spans = await list.json() as { start: string; duration: number }[];
      assert.equal(spans.length, 1, JSON.stringify(spans));
      assert.ok(Math.abs(spans[0]!.duration - 10) < 0.3, JSON.stringify(spans));
      assert.equal(s.sluice.recorder.index.segments("live/pb").length, 3);

      const start = new Date(Date.parse(spans[0]!.start) + 2000).toISOString();
      const get = (format: string) =>
        `${base}/get${auth}&start=${start}&duration=5&format=${format}`;
      for (const format of ["fmp4", "mp4"]) {
        const r = await playAndCount(get(format), { timeoutMs: 30_000 });
        assertDecodedH264Aac(r, { video: 123, audio: 200 });
        assert.ok(r.video!.frames <= 127, `${r.video!.frames} frames`);
        assert.doesNotMatch(r.stderr, /error|corrupt|invalid/i);
      }
      const whole = await fetch(get("mp4"));
      const size = Number(whole.headers.get("Content-Length"));
      assert.equal(whole.headers.get("Accept-Ranges"), "bytes");
      const bytes = new Uint8Array(await whole.arrayBuffer());
      assert.equal(bytes.length, size);
      const part = await fetch(get("mp4"), {
        headers: { Range: "bytes=1000-1999" },
      });
      assert.equal(part.status, 206);
      assert.equal(
        part.headers.get("Content-Range"),
        `bytes 1000-1999/${size}`,
      );
      assert.deepEqual(
        new Uint8Array(await part.arrayBuffer()),
        bytes.subarray(1000, 2000),
      );
      const past = await fetch(get("mp4"), {
        headers: { Range: `bytes=${size}-` },
      });
      await past.body?.cancel();
      assert.equal(past.status, 416);
      // Answers read to the end or dropped early free their place (16 at once).
      for (let i = 0; i < 20; i++) {
        const r = await fetch(get(i % 2 === 0 ? "fmp4" : "mp4"));
        assert.equal(r.status, 200, `get ${i}`);
        if (i % 4 < 2) await r.arrayBuffer();
        else await r.body?.cancel();
        await new Promise((ok) => setTimeout(ok, 20));
      }
      for (
        const bad of [
          `${base}/get${auth}&start=yesterday&duration=5`,
          `${base}/get${auth}&start=${start}&duration=-1`,
          `${base}/get${auth}&start=${start}&duration=5&format=avi`,
          `${base}/list?path=../../etc`,
        ]
      ) {
        const r = await fetch(bad);
        await r.body?.cancel();
        assert.equal(r.status, 400, bad);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
