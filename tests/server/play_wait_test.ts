/**
 * Play before publish with the default playWaitTimeout (3 s), over real
 * sockets: a path nobody publishes gets its answer (RTSP 404, RTMP
 * NetStream.Play.StreamNotFound, HTTP 404) after the wait and well inside
 * the 5 s common clients wait for one; a publisher that comes within the
 * wait is played.
 */
import assert from "node:assert/strict";
import { RtmpClient, RtmpStatusError } from "../../lib/client/rtmp.ts";
import { rawHttp } from "../_util/http_raw.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Milliseconds `run` took. */
async function timed(run: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await run();
  return Date.now() - started;
}

Deno.test(
  "RTSP DESCRIBE, RTMP play and HTTP-FLV of a path nobody publishes are answered within 3–4 s by default",
  opts,
  async () => {
    await using s = startTestSluice();
    const [rtsp, rtmp, http] = await Promise.all([
      timed(async () => {
        const c = await RawRtsp.connect(s.sluice.rtspPort!);
        const r = await c.request("DESCRIBE", s.rtspUrl("live/none"));
        c.close();
        assert.equal(r.status, 404);
      }),
      timed(async () => {
        const c = await RtmpClient.connect(s.rtmpUrl("live/none"));
        await assert.rejects(
          c.play(),
          (e) =>
            e instanceof RtmpStatusError &&
            e.code === "NetStream.Play.StreamNotFound",
        );
        c.close();
      }),
      timed(async () => {
        const r = await rawHttp(
          s.sluice.httpPort!,
          "GET /live/none.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        );
        assert.equal(r.status, 404, r.text);
      }),
    ]);
    for (const [name, ms] of Object.entries({ rtsp, rtmp, http })) {
      assert.ok(ms >= 2900, `${name}: waited for a publisher first (${ms} ms)`);
      assert.ok(ms < 4000, `${name}: answered well inside 5 s (${ms} ms)`);
    }
  },
);

Deno.test(
  "RTMP play before publish still gets the stream when the publisher comes 1 s later, by default",
  opts,
  async () => {
    await using s = startTestSluice();
    const player = await RtmpClient.connect(s.rtmpUrl("live/late"));
    const playing = player.play();
    await new Promise((r) => setTimeout(r, 1000));
    const pub = await RtmpClient.connect(s.rtmpUrl("live/late"));
    await pub.publish();
    await playing;
    assert.ok(player.statuses.includes("NetStream.Play.Start"));
    player.close();
    pub.close();
  },
);
