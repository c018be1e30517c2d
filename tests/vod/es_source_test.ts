import assert from "node:assert/strict";
import { VodFolder } from "../../lib/vod/folder.ts";
import type { VodSource } from "../../lib/vod/source.ts";
import { spawn } from "../_util/process.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");

/** 6 s of x264 (25 fps, a keyframe a second, 2 B-frames) as Annex B. */
async function makeClip(dir: string): Promise<string> {
  const path = `${dir}/clip.h264`;
  const run = spawn("ffmpeg", [
    ...["-loglevel", "error", "-y", "-f", "lavfi"],
    ...["-i", "testsrc2=size=320x240:rate=25", "-t", "6"],
    ...["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-bf", "2"],
    ...["-pix_fmt", "yuv420p", "-f", "h264", path],
  ], { timeoutMs: 60_000 });
  assert.equal((await run.status).code, 0, run.stderr());
  return path;
}

async function keySeconds(
  s: VodSource,
  at: number,
  dir: "keyframes" | "reverse",
) {
  const c = await s.cursor(at, dir);
  const out: number[] = [];
  for (let f; (f = await c.next()) !== undefined;) {
    assert.ok(f.frame.keyframe);
    assert.equal(f.frame.dts, f.frame.pts);
    out.push(f.seconds);
  }
  return out;
}

Deno.test({
  name:
    "H.264 elementary stream: frames in ffprobe's presentation order, keyframe cursors both ways",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-es-" });
    const path = await makeClip(dir);
    // ffprobe lists pictures as shown, each with its place in decode order
    const probe = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-show_entries",
        "frame=coded_picture_number",
        "-of",
        "csv=p=0",
        path,
      ],
      stdout: "piped",
    }).output();
    // (the first picture's SEI side data adds an empty line)
    const coded = new TextDecoder().decode(probe.stdout).split("\n")
      .filter((l) => /^\d/.test(l)).map((l) => Number(l.split(",")[0]));
    assert.equal(coded.length, 150);
    const file = await new VodFolder(dir).open("clip.h264");
    try {
      const s = file.source;
      assert.equal(s.durationSeconds, 6);
      assert.deepEqual(
        [
          s.tracks[0]?.codec,
          s.tracks[0]?.kind === "video" && s.tracks[0].width,
        ],
        ["H264", 320],
      );
      const c = await s.cursor(0);
      const pts: number[] = [];
      let lastDts = -Infinity;
      for (let f; (f = await c.next()) !== undefined;) {
        assert.ok(f.frame.dts <= f.frame.pts && f.frame.dts > lastDts);
        lastDts = f.frame.dts;
        pts.push(f.frame.pts / 3600);
      }
      // the picture shown k-th is the one decoded coded[k]-th
      assert.deepEqual(coded.map((c) => pts[c]), [...Array(150).keys()]);
      assert.equal((await s.cursor(3.3)).startSeconds, 3);
      assert.equal((await s.cursor(99)).startSeconds, 5);
      assert.equal((await s.cursor(-4)).startSeconds, 0);
      assert.deepEqual(await keySeconds(s, 3.3, "keyframes"), [3, 4, 5]);
      assert.deepEqual(await keySeconds(s, 3.3, "reverse"), [3, 2, 1, 0]);
      assert.deepEqual(await s.keyframes(), [0, 1, 2, 3, 4, 5]);
    } finally {
      file.release();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "H.264 elementary stream: a 45 MB file is indexed in pieces, not read whole",
  ignore,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-es-" });
    const clip = await Deno.readFile(await makeClip(dir));
    const copies = Math.ceil(45e6 / clip.length);
    const big = await Deno.open(`${dir}/big.264`, {
      write: true,
      create: true,
    });
    for (let i = 0; i < copies; i++) await big.write(clip);
    big.close();
    // What the index keeps, measured after full collections in a process of
    // its own: a heap measured live here moves with when V8 collects.
    const kept = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "-A", "--v8-flags=--expose-gc"],
        new URL("./_index_memory.ts", import.meta.url).pathname,
        ...[dir, "big.264"],
      ],
      stdin: "null",
    }).output();
    assert.equal(kept.code, 0, new TextDecoder().decode(kept.stderr));
    const grew = JSON.parse(new TextDecoder().decode(kept.stdout));
    const file = await new VodFolder(dir).open("big.264");
    try {
      assert.equal(grew.durationSeconds, 6 * copies);
      assert.equal(file.source.durationSeconds, 6 * copies);
      assert.ok(
        grew.heapBytes < 8 * 2 ** 20,
        `the index keeps ${(grew.heapBytes / 2 ** 20).toFixed(1)} MiB of heap`,
      );
      assert.ok(
        grew.externalBytes < 4 * 2 ** 20,
        `the index keeps ${
          (grew.externalBytes / 2 ** 20).toFixed(1)
        } MiB of buffers`,
      );
      const c = await file.source.cursor(6 * copies - 2);
      let n = 0;
      while ((await c.next()) !== undefined) n++;
      assert.equal(n, 50);
    } finally {
      file.release();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "H.265 and H.264 elementary streams run at their SPS VUI frame rate",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-es-" });
    try {
      for (
        const [name, codec] of [
          ["a.265", ["-c:v", "libx265", "-x265-params", "log-level=error"]],
          ["b.264", ["-c:v", "libx264", "-f", "h264"]],
        ] as const
      ) {
        const run = spawn("ffmpeg", [
          ...["-loglevel", "error", "-y", "-f", "lavfi"],
          ...["-i", "testsrc2=size=160x120:rate=30", "-frames:v", "45"],
          ...codec,
          ...(name.endsWith(".265") ? ["-f", "hevc"] : []),
          `${dir}/${name}`,
        ], { timeoutMs: 60_000 });
        assert.equal((await run.status).code, 0, run.stderr());
        const file = await new VodFolder(dir).open(name);
        // 45 pictures at 30 fps, not at the 25 fps of a stream that says nothing
        assert.equal(file.source.durationSeconds, 1.5, name);
        file.release();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
