/**
 * Files on demand of Sluice's own recordings: ffmpeg publishes H.264 with
 * B-frames and AAC over RTMP, Sluice records it (fMP4 and FLV) inside its
 * VOD folder, and ffmpeg plays the segment file back over RTSP, RTMP and
 * HTTP-FLV (every frame decoded, of the right codec and size), starts
 * where `-ss` asks (within one GOP), and plays a copy cut short as a crash
 * leaves it up to its last whole part.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { filesBelow, probeFile } from "../_util/record.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { firstVideoPts } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
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
    `VOD of a ${format} recording: RTSP, RTMP and HTTP-FLV play it whole, -ss starts within a GOP, a cut copy plays to its last part`,
    opts,
    async () => {
      const root = await Deno.makeTempDir({ prefix: "sluice-vodrec-" });
      const { s, name, file } = await recordIntoVod(root, format);
      await using _ = s;
      const [rtsp, rtmp, flv] = await Promise.all([
        playAndCount(s.rtspUrl(name), { timeoutMs: 30_000, inputArgs: TCP }),
        playAndCount(s.rtmpUrl(name), { timeoutMs: 30_000 }),
        playAndCount(s.flvUrl(name), { timeoutMs: 30_000 }),
      ]);
      // 8 s at 25 fps from the first keyframe, 44.1 kHz AAC
      for (const r of [rtsp, rtmp, flv]) {
        assertDecodedH264Aac(r, { video: 195, audio: 330 });
        assert.ok(r.video!.frames <= 201, `${r.video!.frames} frames`);
      }
      // a keyframe every second: -ss 5 starts at the one at or before 5 s
      for (const url of [s.rtspUrl(name), s.rtmpUrl(name)]) {
        const at = await firstVideoPts(
          url,
          5,
          url.startsWith("rtsp") ? TCP : [],
        );
        assert.ok(at >= 3.95 && at <= 5.1, `${url}: first frame at ${at} s`);
      }
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
