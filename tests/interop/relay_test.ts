/**
 * Relays between two Sluice instances on 127.0.0.1: one pulls the other over
 * RTSP and RTMP, one pushes to the other over RTSP and RTMP, and a pull rides
 * out its upstream publisher going away. ffmpeg publishes the source and
 * plays the result, counting the frames it decodes.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import {
  assertAllPlay,
  describeInstances as why,
  publishLive,
  untilFrames,
} from "../_util/live.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

const SOURCE = "live/src";
const TCP = ["-rtsp_transport", "tcp"];

Deno.test(
  "Relay pulls another Sluice over RTSP and over RTMP; ffmpeg plays both paths",
  opts,
  async () => {
    await using upstream = startTestSluice();
    await using _pub = await publishLive(upstream, SOURCE, { seconds: 20 });
    await using s = startTestSluice({
      paths: {
        "live/via-rtsp": { source: upstream.rtspUrl(SOURCE) },
        "live/via-rtmp": { source: upstream.rtmpUrl(SOURCE) },
      },
    });
    await untilFrames(s, ["live/via-rtsp", "live/via-rtmp"], {
      others: [upstream],
    });
    await assertAllPlay([
      s.rtmpUrl("live/via-rtsp"),
      { url: s.rtspUrl("live/via-rtmp"), inputArgs: TCP },
    ], { video: 35 });
    for (const state of s.sluice.relays.states()) {
      assert.deepEqual([state.kind, state.status, state.attempts], [
        "pull",
        "running",
        1,
      ]);
    }
  },
);

Deno.test(
  "Relay pushes to another Sluice over RTSP and over RTMP while the path has a publisher",
  opts,
  async () => {
    await using downstream = startTestSluice();
    await using s = startTestSluice({
      paths: {
        [SOURCE]: {
          push: [
            downstream.rtspUrl("live/pushed-rtsp"),
            downstream.rtmpUrl("live/pushed-rtmp"),
          ],
        },
      },
    });
    assert.deepEqual(
      s.sluice.relays.states(),
      [],
      "no push without a publisher",
    );
    const pub = publishTestSignal(s.rtmpUrl(SOURCE), { seconds: 20 });
    try {
      await untilFrames(downstream, ["live/pushed-rtsp", "live/pushed-rtmp"], {
        others: [s],
      });
      await assertAllPlay([
        downstream.rtmpUrl("live/pushed-rtsp"),
        { url: downstream.rtspUrl("live/pushed-rtmp"), inputArgs: TCP },
      ], { video: 35 });
      const states = s.sluice.relays.states();
      assert.deepEqual(
        states.map((r) => [r.kind, r.status, r.attempts]),
        [["push", "running", 1], ["push", "running", 1]],
      );
    } finally {
      await pub.stop();
    }
    // The publisher left: the pushes stop, and so do the downstream paths.
    await until(
      () =>
        s.sluice.relays.states().length === 0 &&
        !downstream.sluice.hub.hasPublisher("live/pushed-rtsp") &&
        !downstream.sluice.hub.hasPublisher("live/pushed-rtmp"),
      8000,
      () => why(s, downstream),
    );
  },
);

for (const protocol of ["rtmp", "rtsp"] as const) {
  Deno.test(
    `Relay pulling over ${protocol} retries when the upstream publisher goes, and an RTMP reader resumes`,
    opts,
    async () => {
      await using upstream = startTestSluice({ publisherGracePeriod: "0s" });
      let pub = await publishLive(upstream, SOURCE, { seconds: 30 });
      try {
        await using s = startTestSluice({
          publisherGracePeriod: "20s",
          paths: {
            "live/pulled": {
              source: protocol === "rtmp"
                ? upstream.rtmpUrl(SOURCE)
                : upstream.rtspUrl(SOURCE),
              rtspTransport: "tcp",
            },
          },
        });
        await untilFrames(s, ["live/pulled"], { others: [upstream] });
        const playing = playAndCount(s.rtmpUrl("live/pulled"), {
          seconds: 8,
          timeoutMs: 30_000,
        });
        await new Promise((r) => setTimeout(r, 2000));
        await pub.stop();
        const relay = () => s.sluice.relays.states()[0];
        await until(
          () => relay()?.status === "retrying",
          8000,
          () => why(s, upstream),
        );
        pub = publishTestSignal(upstream.rtmpUrl(SOURCE), { seconds: 30 });
        await until(
          () => relay()?.status === "running" && (relay()?.attempts ?? 0) >= 2,
          15_000,
          () => why(s, upstream),
        );
        const r = await playing;
        assert.equal(r.timedOut, false, r.stderr);
        assertDecodedH264Aac(r, { video: 150 });
      } finally {
        await pub.stop();
      }
    },
  );
}
