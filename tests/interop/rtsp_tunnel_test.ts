/**
 * RTSP over HTTP tunnelling with real, unmodified players on 127.0.0.1:
 * ffmpeg (`-rtsp_transport http`) and GStreamer (`rtsph://`) play through a
 * tunnel on the RTSP port and on an `rtspTunnelAddresses` port, counting the
 * frames they decode; Sluice's own client pulls `rtsph://` from another
 * Sluice and records into one through a tunnel, and ffmpeg plays the result.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { RtspClient } from "../../lib/client/rtsp/client.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const gstOpts = { ...opts, ignore: ignore || requireTool("python3") };

/** The RTSP port and the first tunnel-only port of `s`. */
function ports(s: TestSluice): { rtsp: number; tunnel: number } {
  const tunnel = s.sluice.rtsp!.tunnelPorts[0];
  assert.ok(tunnel !== undefined && tunnel > 0, "a tunnel port is bound");
  return { rtsp: s.sluice.rtspPort!, tunnel };
}

Deno.test(
  "RTSP tunnel: ffmpeg publishes RTMP, ffmpeg plays over HTTP on the RTSP port and on a tunnel port",
  opts,
  async () => {
    await using s = startTestSluice({ rtspTunnelAddresses: ["127.0.0.1:0"] });
    await using _pub = publishTestSignal(s.rtmpUrl("live/http"), {
      seconds: 15,
    });
    await s.published("live/http", { frames: 10 });
    const p = ports(s);
    const [onRtsp, onTunnel] = await Promise.all(
      [p.rtsp, p.tunnel].map((port) =>
        playAndCount(`rtsp://127.0.0.1:${port}/live/http`, {
          seconds: 4,
          timeoutMs: 25_000,
          inputArgs: ["-rtsp_transport", "http"],
        })
      ),
    );
    const logs = s.logs.join("\n");
    assertDecodedH264Aac(onRtsp!, { video: 90, audio: 150, context: logs });
    assertDecodedH264Aac(onTunnel!, { video: 90, audio: 150, context: logs });
    const stats = s.sluice.rtsp!.stats;
    assert.equal(stats.tunnels, 2, logs);
    assert.equal(stats.protocolErrors, 0, logs);
  },
);

Deno.test(
  "RTSP tunnel: ffmpeg plays past the session timeout, its keep-alives coming through the POST",
  opts,
  async () => {
    // 2 s announced: ffmpeg keeps alive every second; 7 s without one end a session.
    await using s = startTestSluice({ rtspSessionTimeout: "2s" });
    await using _pub = publishTestSignal(s.rtmpUrl("live/long"), {
      seconds: 20,
    });
    await s.published("live/long", { frames: 10 });
    const r = await playAndCount(s.rtspUrl("live/long"), {
      seconds: 10,
      timeoutMs: 30_000,
      inputArgs: ["-rtsp_transport", "http"],
    });
    const logs = s.logs.join("\n");
    assertDecodedH264Aac(r, { video: 240, audio: 400, context: logs });
    assert.equal(s.sluice.rtsp!.stats.sessionsTimedOut, 0, logs);
    assert.equal(s.sluice.rtsp!.stats.tunnels, 1, logs);
  },
);

Deno.test(
  "RTSP tunnel: ffmpeg records over RTSP, GStreamer plays rtsph:// on the RTSP port and on a tunnel port",
  gstOpts,
  async () => {
    await using s = startTestSluice({ rtspTunnelAddresses: ["127.0.0.1:0"] });
    await using _pub = publishTestSignal(s.rtspUrl("live/gst"), {
      seconds: 20,
      format: "rtsp",
      rtspTransport: "tcp",
    });
    await s.published("live/gst", { frames: 10 });
    const p = ports(s);
    for (const port of [p.rtsp, p.tunnel]) {
      const r = await gstRtspPlayAndCount(
        `rtsph://127.0.0.1:${port}/live/gst`,
        { transport: "tcp", frames: 50, timeoutMs: 20_000 },
      );
      assert.equal(r.frames, 50, `${r.stderr}\n${s.logs.join("\n")}`);
      assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2]);
    }
    assert.equal(s.sluice.rtsp!.stats.tunnels, 2, s.logs.join("\n"));
  },
);

Deno.test(
  "RTSP tunnel: Sluice pulls rtsph:// from another Sluice, ffmpeg plays the relayed path",
  opts,
  async () => {
    await using upstream = startTestSluice({
      rtspTunnelAddresses: ["127.0.0.1:0"],
    });
    await using _pub = publishTestSignal(upstream.rtmpUrl("live/src"), {
      seconds: 20,
    });
    await upstream.published("live/src", { frames: 10 });
    const p = ports(upstream);
    await using s = startTestSluice({
      paths: {
        "live/via-rtsp-port": {
          source: `rtsph://127.0.0.1:${p.rtsp}/live/src`,
        },
        "live/via-tunnel-port": {
          source: `rtsph://127.0.0.1:${p.tunnel}/live/src`,
        },
      },
    });
    const why = () =>
      [upstream, s].map((x) => x.logs.join("\n")).join("\n---\n");
    await until(
      () =>
        (s.sluice.hub.stream("live/via-rtsp-port")?.stats.framesIn ?? 0) >=
          10 &&
        (s.sluice.hub.stream("live/via-tunnel-port")?.stats.framesIn ?? 0) >=
          10,
      15_000,
      why,
    );
    assert.equal(upstream.sluice.rtsp!.stats.tunnels, 2, why());
    const [a, b] = await Promise.all([
      playAndCount(s.rtspUrl("live/via-rtsp-port"), {
        seconds: 3,
        timeoutMs: 20_000,
        inputArgs: ["-rtsp_transport", "tcp"],
      }),
      playAndCount(s.rtmpUrl("live/via-tunnel-port"), {
        seconds: 3,
        timeoutMs: 20_000,
      }),
    ]);
    assertDecodedH264Aac(a, { video: 65, audio: 100, context: why() });
    assertDecodedH264Aac(b, { video: 65, audio: 100, context: why() });
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
  "RTSP tunnel: Sluice's client records through rtsph:// into another Sluice (media in the POST), ffmpeg plays it",
  opts,
  async () => {
    await using origin = startTestSluice();
    await using _pub = publishTestSignal(origin.rtmpUrl("live/src"), {
      seconds: 20,
    });
    await origin.published("live/src", { frames: 10 });
    await using s = startTestSluice();
    const client = await RtspClient.open(
      `rtsph://127.0.0.1:${s.sluice.rtspPort}/live/pushed`,
    );
    try {
      await client.record(origin.sluice.hub.stream("live/src")!);
      assert.equal(client.transport, "tcp");
      await s.published("live/pushed", { frames: 50 });
      const r = await playAndCount(s.rtmpUrl("live/pushed"), {
        seconds: 3,
        timeoutMs: 20_000,
      });
      const why = [origin, s].map((x) => x.logs.join("\n")).join("\n---\n");
      assertDecodedH264Aac(r, { video: 65, audio: 100, context: why });
      assert.equal(s.sluice.rtsp!.stats.tunnels, 1, why);
      assert.equal(s.sluice.rtsp!.stats.protocolErrors, 0, why);
    } finally {
      client.close();
    }
  },
);
