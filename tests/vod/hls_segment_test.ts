import assert from "node:assert/strict";
import fc from "fast-check";
import { TS_PID } from "../../lib/mpegts/muxer.ts";
import { cutVodSpans } from "../../lib/vod/hls_index.ts";
import { vodInitSegment, writeVodSegment } from "../../lib/vod/hls_segment.ts";
import {
  FAKE_TRACKS,
  fakeFrames,
  fakeSource,
  pesStarts,
} from "./_fake_source.ts";

interface Run {
  trackId: number;
  baseDecodeTime: number;
  samples: number;
  durations: number;
}

/** tfhd track_ID, tfdt and trun of every traf in `bytes` (ISO/IEC 14496-12 §8.8). */
function runs(bytes: Uint8Array): Run[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Run[] = [];
  const walk = (from: number, to: number, run?: Run) => {
    for (let at = from; at + 8 <= to;) {
      const size = v.getUint32(at);
      const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
      if (size < 8 || at + size > to) throw new Error(`bad box ${type}`);
      if (type === "moof") walk(at + 8, at + size);
      if (type === "traf") {
        const r = { trackId: 0, baseDecodeTime: 0, samples: 0, durations: 0 };
        walk(at + 8, at + size, r);
        out.push(r);
      }
      if (run !== undefined && type === "tfhd") {
        run.trackId = v.getUint32(at + 12);
      }
      if (run !== undefined && type === "tfdt") {
        run.baseDecodeTime = bytes[at + 8] === 1
          ? Number(v.getBigUint64(at + 12))
          : v.getUint32(at + 12);
      }
      if (run !== undefined && type === "trun") {
        const flags = v.getUint32(at + 8) & 0xffffff;
        run.samples = v.getUint32(at + 12);
        let p = at + 16 + (flags & 1 ? 4 : 0) + (flags & 4 ? 4 : 0);
        for (let i = 0; i < run.samples; i++) {
          if (flags & 0x100) run.durations += v.getUint32(p);
          p += [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
        }
      }
      at += size;
    }
  };
  walk(0, bytes.length);
  return out;
}

Deno.test("writeVodSegment fMP4: every frame once, segments joined without holes", async () => {
  const frames = fakeFrames(6, 25);
  const source = fakeSource(frames, 6);
  const spans = cutVodSpans(await source.keyframes(), 6, 1);
  assert.equal(spans.length, 6);
  const tracks = FAKE_TRACKS;
  let video = 0;
  let audio = 0;
  const next = new Map<number, number>();
  for (const span of spans) {
    const seg = await writeVodSegment(source, tracks, "fmp4", span);
    for (const r of runs(seg)) {
      // track_ID 1 is video, 2 audio; each starts where the last one ended
      assert.equal(
        r.baseDecodeTime,
        next.get(r.trackId) ?? 0,
        `track ${r.trackId}`,
      );
      next.set(r.trackId, r.baseDecodeTime + r.durations);
      if (r.trackId === 1) video += r.samples;
      else audio += r.samples;
    }
  }
  assert.equal(video, 150);
  assert.equal(audio, frames.filter((f) => f.frame.trackId === 1).length);
  assert.equal(next.get(1), 150 * 3600);
  const init = vodInitSegment(tracks);
  assert.equal(new TextDecoder().decode(init.subarray(4, 8)), "ftyp");
});

Deno.test("writeVodSegment: any GOP layout and target gives every frame exactly once (MPEG-TS)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 80 }),
      fc.double({ min: 0.2, max: 4, noNaN: true }),
      fc.double({ min: 0.5, max: 5, noNaN: true }),
      async (gop, target, seconds) => {
        const frames = fakeFrames(seconds, gop);
        const duration = Math.max(...frames.map((f) => f.seconds)) + 0.04;
        const source = fakeSource(frames, duration);
        const spans = cutVodSpans(await source.keyframes(), duration, target);
        const count = new Map<number, number>();
        for (const span of spans) {
          const seg = await writeVodSegment(
            source,
            FAKE_TRACKS,
            "mpegts",
            span,
          );
          for (const [pid, n] of pesStarts(seg)) {
            count.set(pid, (count.get(pid) ?? 0) + n);
          }
        }
        const want = (id: number) =>
          frames.filter((f) => f.frame.trackId === id).length;
        assert.equal(count.get(TS_PID.VIDEO), want(0));
        assert.equal(count.get(TS_PID.AUDIO), want(1));
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("writeVodSegment: a file without video is cut on audio frames", async () => {
  const frames = fakeFrames(3, 25).filter((f) => f.frame.trackId === 1);
  const tracks = [FAKE_TRACKS[1]!];
  const source = fakeSource(frames, 3, { tracks });
  const spans = cutVodSpans(await source.keyframes(), 3, 1);
  assert.equal(spans.length, 3);
  let samples = 0;
  for (const span of spans) {
    for (const r of runs(await writeVodSegment(source, tracks, "fmp4", span))) {
      samples += r.samples;
    }
  }
  assert.equal(samples, frames.length);
});
