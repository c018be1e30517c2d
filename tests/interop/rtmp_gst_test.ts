/**
 * The RTMP server with GStreamer's two RTMP stacks: rtmp2 (its own) and
 * rtmp (librtmp, the library OBS's RTMP output grew from).
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { gstPlayAndCount, gstPublish } from "../_util/gst.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("gst-launch-1.0");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

for (const sink of ["rtmp2sink", "rtmpsink"] as const) {
  Deno.test(
    `RTMP: GStreamer ${sink} publishes and ffmpeg decodes it`,
    opts,
    async () => {
      await using s = startTestSluice();
      const pub = gstPublish(s.rtmpUrl("live/gst"), { sink, seconds: 12 });
      try {
        await s.published("live/gst");
        const r = await playAndCount(s.rtmpUrl("live/gst"), {
          seconds: 3,
          timeoutMs: 20_000,
        });
        assertDecodedH264Aac(r, {
          video: 60,
          context: `--- gst:\n${pub.stderr()}`,
        });
      } finally {
        await pub.stop();
      }
    },
  );
}

for (const source of ["rtmp2src", "rtmpsrc"] as const) {
  Deno.test(
    `RTMP: GStreamer ${source} plays what ffmpeg publishes`,
    opts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtmpUrl("live/play"), {
        seconds: 15,
        width: 320,
        height: 240,
      });
      await s.published("live/play");
      const r = await gstPlayAndCount(s.rtmpUrl("live/play"), {
        source,
        frames: 50,
        timeoutMs: 20_000,
      });
      // The harness stops the player itself after 50 frames: its exit code says nothing then.
      assert.equal(r.frames, 50, r.stderr);
      assert.deepEqual(
        [...r.sizes],
        [320 * 240 * 3 / 2],
        "every frame decoded at 320x240",
      );
    },
  );
}
