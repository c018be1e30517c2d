/**
 * Files on demand of Sluice's own recordings: ffmpeg publishes H.264 with
 * B-frames and AAC over RTMP, Sluice records it (fMP4 and FLV) inside its
 * VOD folder, and ffmpeg plays the segment file back over RTSP, RTMP,
 * HTTP-FLV and HLS (every frame decoded, of the right codec and size), starts
 * where `-ss` asks (within one GOP), GStreamer's rtspsrc plays it and
 * seeks, and Sluice plays a copy cut short as a crash
 * leaves it up to its last whole part. A scripted RTSP client plays a
 * recording from a wall-clock time (`Range: clock=`) and ffmpeg decodes
 * what it received.
 */
import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import {
  type ClockRange,
  parsePlayRange,
  stringifyRange,
} from "../../lib/rtsp/headers/range.ts";
import { H264Depacketizer } from "../../lib/rtp/h264.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { filesBelow, probeFile } from "../_util/record.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { gstSeek, makeVodFolder } from "../_util/vod_media.ts";
import { firstVideoSeconds } from "../_util/vod_seek.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe") ||
  requireTool("python3") || requireTool("gst-launch-1.0");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const TCP = ["-rtsp_transport", "tcp"];

/** Records 8 s of `live/cam` below `root/rec`, served as files of `root`; the segment's name under `vod/`. */
export async function recordIntoVod(
  root: string,
  format: "fmp4" | "flv",
): Promise<{ s: TestSluice; name: string; file: string }> {
  const s = startTestSluice({
    record: true,
    recordFormat: format,
    recordPath: `${root}/rec/%path/%Y-%m-%d_%H-%M-%S-%f`,
    vodPath: root,
  });
  const pub = publishTestSignal(s.rtmpUrl("live/cam"), {
    seconds: 8,
    bFrames: 2,
  });
  assert.equal((await pub.status).code, 0, pub.stderr());
  // the segment closes when the publisher has left
  const recorder = s.sluice.recorder;
  for (let i = 0; i < 100; i++) {
    const segs = recorder.index.segments("live/cam");
    if (segs.length > 0 && segs.every((e) => !e.open)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await recorder.settled();
  const files = await filesBelow(`${root}/rec`, ["mp4", "flv"]);
  assert.equal(files.length, 1, `${files}\n${s.logs.join("\n")}`);
  const file = files[0]!;
  return { s, file, name: `vod/${file.slice(root.length + 1)}` };
}

for (const format of ["fmp4", "flv"] as const) {
  Deno.test(
    `VOD of a ${format} recording: RTSP, RTMP, HTTP-FLV and HLS play it whole, -ss and GStreamer seek within a GOP, a cut copy plays to its last part`,
    opts,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "sluice-vodrec-" });
      const { s, name, file } = await recordIntoVod(root, format);
      await using _ = s;
      const hls = `http://127.0.0.1:${s.sluice.httpPort}/${name}/index.m3u8`;
      const [rtsp, rtmp, flv, hlsPlay] = await Promise.all([
        playAndCount(s.rtspUrl(name), { timeoutMs: 30_000, inputArgs: TCP }),
        playAndCount(s.rtmpUrl(name), { timeoutMs: 30_000 }),
        playAndCount(s.flvUrl(name), { timeoutMs: 30_000 }),
        playAndCount(hls, { timeoutMs: 30_000 }),
      ]);
      // 8 s at 25 fps from the first keyframe, 44.1 kHz AAC
      for (const r of [rtsp, rtmp, flv, hlsPlay]) {
        assertDecodedH264Aac(r, { video: 195, audio: 330 });
        assert.ok(r.video!.frames <= 201, `${r.video!.frames} frames`);
      }
      // a keyframe every second: -ss 5 starts at the one at or before 5 s
      for (const url of [s.rtspUrl(name), s.rtmpUrl(name)]) {
        const at = await firstVideoSeconds(
          url,
          5,
          url.startsWith("rtsp") ? TCP : [],
        );
        assert.ok(at >= 3.95 && at <= 5.1, `${url}: first frame at ${at} s`);
      }
      // GStreamer's rtspsrc plays it and seeks (PAUSE, PLAY with Range)
      const gst = await gstSeek(s.rtspUrl(name), 25, 5, 25);
      assert.ok(gst.after >= 25, `${gst.after} frames after the seek`);
      assert.ok(
        gst.lastSeconds >= 4.9 && gst.lastSeconds <= 7,
        `frame at ${gst.lastSeconds} s after seeking to 5 s`,
      );
      // a copy cut in the middle of a part, as a crash leaves the file
      const ext = format === "flv" ? "flv" : "mp4";
      const bytes = await Deno.readFile(file);
      await Deno.writeFile(
        `${root}/cut.${ext}`,
        bytes.subarray(0, Math.floor(bytes.length * 0.6) + 7),
      );
      const probe = await probeFile(`${root}/cut.${ext}`);
      const readable = probe.streams.find((x) => x.type === "video")!.frames;
      assert.ok(readable > 90 && readable < 150, `ffprobe reads ${readable}`);
      const [cutRtsp, cutFlv] = await Promise.all([
        playAndCount(s.rtspUrl(`vod/cut.${ext}`), {
          timeoutMs: 30_000,
          inputArgs: TCP,
        }),
        playAndCount(s.flvUrl(`vod/cut.${ext}`), { timeoutMs: 30_000 }),
      ]);
      for (const r of [cutRtsp, cutFlv]) {
        assertDecodedH264Aac(r, { video: readable - 26 });
        assert.ok(r.video!.frames <= readable + 1, `${r.video!.frames} frames`);
      }
    },
  );
}

