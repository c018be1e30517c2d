/**
 * SRTP over RTSP with real clients: GStreamer's rtspsrc plays `rtsps://`
 * (the DESCRIBE gives RTP/SAVP and each track's key in MIKEY) over UDP and
 * over TCP, GStreamer's rtspclientsink publishes with `profiles=savp` (its
 * own key in the ANNOUNCE) and ffmpeg plays what it sent; Sluice's RTSP
 * client pulls and pushes SRTP against Sluice. Every player counts decoded
 * frames of the right codec and size, and the server's log says each
 * session used SRTP.
 */
import assert from "node:assert/strict";
import { RtspClient } from "../../lib/client/rtsp/client.ts";
import type { Publisher } from "../../lib/hub/hub.ts";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { testCert, tlsConfig } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("ffmpeg") || requireTool("openssl");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const gstOpts = {
  ...opts,
  ignore: ignore || requireTool("gst-launch-1.0") || requireTool("python3"),
};
const I420_320X240 = 320 * 240 * 3 / 2;

function logs(s: TestSluice): string {
  return s.logs.join("\n");
}

for (const transport of ["udp", "tcp"] as const) {
  Deno.test(
    `SRTP: GStreamer rtspsrc plays rtsps:// as RTP/SAVP over ${transport.toUpperCase()}`,
    gstOpts,
    async () => {
      await using s = startTestSluice(tlsConfig());
      await using _pub = publishTestSignal(s.rtmpUrl("live/srtp"), {
        seconds: 14,
      });
      await s.published("live/srtp", { frames: 10 });
      const r = await gstRtspPlayAndCount(s.rtspsUrl("live/srtp"), {
        transport,
        frames: 50,
        timeoutMs: 20_000,
      });
      assert.equal(r.frames, 50, `${r.stderr}\n${logs(s)}`);
      assert.deepEqual([...r.sizes], [I420_320X240], "320x240 I420");
      assert.match(
        logs(s),
        new RegExp(`playing .*transport=${transport}.*srtp=true`),
      );
    },
  );
}

/**
 * GStreamer's rtspclientsink publishing H.264 (320x240, 25 fps) with SRTP:
 * `profiles=savp` puts its key in the ANNOUNCE's SDP as MIKEY and sets up
 * RTP/SAVP.
 */
function gstRecordSrtp(url: string, seconds: number, protocols: string) {
  const frames = seconds * 25;
  return spawn("gst-launch-1.0", [
    "-q",
    ...["videotestsrc", "is-live=true", `num-buffers=${frames}`, "!"],
    "video/x-raw,format=I420,width=320,height=240,framerate=25/1",
    ...["!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast"],
    ...["key-int-max=25", "!", "h264parse", "!"],
    ...["rtspclientsink", `location=${url}`, "profiles=savp"],
    `protocols=${protocols}`,
  ], { timeoutMs: seconds * 1000 + 15_000 });
}

for (const protocols of ["tcp", "udp"]) {
  Deno.test(
    `SRTP: GStreamer rtspclientsink publishes RTP/SAVP over ${protocols.toUpperCase()}, ffmpeg plays it`,
    gstOpts,
    async () => {
      await using s = startTestSluice();
      const pub = gstRecordSrtp(s.rtspUrl("live/in"), 14, protocols);
      try {
        await s.published("live/in", { frames: 25, timeoutMs: 15_000 })
          .catch((e) => {
            throw new Error(`${e.message}\n--- gst:\n${pub.stderr()}`);
          });
        assert.match(logs(s), /recording .*srtp=true/);
        const r = await playAndCount(s.rtspUrl("live/in"), {
          frames: 50,
          timeoutMs: 20_000,
          inputArgs: ["-rtsp_transport", "tcp"],
        });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          [r.video?.codec, r.video?.width, r.video?.height],
          ["h264", 320, 240],
          r.stderr,
        );
        assert.equal(r.video?.frames, 50, r.stderr);
        assert.doesNotMatch(logs(s), /SRTP packets dropped/);
      } finally {
        await pub.stop();
      }
    },
  );
}

/** A publisher that keeps what the RTSP client pulled. */
function counter() {
  const got = { frames: 0, keyframes: 0, codecs: new Set<string>() };
  const publisher: Pick<Publisher, "setTrack" | "setTracks" | "writeFrame"> = {
    setTracks: (tracks) => tracks.forEach((t) => got.codecs.add(t.codec)),
    setTrack: (t) => void got.codecs.add(t.codec),
    writeFrame: (f) => {
      got.frames++;
      if (f.keyframe) got.keyframes++;
    },
  };
  return { got, publisher };
}

