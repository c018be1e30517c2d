/**
 * Hostile and truncated MP4 files in the VOD folder (box sizes that lie,
 * tables claiming 2^31 entries, chunk offsets at the moov or past the end,
 * a cut moov, text, an empty file): RTSP DESCRIBE, RTMP play and HTTP-FLV
 * each get a clear refusal at once, the server's memory stays put, and a
 * live stream on the same server keeps flowing to its ffmpeg reader.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { hostileMp4s } from "../_util/mp4_hostile.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
/** Slowest answer accepted for a file that cannot be played. */
const ANSWER_MS = 3000;
/** Growth of the server's memory accepted over all the hostile requests. */
const GROWTH_BYTES = 48 * 1024 * 1024;
/** What the refusals say, whoever reads them. */
const REASON = /not a sound MP4 file|not a media file|no track/;

Deno.test(
  "VOD: hostile MP4s get 415 over RTSP and HTTP-FLV and Play.Failed over RTMP, in bounded time and memory, while a live stream flows",
  opts,
  async () => {
    const files = hostileMp4s();
    const dir = await Deno.makeTempDir({ prefix: "sluice-vod-hostile-" });
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
    }
    await using s = startTestSluice({ vodPath: dir });
    await using _pub = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 40,
    });
    await s.published("live/cam", { frames: 25, timeoutMs: 20_000 });
    const live = playAndCount(s.rtspUrl("live/cam"), {
      seconds: 15,
      timeoutMs: 40_000,
      inputArgs: ["-rtsp_transport", "tcp"],
    });
    const before = Deno.memoryUsage();
    let rssPeak = before.rss;
    const rtsp = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      for (const name of Object.keys(files)) {
        const url = `rtsp://127.0.0.1:${s.sluice.rtspPort}/vod/${name}`;
        let t0 = Date.now();
        const d = await rtsp.request("DESCRIBE", url, {
          Accept: "application/sdp",
        });
        assert.equal(d.status, 415, `RTSP ${name}`);
        assert.ok(Date.now() - t0 < ANSWER_MS, `RTSP ${name}: slow`);

        t0 = Date.now();
        const r = await fetch(s.flvUrl(`vod/${name}`));
        const body = await r.text();
        assert.equal(r.status, 415, `HTTP-FLV ${name}`);
        assert.match(body, REASON, `HTTP-FLV ${name}`);
        assert.ok(Date.now() - t0 < ANSWER_MS, `HTTP-FLV ${name}: slow`);

        t0 = Date.now();
        const p = await playAndCount(s.rtmpUrl(`vod/${name}`), {
          timeoutMs: 10_000,
        });
        assert.equal(p.video, undefined, `RTMP ${name}`);
        assert.equal(p.timedOut, false, `RTMP ${name}: no answer`);
        assert.notEqual(p.code, 0, `RTMP ${name}`);
        // NetStream.Play.Failed with the reason as its description
        assert.match(
          p.stderr,
          new RegExp(`Server error: .*(${REASON.source})`),
        );
        assert.ok(Date.now() - t0 < ANSWER_MS + 2000, `RTMP ${name}: slow`);
        rssPeak = Math.max(rssPeak, Deno.memoryUsage().rss);
      }
    } finally {
      rtsp.close();
    }
    const after = Deno.memoryUsage();
    assert.ok(
      rssPeak - before.rss < GROWTH_BYTES,
      `RSS grew ${((rssPeak - before.rss) / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.ok(
      after.heapUsed - before.heapUsed < GROWTH_BYTES,
      `heap grew ${
        ((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)
      } MiB`,
    );
    // each refusal was logged with its reason, for every protocol
    const refusals = s.logs.filter((l) => REASON.test(l));
    assert.ok(
      refusals.length >= 2 * Object.keys(files).length,
      `${refusals.length} refusals logged`,
    );
    // the live reader got the whole 15 s, undisturbed
    assertDecodedH264Aac(await live, { video: 15 * 25 - 5 });
    assert.equal(s.sluice.hub.hasPublisher("live/cam"), true);
  },
);
