/**
 * RTSPS and RTMPS with real clients, on a self-signed certificate made by
 * openssl at run time: ffmpeg publishes and plays `rtmps://` and plays
 * `rtsps://` (plain RTP interleaved inside TLS); GStreamer's rtmp2sink and
 * rtmp2src, and rtspsrc, do the same with `tls-validation-flags=0`; one
 * Sluice pulls from and pushes to another over both, trusting the
 * certificate through a path's `tlsCA`. Every player counts decoded frames
 * of the right codec and size.
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import {
  gstPlayAndCount,
  gstPublish,
  gstRtspPlayAndCount,
} from "../_util/gst.ts";
import {
  assertAllPlay,
  describeInstances as why,
  publishLive,
  untilFrames,
} from "../_util/live.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { testCert, tlsConfig } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("openssl");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const gstOpts = {
  ...opts,
  ignore: ignore || requireTool("gst-launch-1.0") || requireTool("python3"),
};
/** GStreamer's TLS elements: take the self-signed certificate. */
const NO_VALIDATION = ["tls-validation-flags=0"];

Deno.test(
  "RTMPS: ffmpeg publishes rtmps:// and ffmpeg plays it back over rtmps://",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using pub = await publishLive(s, "live/tls", {
      scheme: "rtmps",
      seconds: 12,
    });
    const r = await playAndCount(s.rtmpsUrl("live/tls"), {
      seconds: 3,
      timeoutMs: 20_000,
    });
    assertDecodedH264Aac(r, {
      video: 60,
      context: `--- publisher:\n${pub.stderr()}\n${s.logs.join("\n")}`,
    });
    assert.equal(s.sluice.rtmp!.stats.tlsHandshakeFailures, 0);
  },
);

Deno.test(
  "RTSPS: ffmpeg plays rtsps:// (RTP interleaved in TLS) what RTMP publishes",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using _pub = await publishLive(s, "live/tls", { seconds: 12 });
    const r = await playAndCount(s.rtspsUrl("live/tls"), {
      seconds: 3,
      timeoutMs: 20_000,
    });
    assertDecodedH264Aac(r, { video: 60, context: s.logs.join("\n") });
    assert.equal(s.sluice.rtsp!.stats.tlsHandshakeFailures, 0);
  },
);

Deno.test(
  "RTMPS: GStreamer rtmp2sink publishes rtmps:// and rtmp2src plays it",
  gstOpts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    const pub = gstPublish(s.rtmpsUrl("live/gst"), {
      sink: "rtmp2sink",
      seconds: 14,
      sinkProperties: NO_VALIDATION,
    });
    try {
      await s.published("live/gst", { frames: 10 });
      const r = await gstPlayAndCount(s.rtmpsUrl("live/gst"), {
        source: "rtmp2src",
        frames: 50,
        timeoutMs: 20_000,
        sourceProperties: NO_VALIDATION,
      });
      assert.equal(r.frames, 50, `${r.stderr}\n--- gst:\n${pub.stderr()}`);
      assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2], "320x240 I420");
    } finally {
      await pub.stop();
    }
  },
);

Deno.test(
  "RTSPS: GStreamer rtspsrc plays rtsps:// over TCP",
  gstOpts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using _pub = await publishLive(s, "live/gst", { seconds: 14 });
    const r = await gstRtspPlayAndCount(s.rtspsUrl("live/gst"), {
      transport: "tcp",
      frames: 50,
      timeoutMs: 20_000,
    });
    assert.equal(r.frames, 50, `${r.stderr}\n${s.logs.join("\n")}`);
    assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2], "320x240 I420");
  },
);

Deno.test(
  "Relay pulls another Sluice over rtsps:// and rtmps://, trusting its certificate by tlsCA",
  opts,
  async () => {
    await using upstream = startTestSluice(tlsConfig());
    await using _pub = await publishLive(upstream, "live/src", {
      seconds: 20,
    });
    const tlsCA = testCert().certFile;
    await using s = startTestSluice({
      paths: {
        "live/via-rtsps": { source: upstream.rtspsUrl("live/src"), tlsCA },
        "live/via-rtmps": { source: upstream.rtmpsUrl("live/src"), tlsCA },
      },
    });
    await untilFrames(s, ["live/via-rtsps", "live/via-rtmps"], {
      timeoutMs: 12_000,
      others: [upstream],
    });
    await assertAllPlay([
      s.rtmpUrl("live/via-rtsps"),
      s.rtmpUrl("live/via-rtmps"),
    ], { video: 35 });
    assert.deepEqual(
      s.sluice.relays.states().map((r) => [r.status, r.attempts]),
      [["running", 1], ["running", 1]],
    );
  },
);

Deno.test(
  "Relay pushes to another Sluice over rtsps:// and rtmps://",
  opts,
  async () => {
    await using downstream = startTestSluice(tlsConfig());
    await using s = startTestSluice({
      paths: {
        "live/src": {
          push: [
            downstream.rtspsUrl("live/pushed-rtsps"),
            downstream.rtmpsUrl("live/pushed-rtmps"),
          ],
          tlsCA: testCert().certFile,
        },
      },
    });
    await using _pub = await publishLive(s, "live/src", { seconds: 20 });
    await untilFrames(downstream, ["live/pushed-rtsps", "live/pushed-rtmps"], {
      timeoutMs: 12_000,
      others: [s],
    });
    await assertAllPlay([
      downstream.rtmpUrl("live/pushed-rtsps"),
      downstream.rtmpUrl("live/pushed-rtmps"),
    ], { video: 35 });
  },
);

Deno.test(
  "Relay refuses an rtsps:// source whose certificate it does not trust",
  opts,
  async () => {
    await using upstream = startTestSluice(tlsConfig());
    await using s = startTestSluice({
      paths: { "live/untrusted": { source: upstream.rtspsUrl("live/src") } },
    });
    await until(
      () => s.sluice.relays.states()[0]?.status === "retrying",
      10_000,
      () => why(s, upstream),
    );
    const state = s.sluice.relays.states()[0]!;
    assert.match(
      state.lastError ?? "",
      /certificate|UnknownIssuer|invalid peer/i,
    );
    assert.equal(s.sluice.hub.hasPublisher("live/untrusted"), false);
  },
);
