/**
 * RTSP over HTTPS tunnelling on the RTSPS port with real, unmodified
 * players, on a self-signed certificate made by openssl at run time:
 * ffmpeg (`-rtsp_transport https`) and GStreamer (`rtspsh://`,
 * `tls-validation-flags=0`) play through it counting decoded frames; one
 * Sluice pulls `rtspsh://` from another (trusting the certificate by
 * `tlsCA`) and records into one through `rtspsh://`, and ffmpeg plays the
 * results.
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { RtspClient } from "../../lib/client/rtsp/client.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import {
  describeInstances as why,
  publishLive,
  untilFrames,
} from "../_util/live.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { testCert, tlsConfig } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe") ||
  requireTool("openssl");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const gstOpts = {
  ...opts,
  ignore: ignore || requireTool("gst-launch-1.0") || requireTool("python3"),
};

/** The RTSPS port of `s`, where HTTPS tunnels are taken. */
function rtspsPort(s: TestSluice): number {
  const port = s.sluice.rtspsPort;
  assert.ok(port !== undefined && port > 0, "RTSPS is listening");
  return port;
}

Deno.test(
  "RTSPS tunnel: ffmpeg -rtsp_transport https plays rtsps:// and rtsp:// URLs through HTTPS on the RTSPS port",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using _pub = await publishLive(s, "live/https", { seconds: 15 });
    // ffmpeg 5.1 tunnels in HTTPS to the URL's port with either scheme
    // (GET and POST https://…); it verifies no certificate unless told
    // (-tls_verify 1), so no flag but the transport is needed.
    for (const scheme of ["rtsps", "rtsp"]) {
      const r = await playAndCount(
        `${scheme}://127.0.0.1:${rtspsPort(s)}/live/https`,
        {
          seconds: 4,
          timeoutMs: 25_000,
          inputArgs: ["-rtsp_transport", "https"],
        },
      );
      assertDecodedH264Aac(r, { video: 90, audio: 150, context: why(s) });
    }
    const stats = s.sluice.rtsp!.stats;
    assert.equal(stats.tunnels, 2, why(s));
    assert.equal(stats.tlsHandshakeFailures, 0, why(s));
    assert.equal(stats.protocolErrors, 0, why(s));
  },
);

Deno.test(
  "RTSPS tunnel: ffmpeg records over RTSP, GStreamer plays rtspsh:// on the RTSPS port",
  gstOpts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using _pub = await publishLive(s, "live/gst", {
      scheme: "rtsp",
      seconds: 20,
      rtspTransport: "tcp",
    });
    const r = await gstRtspPlayAndCount(
      `rtspsh://127.0.0.1:${rtspsPort(s)}/live/gst`,
      { transport: "tcp", frames: 50, timeoutMs: 20_000 },
    );
    assert.equal(r.frames, 50, `${r.stderr}\n${why(s)}`);
    assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2], "320x240 I420");
    assert.equal(s.sluice.rtsp!.stats.tunnels, 1, why(s));
    assert.equal(s.sluice.rtsp!.stats.tlsHandshakeFailures, 0, why(s));
  },
);

Deno.test(
  "RTSPS tunnel: Sluice pulls rtspsh:// from another Sluice trusting it by tlsCA, ffmpeg plays the relayed path",
  opts,
  async () => {
    await using upstream = startTestSluice(tlsConfig());
    await using _pub = await publishLive(upstream, "live/src", {
      seconds: 20,
    });
    await using s = startTestSluice({
      paths: {
        "live/relayed": {
          source: `rtspsh://127.0.0.1:${rtspsPort(upstream)}/live/src`,
          tlsCA: testCert().certFile,
        },
      },
    });
    await untilFrames(s, ["live/relayed"], {
      timeoutMs: 15_000,
      others: [upstream],
    });
    assert.equal(upstream.sluice.rtsp!.stats.tunnels, 1, why(upstream, s));
    const r = await playAndCount(s.rtspUrl("live/relayed"), {
      seconds: 3,
      timeoutMs: 20_000,
      inputArgs: ["-rtsp_transport", "tcp"],
    });
    assertDecodedH264Aac(r, {
      video: 65,
      audio: 100,
      context: why(upstream, s),
    });
    const [state] = s.sluice.relays.states();
    assert.deepEqual(
      [state?.kind, state?.status, state?.attempts],
      ["pull", "running", 1],
    );
  },
);

Deno.test(
  "RTSPS tunnel: Sluice's client records through rtspsh:// into another Sluice, ffmpeg plays it",
  opts,
  async () => {
    await using origin = startTestSluice();
    await using _pub = await publishLive(origin, "live/src", { seconds: 20 });
    await using s = startTestSluice(tlsConfig());
    const client = await RtspClient.open(
      `rtspsh://127.0.0.1:${rtspsPort(s)}/live/pushed`,
      { caCerts: [testCert().pem] },
    );
    try {
      await client.record(origin.sluice.hub.stream("live/src")!);
      assert.equal(client.transport, "tcp");
      await s.published("live/pushed", { frames: 50 });
      const r = await playAndCount(s.rtmpUrl("live/pushed"), {
        seconds: 3,
        timeoutMs: 20_000,
      });
      assertDecodedH264Aac(r, {
        video: 65,
        audio: 100,
        context: why(origin, s),
      });
      assert.equal(s.sluice.rtsp!.stats.tunnels, 1, why(origin, s));
      assert.equal(s.sluice.rtsp!.stats.protocolErrors, 0, why(origin, s));
    } finally {
      client.close();
    }
  },
);
