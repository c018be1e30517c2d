/**
 * Recording with real publishers and readers: ffmpeg publishes (H.264 with
 * B-frames + AAC over RTMP), Sluice cuts 4 s segments, and ffprobe and
 * gst-discoverer-1.0 read every segment: every frame decodes, each full
 * segment lasts 4 s, and the segments add up to what was published.
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { discover, filesBelow, probeFile } from "../_util/record.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe") ||
  requireTool("gst-discoverer-1.0");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** Publishes `seconds` to a Sluice that records `live/rec` in `format`; returns the segment files. */
async function recordPublish(
  dir: string,
  format: "flv" | "fmp4",
  seconds: number,
) {
  const s = startTestSluice({
    record: true,
    recordFormat: format,
    recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
    recordSegmentDuration: "4s",
    recordPartDuration: "1s",
  });
  const pub = publishTestSignal(s.rtmpUrl("live/rec"), {
    seconds,
    bFrames: 2,
  });
  assert.equal((await pub.status).code, 0, pub.stderr());
  await s.close();
  const ext = format === "flv" ? "flv" : "mp4";
  return { files: await filesBelow(`${dir}/live/rec`, [ext]), logs: s.logs };
}

for (const format of ["flv", "fmp4"] as const) {
  Deno.test(
    `Recording (${format}): ffprobe and gst-discoverer-1.0 read every 4 s segment of an H.264 (B-frames) + AAC publish`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        const { files, logs } = await recordPublish(dir, format, 10);
        assert.equal(files.length, 3, `${files}\n${logs.join("\n")}`);
        let total = 0;
        let videoFrames = 0;
        for (const [i, file] of files.entries()) {
          const p = await probeFile(file);
          assert.equal(p.code, 0, p.stderr);
          assert.equal(p.stderr.trim(), "", `ffprobe errors on ${file}`);
          const v = p.streams.find((s) => s.type === "video");
          const a = p.streams.find((s) => s.type === "audio");
          assert.equal(v?.codec, "h264");
          assert.equal(a?.codec, "aac");
          videoFrames += v!.frames;
          total += p.duration;
          if (i < files.length - 1) {
            // A full segment: 4 s of video, cut on the keyframe at 4 s.
            assert.ok(
              Math.abs(p.duration - 4) < 0.1,
              `${file}: ${p.duration} s`,
            );
            assert.equal(v!.frames, 100, `${file}: ${v!.frames} frames`);
          }
          const d = await discover(file);
          assert.equal(d.code, 0, d.text);
          assert.ok(
            Math.abs(d.duration - p.duration) < 0.1,
            `gst-discoverer-1.0 says ${d.duration} s, ffprobe ${p.duration} s\n${d.text}`,
          );
          assert.match(d.text, /H\.264/);
          assert.match(d.text, /MPEG-4 AAC/);
        }
        assert.ok(total > 9.5 && total < 10.5, `${total} s in all`);
        assert.ok(videoFrames >= 245, `${videoFrames} video frames`);
        const complete = logs.filter((l) => l.includes("segment complete"));
        assert.equal(complete.length, 3, logs.join("\n"));
        assert.match(complete[0]!, /path=live\/rec/);
        assert.match(complete[0]!, /duration=4\b/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test(
  "Recording (fmp4): H.265 + Opus published over RTSP; ffprobe and gst-discoverer-1.0 read every segment",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const s = startTestSluice({
        record: true,
        recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
        recordSegmentDuration: "4s",
        recordPartDuration: "1s",
      });
      const pub = publishTestSignal(s.rtspUrl("live/hevc"), {
        seconds: 10,
        video: "hevc",
        audio: "opus",
        format: "rtsp",
        rtspTransport: "tcp",
      });
      assert.equal((await pub.status).code, 0, pub.stderr());
      await s.close();
      const files = await filesBelow(`${dir}/live/hevc`, ["mp4"]);
      assert.ok(files.length >= 2, `${files}\n${s.logs.join("\n")}`);
      let frames = 0;
      for (const [i, file] of files.entries()) {
        const p = await probeFile(file);
        assert.equal(p.code, 0, p.stderr);
        assert.equal(p.stderr.trim(), "", `ffprobe errors on ${file}`);
        const v = p.streams.find((x) => x.type === "video");
        const a = p.streams.find((x) => x.type === "audio");
        assert.equal(v?.codec, "hevc");
        assert.equal(a?.codec, "opus");
        assert.ok(a!.frames > 0);
        frames += v!.frames;
        if (i < files.length - 1) {
          assert.ok(Math.abs(p.duration - 4) < 0.1, `${file}: ${p.duration}`);
        }
        const d = await discover(file);
        assert.equal(d.code, 0, d.text);
        assert.match(d.text, /H\.265|HEVC/);
        assert.match(d.text, /Opus/);
        assert.ok(Math.abs(d.duration - p.duration) < 0.1, d.text);
      }
      // The first frames wait for the first keyframe after RTSP set-up.
      assert.ok(frames >= 200, `${frames} frames`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