for (const transport of ["udp", "tcp"] as const) {
  Deno.test(
    `SRTP: Sluice's RTSP client pulls rtsps:// as RTP/SAVP over ${transport.toUpperCase()}`,
    opts,
    async () => {
      await using s = startTestSluice(tlsConfig());
      await using _pub = publishTestSignal(s.rtmpUrl("live/pull"), {
        seconds: 12,
      });
      await s.published("live/pull", { frames: 10 });
      const client = await RtspClient.open(s.rtspsUrl("live/pull"), {
        transport,
        caCerts: [testCert().pem],
      });
      try {
        const d = await client.describe();
        assert.deepEqual(
          d.sdp.media.map((m) => m.protocol),
          ["RTP/SAVP", "RTP/SAVP"],
        );
        const { got, publisher } = counter();
        await client.play(d, publisher);
        await until(
          () => got.frames >= 100,
          15_000,
          () => `pulled ${got.frames} frames\n${logs(s)}`,
        );
        assert.deepEqual([...got.codecs].sort(), ["AAC", "H264"]);
        assert.ok(got.keyframes >= 1);
        assert.match(logs(s), /playing .*srtp=true/);
      } finally {
        client.close();
      }
    },
  );
}

Deno.test(
  "SRTP: Sluice pushes to Sluice over rtsps:// as RTP/SAVP, and ffmpeg plays the copy",
  opts,
  async () => {
    await using a = startTestSluice();
    await using b = startTestSluice(tlsConfig());
    await using _pub = publishTestSignal(a.rtmpUrl("live/src"), {
      seconds: 14,
    });
    await a.published("live/src", { frames: 10 });
    const client = await RtspClient.open(b.rtspsUrl("live/copy"), {
      transport: "tcp",
      caCerts: [testCert().pem],
    });
    try {
      await client.record(a.sluice.hub.stream("live/src")!);
      await b.published("live/copy", { frames: 50 });
      assert.match(logs(b), /recording .*srtp=true/);
      const r = await playAndCount(b.rtspUrl("live/copy"), {
        frames: 50,
        timeoutMs: 20_000,
      });
      assertDecodedH264Aac(r, { video: 50, context: logs(b) });
      assert.doesNotMatch(logs(b), /SRTP packets dropped/);
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "SRTP: Sluice pushes RTP/SAVP over plain rtsp:// when asked (srtp: always) over UDP",
  opts,
  async () => {
    await using a = startTestSluice();
    await using b = startTestSluice();
    await using _pub = publishTestSignal(a.rtmpUrl("live/src"), {
      seconds: 14,
    });
    await a.published("live/src", { frames: 10 });
    const client = await RtspClient.open(b.rtspUrl("live/copy"), {
      transport: "udp",
      srtp: "always",
    });
    try {
      await client.record(a.sluice.hub.stream("live/src")!);
      await b.published("live/copy", { frames: 50 });
      assert.match(logs(b), /recording .*srtp=true/);
      const r = await playAndCount(b.rtspUrl("live/copy"), {
        frames: 50,
        timeoutMs: 20_000,
      });
      assertDecodedH264Aac(r, { video: 50, context: logs(b) });
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "SRTP required: ffmpeg's rtsps:// (plain RTP in TLS) is refused with 461 while GStreamer plays SRTP",
  gstOpts,
  async () => {
    await using s = startTestSluice({ ...tlsConfig(), srtp: "required" });
    await using _pub = publishTestSignal(s.rtmpUrl("live/req"), {
      seconds: 14,
    });
    await s.published("live/req", { frames: 10 });
    const refused = await playAndCount(s.rtspsUrl("live/req"), {
      frames: 10,
      timeoutMs: 15_000,
    });
    assert.notEqual(refused.code, 0, "ffmpeg failed");
    assert.equal(refused.video?.frames ?? 0, 0, "ffmpeg decoded nothing");
    assert.match(
      logs(s),
      /SETUP refused: SRTP is required on RTSPS.*status=461/,
    );
    const r = await gstRtspPlayAndCount(s.rtspsUrl("live/req"), {
      transport: "tcp",
      frames: 25,
      timeoutMs: 20_000,
    });
    assert.equal(r.frames, 25, `${r.stderr}\n${logs(s)}`);
    assert.deepEqual([...r.sizes], [I420_320X240]);
  },
);
