import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { Fmp4SegmentMuxer } from "../../lib/record/fmp4_segment.ts";
import type { Frame } from "../../lib/media/frame.ts";
import { VodFolder } from "../../lib/vod/folder.ts";
import { h264Track } from "../mp4/_tracks.ts";

const VIDEO = h264Track("h264_1920x1080.h264", 0);
const GOP = 25;
const SECONDS = 4;

/**
 * A 4 s fMP4 recording of 25 fps video with a keyframe every second, two
 * frames of B-frame delay (80 ms), and a fragment per GOP, as the recorder
 * writes one: each keyframe starts a fragment whose first decode time is
 * 80 ms before the keyframe is presented.
 */
function recording(): Uint8Array {
  const muxer = new Fmp4SegmentMuxer();
  const frames: Frame[] = [];
  for (let i = 0; i < GOP * SECONDS; i++) {
    const key = i % GOP === 0;
    const nal = new Uint8Array(120).fill(i);
    nal[0] = key ? 0x65 : 0x41;
    frames.push({
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600 + 7200,
      keyframe: key,
      units: [nal],
    });
  }
  const chunks = [
    muxer.open([VIDEO], undefined, {
      startMs: Date.UTC(2026, 11, 5, 12),
      first: { track: VIDEO, frame: frames[0]! },
    }),
  ];
  for (const f of frames) {
    if (f.keyframe && f.dts > 0) chunks.push(muxer.part(false)!);
    muxer.add(VIDEO, f);
  }
  chunks.push(muxer.part(true, SECONDS)!);
  const file = concat(chunks);
  for (const p of muxer.close(SECONDS)) file.set(p.bytes, p.offset);
  return file;
}

Deno.test("VOD of a fragmented recording: a seek just before a keyframe starts at the keyframe before it, not at the file's start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-vodseek-" });
  try {
    await Deno.writeFile(`${dir}/rec.mp4`, recording());
    const file = await new VodFolder(dir).open("rec.mp4");
    try {
      const s = file.source;
      assert.deepEqual(await s.keyframes(), [0, 1, 2, 3]);
      // Times inside each keyframe's fragment but before it is presented,
      // and times well inside a GOP.
      for (const [asked, want] of [[0.96, 0], [1.93, 1], [2.99, 2], [3.5, 3]]) {
        const c = await s.cursor(asked!);
        const first = await c.next();
        assert.ok(first?.frame.keyframe, `${asked}: a keyframe first`);
        assert.equal(c.startSeconds, want, `cursor(${asked}) starts at`);
        assert.ok(
          Math.abs(first.seconds - want!) < 0.001,
          `cursor(${asked}): first frame at ${first.seconds}`,
        );
      }
      // Keyframes backward (RTSP Scale < 0) from just before the last one.
      const back = await s.cursor(2.97, "reverse");
      const times: number[] = [];
      for (let f; (f = await back.next()) !== undefined;) times.push(f.seconds);
      assert.deepEqual(times.map((t) => Math.round(t * 1000)), [2000, 1000, 0]);
    } finally {
      file.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
