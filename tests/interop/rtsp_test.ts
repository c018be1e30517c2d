/**
 * The RTSP server with real, unmodified ffmpeg and GStreamer on 127.0.0.1,
 * converting to and from RTMP, counting frames they really decode.
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../lib/client/rtmp.ts";
import { FlvTagDemuxer } from "../../lib/flv/tag_demuxer.ts";
import type { FlvEvent } from "../../lib/flv/tag.ts";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { gstRtspPlayAndCount } from "../_util/gst.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const gstOpts = { ...opts, ignore: ignore || requireTool("python3") };

for (const transport of ["tcp", "udp"] as const) {
  Deno.test(
    `RTSP: ffmpeg publishes RTMP, ffmpeg plays RTSP over ${transport}`,
    opts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtmpUrl("live/cam"), {
        seconds: 15,
        width: 320,
        height: 240,
      });
      await s.published("live/cam", { frames: 10 });
      const r = await playAndCount(s.rtspUrl("live/cam"), {
        seconds: 4,
        timeoutMs: 20_000,
        inputArgs: ["-rtsp_transport", transport],
      });
      assertDecodedH264Aac(r, { video: 90, audio: 150 });
    },
  );

  Deno.test(
    `RTSP: a player joining mid-stream over ${transport} gets audio and video on one timeline from the start, with B-frames`,
    opts,
    async () => {
      await using s = startTestSluice();
      // ffmpeg's x264 defaults: each keyframe is shown 80 ms after it is
      // decoded, so the GOP cache's first audio comes before the keyframe's pts.
      await using _pub = publishTestSignal(s.rtmpUrl("live/bf"), {
        seconds: 20,
        gop: 50,
        bFrames: 2,
      });
      await s.published("live/bf", { frames: 10 });
      // The first player sets the Sender Reports' 5 s beat; the second joins
      // mid-GOP and plays past its first report, which comes seconds after
      // its GOP burst.
      const first = playAndCount(s.rtspUrl("live/bf"), {
        seconds: 10,
        timeoutMs: 30_000,
        inputArgs: ["-rtsp_transport", transport],
      });
      await new Promise((r) => setTimeout(r, 3000));
      const second = playAndCount(s.rtspUrl("live/bf"), {
        seconds: 6,
        timeoutMs: 30_000,
        inputArgs: ["-rtsp_transport", transport],
      });
      const [early, late] = await Promise.all([first, second]);
      assertDecodedH264Aac(early, { video: 240, audio: 400 });
      assertDecodedH264Aac(late, { video: 140, audio: 240 });
    },
  );

  Deno.test(
    `RTSP: ffmpeg records over ${transport}, ffmpeg plays RTMP and RTSP`,
    opts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtspUrl("live/rec"), {
        seconds: 15,
        width: 320,
        height: 240,
        format: "rtsp",
        rtspTransport: transport,
      });
      await s.published("live/rec", { frames: 10 });
      const [rtmp, rtsp] = await Promise.all([
        playAndCount(s.rtmpUrl("live/rec"), { seconds: 3, timeoutMs: 20_000 }),
        playAndCount(s.rtspUrl("live/rec"), { seconds: 3, timeoutMs: 20_000 }),
      ]);
      for (const r of [rtmp, rtsp]) {
        assertDecodedH264Aac(r, { video: 65, audio: 100 });
      }
    },
  );

  Deno.test(
    `RTSP: GStreamer rtspsrc plays over ${transport}`,
    gstOpts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtmpUrl("live/gst"), {
        seconds: 15,
        width: 320,
        height: 240,
      });
      await s.published("live/gst", { frames: 10 });
      const r = await gstRtspPlayAndCount(s.rtspUrl("live/gst"), {
        transport,
        frames: 50,
        timeoutMs: 20_000,
      });
      assert.equal(r.frames, 50, r.stderr);
      assert.deepEqual([...r.sizes], [320 * 240 * 3 / 2]);
    },
  );
}

Deno.test(
  "RTSP: H.265 recorded over RTSP plays over RTSP and arrives as Enhanced RTMP",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtspUrl("live/hevc"), {
      seconds: 15,
      width: 320,
      height: 240,
      video: "hevc",
      audio: "none",
      format: "rtsp",
      rtspTransport: "tcp",
    });
    await s.published("live/hevc", { frames: 10 });
    const r = await playAndCount(s.rtspUrl("live/hevc"), {
      seconds: 3,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.video?.codec, r.video?.width, r.video?.height], [
      "hevc",
      320,
      240,
    ]);
    assert.ok(r.video!.frames >= 60, `decoded ${r.video!.frames} frames`);
    // This ffmpeg (5.1) cannot read Enhanced RTMP; Sluice's own client and FLV reader check what goes out.
    const c = await RtmpClient.connect(s.rtmpUrl("live/hevc"));
    await c.play();
    const flv = new FlvTagDemuxer();
    const events: FlvEvent[] = [];
    for await (const m of c.messages()) {
      if (m.typeId !== 9) continue;
      flv.push({ type: 9, timestamp: m.timestamp, data: m.payload }, {
        enqueue: (e) => events.push(e),
      });
      if (events.filter((e) => e.kind === "frame").length >= 30) break;
    }
    c.close();
    const track = events.find((e) => e.kind === "track");
    assert.ok(track?.kind === "track" && track.track.kind === "video");
    assert.equal(track.track.codec, "H265");
    assert.deepEqual([track.track.width, track.track.height], [320, 240]);
    const frames = events.filter((e) => e.kind === "frame");
    assert.ok(frames.length >= 30);
    assert.equal(
      frames[0]!.kind === "frame" && frames[0]!.frame.keyframe,
      true,
      "starts on a keyframe",
    );
  },
);

for (const audio of ["opus", "pcma", "pcmu"] as const) {
  Deno.test(
    `RTSP: ${audio} recorded over RTSP plays over RTSP`,
    opts,
    async () => {
      await using s = startTestSluice();
      await using _pub = publishTestSignal(s.rtspUrl(`live/${audio}`), {
        seconds: 15,
        width: 160,
        height: 128,
        audio,
        format: "rtsp",
        rtspTransport: "tcp",
      });
      await s.published(`live/${audio}`, { frames: 10 });
      const r = await playAndCount(s.rtspUrl(`live/${audio}`), {
        seconds: 3,
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const codec =
        { opus: "opus", pcma: "pcm_alaw", pcmu: "pcm_mulaw" }[audio];
      assert.equal(r.audio?.codec, codec);
      assert.equal(r.audio?.sampleRate, audio === "opus" ? 48000 : 8000);
      assert.ok(
        r.audio!.frames >= 50,
        `decoded ${r.audio!.frames} ${audio} frames`,
      );
      assert.ok(r.video!.frames >= 60);
    },
  );
}

Deno.test(
  "RTSP: ffmpeg with the right password plays, with a wrong one is refused",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: {
        "live/auth": {
          readUser: "viewer",
          readPass: "pa55",
          publishUser: "cam",
          publishPass: "w0rd",
        },
      },
    });
    const port = s.sluice.rtspPort!;
    await using _pub = publishTestSignal(
      `rtsp://cam:w0rd@127.0.0.1:${port}/live/auth`,
      {
        seconds: 15,
        width: 160,
        height: 128,
        format: "rtsp",
        rtspTransport: "tcp",
      },
    );
    await s.published("live/auth", { frames: 10 });
    const good = await playAndCount(
      `rtsp://viewer:pa55@127.0.0.1:${port}/live/auth`,
      { seconds: 2, timeoutMs: 20_000 },
    );
    assert.equal(good.code, 0, good.stderr);
    assert.ok(good.video!.frames >= 40);
    const bad = await playAndCount(
      `rtsp://viewer:wrong@127.0.0.1:${port}/live/auth`,
      { seconds: 2, timeoutMs: 20_000 },
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /401|Unauthorized/);
    assert.ok(s.logs.some((l) => l.includes("authentication failed")));
  },
);

Deno.test(
  "RTSP: by default a second ffmpeg publisher gets 403 at RECORD while the first sends",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _first = publishTestSignal(s.rtspUrl("live/mine"), {
      seconds: 20,
      width: 320,
      height: 240,
      format: "rtsp",
      rtspTransport: "tcp",
    });
    await s.published("live/mine", { frames: 25 });
    const second = publishTestSignal(s.rtspUrl("live/mine"), {
      seconds: 5,
      width: 160,
      height: 128,
      format: "rtsp",
      rtspTransport: "tcp",
    });
    const status = await second.status;
    assert.notEqual(status.code, 0);
    assert.match(second.stderr(), /403|Forbidden/);
    assert.equal(s.sluice.hub.stream("live/mine")!.stats.publishers, 1);
    const r = await playAndCount(s.rtspUrl("live/mine"), {
      seconds: 2,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.video?.width, 320, "the first publisher's picture");
    assert.ok(r.video!.frames >= 40, "the first publisher still plays");
  },
);

Deno.test(
  "RTSP: ffmpeg with the path's publish credentials takes over a sending ffmpeg",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/studio": { publishUser: "enc", publishPass: "pw" } },
    });
    const port = s.sluice.rtspPort!;
    const first = publishTestSignal(
      `${s.rtmpUrl("live/studio")}?user=enc&pass=pw`,
      { seconds: 30, width: 320, height: 240 },
    );
    try {
      await s.published("live/studio", { frames: 25 });
      await using _second = publishTestSignal(
        `rtsp://enc:pw@127.0.0.1:${port}/live/studio`,
        {
          seconds: 20,
          width: 160,
          height: 128,
          format: "rtsp",
          rtspTransport: "tcp",
        },
      );
      const cut = await first.status;
      assert.notEqual(cut.code, 0, "the first publisher was cut off");
      assert.equal(s.sluice.hub.stream("live/studio")!.stats.publishers, 2);
      const r = await playAndCount(s.rtspUrl("live/studio"), {
        seconds: 2,
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.video?.width, 160, "the newcomer's picture");
    } finally {
      await first.stop();
    }
  },
);

Deno.test(
  "RTSP: a player that vanishes without TEARDOWN is reaped after the timeout",
  opts,
  async () => {
    await using s = startTestSluice({ rtspSessionTimeout: "1s" });
    await using _pub = publishTestSignal(s.rtmpUrl("live/gone"), {
      seconds: 30,
      width: 160,
      height: 128,
    });
    await s.published("live/gone", { frames: 10 });
    const player = spawn("ffmpeg", [
      "-rtsp_transport",
      "udp",
      "-i",
      s.rtspUrl("live/gone"),
      "-f",
      "null",
      "-",
    ], {
      timeoutMs: 20_000,
    });
    const end = Date.now() + 10_000;
    while (s.sluice.rtsp!.sessions === 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(s.sluice.rtsp!.sessions, 1);
    player.process.kill("SIGKILL"); // no TEARDOWN, no more RTCP
    await player.status;
    const reaped = Date.now() + 15_000;
    while (s.sluice.rtsp!.sessions > 0 && Date.now() < reaped) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.sluice.rtsp!.sessions, 0);
    assert.equal(s.sluice.hub.stream("live/gone")!.readers, 0);
  },
);

/** Packet times of a player: [kind, pts seconds] in read order. */
async function packetTimes(
  url: string,
  seconds: number,
): Promise<[string, number][]> {
  const out: [string, number][] = [];
  const run = spawn("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "packet=codec_type,pts_time",
    "-of",
    "csv=p=0",
    "-read_intervals",
    `%+${seconds}`,
    url,
  ], {
    timeoutMs: 20_000,
    onStdoutLine: (line) => {
      const [kind, t] = line.split(",");
      if (kind && t && t !== "N/A") out.push([kind, Number(t)]);
    },
  });
  await run.status;
  return out;
}

Deno.test(
  "RTSP: audio and video recorded over RTSP stay within 100 ms of each other over RTMP",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtspUrl("live/sync"), {
      seconds: 20,
      width: 160,
      height: 128,
      format: "rtsp",
      rtspTransport: "udp",
    });
    await s.published("live/sync", { frames: 10 });
    await new Promise((r) => setTimeout(r, 1500));
    const packets = await packetTimes(s.rtmpUrl("live/sync"), 4);
    const video = packets.filter(([k]) => k === "video").map(([, t]) => t);
    const audio = packets.filter(([k]) => k === "audio").map(([, t]) => t);
    assert.ok(
      video.length > 50 && audio.length > 50,
      `${video.length} video, ${audio.length} audio packets`,
    );
    // Both signals start together and run at the same rate: after conversion their
    // timelines must still agree, at the start and at the end of what was read.
    assert.ok(
      Math.abs(video[0]! - audio[0]!) < 0.1,
      `start: video ${video[0]} audio ${audio[0]}`,
    );
    assert.ok(
      Math.abs(video.at(-1)! - audio.at(-1)!) < 0.1,
      `end: video ${video.at(-1)} audio ${audio.at(-1)}`,
    );
  },
);