/** The Annex-B H.264 of the video RTP packets (channel 0) of a scripted session. */
function annexB(
  frames: { channel: number; payload: Uint8Array }[],
): { bytes: Uint8Array; firstTimestamp: number | undefined } {
  const depacketizer = new H264Depacketizer({ trackId: 0 });
  const units: Uint8Array[] = [];
  let firstTimestamp: number | undefined;
  for (const f of frames) {
    if (f.channel !== 0) continue;
    const packet = decodeRtpPacket(f.payload);
    firstTimestamp ??= packet.timestamp;
    depacketizer.push(packet, {
      enqueue: (frame) => {
        for (const u of frame.units) {
          units.push(new Uint8Array([0, 0, 0, 1]), u);
        }
      },
    });
  }
  return { bytes: concat(units), firstTimestamp };
}

/** What Sluice's VOD folder reads of `name` now: to tell a wrong file from a wrong seek. */
async function sourceView(s: TestSluice, name: string): Promise<unknown> {
  const file = await s.sluice.vod!.folder.open(name.slice("vod/".length));
  try {
    return {
      durationSeconds: file.source.durationSeconds,
      wallClockStartMs: file.source.wallClockStartMs,
      keyframes: await file.source.keyframes(),
      bytes: file.bytes,
    };
  } finally {
    file.release();
  }
}

