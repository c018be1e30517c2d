import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { Mp4FileWriter } from "../../lib/mp4/mod.ts";
import { ProtocolError } from "../../lib/errors.ts";
import type { Frame } from "../../lib/media/mod.ts";
import { type Box, find, findAll, parseBoxes, viewOf } from "./_boxes.ts";
import { aacTrack, frame, h264Track } from "./_tracks.ts";

const VIDEO = h264Track("h264_1920x1080.h264", 0);
const AUDIO = aacTrack(1);

/** Writes a progressive file from `frames` in two passes. */
function write(frames: Frame[], end?: Map<number, number>): Uint8Array {
  const w = new Mp4FileWriter([VIDEO, AUDIO]);
  for (const f of frames) w.add(f);
  const { header, size } = w.finish(end);
  const file = concat([header, ...frames.map((f) => w.sample(f))]);
  assert.equal(file.length, size, "finish() gives the file size");
  return file;
}

/** Entries of a table box after version/flags and entry count. */
function entries(b: Box, width: number): number[][] {
  const v = viewOf(b);
  const at = b.type === "stsz" ? 12 : 8;
  const n = v.getUint32(at - 4);
  const out = [];
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let j = 0; j < width; j++) {
      row.push(
        b.type === "ctts" && j === 1
          ? v.getInt32(at + 4 * (i * width + j))
          : v.getUint32(at + 4 * (i * width + j)),
      );
    }
    out.push(row);
  }
  return out;
}

/** What a trak's sample table says: per sample size, duration, composition offset, sync, and bytes. */
function samples(file: Uint8Array, trak: Box) {
  const stbl = find(trak.children, "mdia/minf/stbl").children;
  const get = (t: string) => stbl.find((b) => b.type === t);
  const sizes = entries(get("stsz")!, 1).map((r) => r[0]!);
  const durations = entries(get("stts")!, 2).flatMap(([n, d]) =>
    Array(n).fill(d) as number[]
  );
  const ctts = get("ctts");
  const offsets = ctts
    ? entries(ctts, 2).flatMap(([n, o]) => Array(n).fill(o) as number[])
    : sizes.map(() => 0);
  const stss = get("stss");
  const sync = stss
    ? new Set(entries(stss, 1).map((r) => r[0]! - 1))
    : undefined;
  const chunkOffsets = entries(get("stco")!, 1).map((r) => r[0]!);
  const stsc = entries(get("stsc")!, 3);
  const data: Uint8Array[] = [];
  let sample = 0;
  for (const [c, offset] of chunkOffsets.entries()) {
    const rule = stsc.filter((r) => r[0]! - 1 <= c).at(-1)!;
    let at = offset;
    for (let k = 0; k < rule[1]!; k++, sample++) {
      data.push(file.subarray(at, at + sizes[sample]!));
      at += sizes[sample]!;
    }
  }
  assert.equal(sample, sizes.length, "chunks hold every sample");
  assert.equal(durations.length, sizes.length, "stts counts every sample");
  return { sizes, durations, offsets, sync, data };
}

// ISO/IEC 14496-12 §8.6.1.2 stts, §8.6.1.3 ctts, §8.6.2 stss, §8.7.3 stsz, §8.7.4 stsc, §8.7.5 stco, §8.6.6 elst
Deno.test("Mp4FileWriter puts moov before mdat with sample tables that find every sample", () => {
  const frames: Frame[] = [];
  const v = [[0, 7200, true], [3600, 18000, false], [7200, 10800, false], [
    10800,
    14400,
    false,
  ]] as const;
  for (const [i, [dts, pts, key]] of v.entries()) {
    frames.push(frame(0, dts, { pts, keyframe: key, nal: true, size: 40 + i }));
    frames.push(
      frame(1, Math.round(dts / 90000 * 48000) + 960, { size: 10 + i }),
    );
    frames.push(
      frame(1, Math.round(dts / 90000 * 48000) + 1920, { size: 20 + i }),
    );
  }
  const file = write(frames);
  const boxes = parseBoxes(file);
  assert.deepEqual(boxes.map((b) => b.type), ["ftyp", "moov", "mdat"]);
  const [video, audio] = findAll(boxes, "moov/trak").map((t) =>
    samples(file, t)
  );
  assert.deepEqual(video!.durations, [3600, 3600, 3600, 3600]);
  assert.deepEqual(video!.offsets, [7200, 14400, 3600, 3600]);
  assert.deepEqual([...video!.sync!], [0]);
  assert.equal(audio!.sync, undefined, "no stss when every sample is sync");
  assert.deepEqual(audio!.durations, Array(8).fill(960));
  const videoFrames = frames.filter((f) => f.trackId === 0);
  for (const [i, f] of videoFrames.entries()) {
    assert.equal(
      video!.data[i]!.length,
      f.units[0]!.length + f.units[1]!.length + 8,
    );
    assert.deepEqual(video!.data[i]!.subarray(4, 14), f.units[0]);
  }
  const audioFrames = frames.filter((f) => f.trackId === 1);
  for (const [i, f] of audioFrames.entries()) {
    assert.deepEqual(audio!.data[i], f.units[0]);
  }
  // video presents from 7200 (B-frame delay); audio starts 960 ticks at 48 kHz = 20 ms, before it
  const elst = (t: Box) => {
    const b = find(t.children, "edts/elst");
    const e = viewOf(b);
    const n = e.getUint32(4);
    return Array.from(
      { length: n },
      (_, i) => [e.getUint32(12 + 20 * i), e.getInt32(20 + 20 * i)],
    );
  };
  const traks = findAll(boxes, "moov/trak");
  assert.deepEqual(
    elst(traks[0]!),
    [[60, -1], [160, 7200]],
    "empty edit 80 − 20 ms, then media from pts 7200",
  );
  assert.deepEqual(elst(traks[1]!), [[160, 0]]);
  assert.equal(
    viewOf(find(boxes, "moov/mvhd")).getUint32(16),
    220,
    "movie duration in ms",
  );
});

