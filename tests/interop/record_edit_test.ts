/**
 * The edit list of fMP4 recordings, as ffprobe reads it: ffmpeg publishes
 * H.264 with B-frames and AAC; in every segment the first picture is
 * presented at 0 (its B-frame delay edited out, ISO/IEC 14496-12 §8.6.6)
 * and the audio keeps its place against it, so what precedes the first
 * picture falls before 0: at the start of the publish, the AAC encoder's
 * priming frame (one frame early); in a segment cut later, the audio
 * between the keyframe's decode and presentation times (at most the
 * B-frame delay and a frame early).
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { filesBelow } from "../_util/record.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
/** One AAC frame at 44.1 kHz, seconds. */
const AAC_FRAME = 1024 / 44100;
/** Two B-frames at 25 fps: the first picture's composition offset, seconds. */
const B_DELAY = 2 / 25;

/** ffprobe's start times per stream type, and its trace of the boxes it read. */
async function startTimes(
  file: string,
): Promise<{ video: number; audio: number; trace: string }> {
  const lines: string[] = [];
  const run = spawn("ffprobe", [
    ...["-v", "trace", "-show_entries", "stream=codec_type,start_time"],
    ...["-of", "compact", file],
  ], { timeoutMs: 20_000, onStdoutLine: (l) => void lines.push(l) });
  assert.equal((await run.status).code, 0, run.stderr());
  const of = (type: string) => {
    const line = lines.find((l) => l.includes(`codec_type=${type}`)) ?? "";
    return Number(/start_time=(-?[\d.]+)/.exec(line)?.[1]);
  };
  return { video: of("video"), audio: of("audio"), trace: run.stderr() };
}

Deno.test(
  "Recording (fmp4): ffprobe presents the first picture at 0 and the audio beside it, through an edit list in every segment",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-recedit-" });
    try {
      const s = startTestSluice({
        record: true,
        recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
        recordSegmentDuration: "4s",
      });
      const pub = publishTestSignal(s.rtmpUrl("live/edit"), {
        seconds: 7,
        bFrames: 2,
      });
      assert.equal((await pub.status).code, 0, pub.stderr());
      await s.close();
      const files = await filesBelow(`${dir}/live/edit`, ["mp4"]);
      assert.equal(files.length, 2, `${files}\n${s.logs.join("\n")}`);
      for (const [i, file] of files.entries()) {
        const t = await startTimes(file);
        // one edit per track, as ffprobe reads it
        const edits = t.trace.match(/type:'elst'/g) ?? [];
        assert.equal(edits.length, 2, t.trace.slice(0, 3000));
        assert.equal(t.video, 0, `${file}: video starts at ${t.video}`);
        const earliest = i === 0 ? -AAC_FRAME : -(B_DELAY + AAC_FRAME);
        assert.ok(
          t.audio <= 0.001 && t.audio > earliest - 0.001,
          `${file}: audio starts at ${t.audio}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