for (const format of ["fmp4", "flv"] as const) {
  Deno.test(
    `VOD RTSP of a ${format} recording: PLAY with Range: clock= starts at that wall-clock time, echoes clock=, and ffmpeg decodes from there`,
    opts,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "sluice-vodclock-" });
      const { s, name, file } = await recordIntoVod(root, format);
      await using _ = s;
      const other = await makeVodFolder(2, ["mp4"]);
      await Deno.copyFile(`${other}/clip.mp4`, `${root}/clip.mp4`);
      // the index's entry of the file played (its start is the file's clock)
      const segments = s.sluice.recorder.index.segments("live/cam");
      const segment = segments.find((e) => e.file === file);
      assert.ok(segment !== undefined, JSON.stringify({ file, segments }));
      const port = s.sluice.rtspPort!;
      const url = `rtsp://127.0.0.1:${port}/${name}`;
      const c = await RawRtsp.connect(port);
      try {
        const d = await c.request("DESCRIBE", url, {
          Accept: "application/sdp",
        });
        assert.equal(d.status, 200);
        const setup = await c.request("SETUP", `${url}/trackID=0`, {
          Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
        });
        assert.equal(setup.status, 200);
        const id = setup.headers.getOne("Session")!.split(";")[0]!;
        // 3.25–4.25 s into the recording, with a fraction (RFC 2326 §3.7)
        const askedMs = Math.floor((segment.startMs + 4000) / 1000) * 1000 +
          250;
        const asked = stringifyRange({ unit: "clock", startMs: askedMs });
        assert.match(asked, /^clock=\d{8}T\d{6}\.250Z-$/);
        const p = await c.request("PLAY", url, { Session: id, Range: asked });
        assert.equal(p.status, 200, p.headers.getOne("Range"));
        const echo = parsePlayRange(p.headers.getOne("Range")!);
        assert.equal(echo.unit, "clock", "the answer says clock= too");
        const startMs = (echo as ClockRange).startMs!;
        // the keyframe at or before the time asked: within one GOP (1 s)
        if (startMs > askedMs || startMs < askedMs - 1100) {
          assert.fail(
            `started at ${startMs - segment.startMs} ms, asked ${
              askedMs - segment.startMs
            }: ${JSON.stringify(segments)}; the file as Sluice reads it: ${
              JSON.stringify(await sourceView(s, name))
            }`,
          );
        }
        const info = /rtptime=(\d+)/.exec(p.headers.getOne("RTP-Info") ?? "");
        assert.ok(info !== null, p.headers.getOne("RTP-Info"));
        await new Promise((r) => setTimeout(r, 2500));
        const { bytes, firstTimestamp } = annexB(c.frames());
        // the first picture is presented at the start Range and RTP-Info
        // name, or its B-frame delay (2 frames) after it (FLV: decode times)
        const after = (firstTimestamp! - Number(info[1])) >>> 0;
        assert.ok(after <= 7200, `first picture ${after} ticks after rtptime`);
        const file = `${root}/from_clock.h264`;
        await Deno.writeFile(file, bytes);
        const r = await playAndCount(file, { timeoutMs: 20_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          [r.video?.codec, r.video?.width, r.video?.height],
          ["h264", 320, 240],
          r.stderr,
        );
        // 2.5 s of pictures at 25 fps, paced in real time, from the keyframe on
        assert.ok(
          r.video!.frames >= 40 && r.video!.frames <= 100,
          `${r.video!.frames} frames`,
        );
        // before the recording: from its start; after its end: 457
        const early = await c.request("PLAY", url, {
          Session: id,
          Range: stringifyRange({
            unit: "clock",
            startMs: askedMs - 3_600_000,
          }),
        });
        assert.equal(early.status, 200);
        const from =
          (parsePlayRange(early.headers.getOne("Range")!) as ClockRange)
            .startMs!;
        assert.ok(
          Math.abs(from - segment.startMs) < 200,
          `from ${from - segment.startMs} ms`,
        );
        const late = await c.request("PLAY", url, {
          Session: id,
          Range: stringifyRange({
            unit: "clock",
            startMs: askedMs + 3_600_000,
          }),
        });
        assert.equal(late.status, 457);
      } finally {
        c.close();
      }
      // a file that is no recording has no wall clock: 457 Invalid Range
      const c2 = await RawRtsp.connect(port);
      try {
        const clip = `rtsp://127.0.0.1:${port}/vod/clip.mp4`;
        const setup = await c2.request("SETUP", `${clip}/trackID=0`, {
          Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
        });
        const id = setup.headers.getOne("Session")!.split(";")[0]!;
        const p = await c2.request("PLAY", clip, {
          Session: id,
          Range: "clock=20261204T101500Z-",
        });
        assert.equal(p.status, 457);
        const ok = await c2.request("PLAY", clip, {
          Session: id,
          Range: "npt=0-",
        });
        assert.equal(ok.status, 200, "npt still plays it");
      } finally {
        c2.close();
      }
    },
  );
}