// §8.7.5 co64, §4.2 largesize: past 4 GiB (frames here are views of one 100 MB buffer; only the index is built)
Deno.test("Mp4FileWriter switches to co64 and a 64-bit mdat size past 4 GiB", () => {
  const big = new Uint8Array(100_000_000);
  const w = new Mp4FileWriter([AUDIO, aacTrack(2)]);
  for (let i = 0; i < 25; i++) {
    for (const trackId of [1, 2]) { // alternating tracks: a chunk per frame
      w.add({
        trackId,
        dts: i * 1024,
        pts: i * 1024,
        keyframe: true,
        units: [big],
      });
    }
  }
  const { header, size } = w.finish();
  assert.equal(size, header.length + 50 * 100_000_000);
  const boxes = parseBoxes(header.subarray(0, header.length - 16));
  for (const [k, trak] of findAll(boxes, "moov/trak").entries()) {
    const stbl = find(trak.children, "mdia/minf/stbl");
    assert.ok(!stbl.children.some((b) => b.type === "stco"));
    const co64 = viewOf(find(stbl.children, "co64"));
    assert.equal(co64.getUint32(4), 25);
    const last = co64.getUint32(8 + 24 * 8) * 2 ** 32 +
      co64.getUint32(12 + 24 * 8);
    assert.equal(last, header.length + (48 + k) * 100_000_000);
  }
  const mdat = new DataView(header.buffer, header.length - 16);
  assert.equal(mdat.getUint32(0), 1, "largesize");
  assert.equal(
    mdat.getUint32(8) * 2 ** 32 + mdat.getUint32(12),
    50 * 100_000_000 + 16,
  );
});

Deno.test("Mp4FileWriter refuses a second pass that differs from the first", () => {
  const w = new Mp4FileWriter([VIDEO]);
  w.add(frame(0, 0, { nal: true, size: 50 }));
  assert.throws(
    () => w.sample(frame(0, 0, { nal: true })),
    RangeError,
    "before finish",
  );
  w.finish();
  assert.throws(
    () => w.sample(frame(0, 0, { nal: true, size: 51 })),
    (e) => e instanceof ProtocolError && e.code === "sequence",
  );
  assert.throws(() => w.add(frame(0, 1)), RangeError);
});

Deno.test("Mp4FileWriter property: any run of frames gives tables that add up to the frames", () => {
  const spec = fc.record({
    track: fc.integer({ min: 0, max: 1 }),
    step: fc.integer({ min: 0, max: 9000 }),
    cts: fc.integer({ min: -3600, max: 9000 }),
    key: fc.boolean(),
    size: fc.integer({ min: 10, max: 200 }),
  });
  fc.assert(
    fc.property(fc.array(spec, { minLength: 1, maxLength: 80 }), (specs) => {
      const dts = [0, 0];
      const frames = specs.map((s) => {
        dts[s.track]! += s.step;
        return frame(s.track, dts[s.track]!, {
          pts: dts[s.track]! + (s.track === 0 ? s.cts : 0),
          keyframe: s.track === 1 || s.key,
          nal: s.track === 0,
          size: s.size,
        });
      });
      const file = write(frames);
      const boxes = parseBoxes(file);
      assert.deepEqual(boxes.map((b) => b.type), ["ftyp", "moov", "mdat"]);
      for (const [i, trak] of findAll(boxes, "moov/trak").entries()) {
        const s = samples(file, trak);
        const mine = frames.filter((f) => f.trackId === i);
        assert.equal(s.sizes.length, mine.length);
        for (const [k, f] of mine.entries()) {
          assert.deepEqual(
            s.data[k]!.subarray(s.data[k]!.length - f.units.at(-1)!.length),
            f.units.at(-1),
          );
          assert.equal(s.sync === undefined || s.sync.has(k), f.keyframe);
          assert.equal(s.offsets[k], f.pts - f.dts);
        }
      }
    }),
    { numRuns: 150 },
  );
});
