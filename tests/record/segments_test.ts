import assert from "node:assert/strict";
import fc from "fast-check";
import { FlvSegmentMuxer } from "../../lib/record/flv_segment.ts";
import { Fmp4SegmentMuxer } from "../../lib/record/fmp4_segment.ts";
import type { SegmentMuxer } from "../../lib/record/segment_muxer.ts";
import { readFmp4 } from "../../lib/record/fmp4_read.ts";
import { decodePrft, wallClockStart } from "../../lib/mp4/prft.ts";
import {
  openRecording,
  sampleEntryTracks,
} from "../../lib/record/recording_reader.ts";
import { FlvDemuxer } from "../../lib/flv/file.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { decodeAmf0 } from "../../lib/amf/amf0.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { aacTrack, h264Track } from "../mp4/_tracks.ts";

const VIDEO = h264Track("h264_1920x1080.h264", 0);
const AUDIO = aacTrack(1);
const TRACKS: Track[] = [VIDEO, AUDIO];

/** 3 s: 25 fps video (keyframe each second, units of 2 NALs) and AAC. */
function frames(): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < 75; i++) {
    const data = new Uint8Array(200 + i).map((_, j) => (i + j) & 0xff);
    data[0] = i % 25 === 0 ? 0x65 : 0x41;
    data[10] = 0x41;
    out.push({
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600 + 7200,
      keyframe: i % 25 === 0,
      units: [data.subarray(0, 10), data.subarray(10)],
    });
    for (
      let a = Math.ceil((i * 48000) / 25 / 1024);
      (a * 1024) / 48000 < (i + 1) / 25;
      a++
    ) {
      out.push({
        trackId: 1,
        dts: a * 1024,
        pts: a * 1024,
        keyframe: true,
        units: [new Uint8Array(20).fill(a & 0xff)],
      });
    }
  }
  return out;
}

/** A whole segment file: the opening bytes, a part per second, patches applied. */
function writeSegment(
  muxer: SegmentMuxer,
  input: Frame[],
  startMs?: number,
): Uint8Array {
  const first = input[0]!;
  const chunks: Uint8Array[] = [
    muxer.open(
      TRACKS,
      { encoder: "test" },
      startMs === undefined ? undefined : {
        startMs,
        first: {
          track: TRACKS.find((t) => t.id === first.trackId)!,
          frame: first,
        },
      },
    ),
  ];
  let partStart = 0;
  for (const f of input) {
    const t = TRACKS.find((x) => x.id === f.trackId)!;
    const sec = f.dts / t.clockRate;
    if (sec - partStart >= 1) {
      const p = muxer.part(false);
      if (p) chunks.push(p);
      partStart = sec;
    }
    muxer.add(t, f);
  }
  const last = muxer.part(true, 3);
  if (last) chunks.push(last);
  const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    file.set(c, at);
    at += c.length;
  }
  const before = file.length;
  for (const p of muxer.close(3)) file.set(p.bytes, p.offset);
  assert.equal(file.length, before, "patches write over, never grow");
  return file;
}

async function withFile<T>(
  bytes: Uint8Array,
  ext: string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: `.${ext}` });
  try {
    await Deno.writeFile(path, bytes);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("FlvSegmentMuxer: onMetaData keeps its size and indexes every keyframe tag by time and position", () => {
  const file = writeSegment(
    new FlvSegmentMuxer({ maxKeyframes: 10 }),
    frames(),
  );
  const tags: (FlvTag & { position: number })[] = [];
  const demuxer = new FlvDemuxer();
  let position = 13;
  demuxer.push(file, {
    enqueue: (t) => {
      tags.push({ ...t, position });
      position += 11 + t.data.length + 4;
    },
  });
  demuxer.end();
  const [name, meta] = decodeAmf0(tags[0]!.data) as [
    string,
    Record<string, unknown>,
  ];
  assert.equal(name, "onMetaData");
  assert.equal(meta.duration, 3);
  assert.equal(meta.filesize, file.length);
  assert.equal(meta.encoder, "test");
  const kf = meta.keyframes as { times: number[]; filepositions: number[] };
  assert.deepEqual(kf.times, [0, 1, 2]);
  for (const pos of kf.filepositions) {
    const tag = tags.find((t) => t.position === pos);
    assert.ok(tag !== undefined, `a tag at ${pos}`);
    assert.equal(tag.type, 9);
    assert.equal(tag.data[0]! >> 4, 1, "a keyframe");
  }
});

Deno.test("Fmp4SegmentMuxer: what is written reads back as the same tracks and frames", async () => {
  const input = frames();
  const file = writeSegment(new Fmp4SegmentMuxer(), input);
  await withFile(file, "mp4", async (path) => {
    const rec = await openRecording(path, "fmp4");
    assert.deepEqual(rec.tracks.map((t) => [t.kind, t.codec, t.clockRate]), [
      ["video", "H264", 90000],
      ["audio", "AAC", 48000],
    ]);
    assert.deepEqual((rec.tracks[1] as typeof AUDIO).config, AUDIO.config);
    const out: Frame[] = [];
    for await (const f of rec.frames()) out.push(f);
    const video = out.filter((f) => f.trackId === 1);
    const inVideo = input.filter((f) => f.trackId === 0);
    assert.equal(video.length, inVideo.length);
    video.forEach((f, i) => {
      const want = inVideo[i]!;
      assert.deepEqual([f.dts, f.pts, f.keyframe], [
        want.dts,
        want.pts,
        want.keyframe,
      ]);
      assert.deepEqual(f.units, want.units);
    });
    assert.equal(
      out.filter((f) => f.trackId === 2).length,
      input.filter((f) => f.trackId === 1).length,
    );
  });
});

Deno.test("readFmp4 and sampleEntryTracks: cut or mutated recordings read what is whole, never throw", async () => {
  const file = writeSegment(new Fmp4SegmentMuxer(), frames());
  const whole = await withFile(file, "mp4", async (p) => {
    using f = await Deno.open(p);
    return (await readFmp4(f)).samples.length;
  });
  await fc.assert(
    fc.asyncProperty(
      fc.nat(file.length),
      fc.array(fc.tuple(fc.nat(file.length - 1), fc.nat(255)), {
        maxLength: 8,
      }),
      async (cut, mutations) => {
        const bytes = file.slice(0, cut);
        for (const [at, v] of mutations) if (at < bytes.length) bytes[at] = v;
        const r = await withFile(bytes, "mp4", async (p) => {
          using f = await Deno.open(p);
          return await readFmp4(f);
        });
        sampleEntryTracks(r.init);
        assert.ok(r.samples.length <= whole * 2 + 1_000_000);
        if (mutations.length === 0) {
          assert.ok(r.samples.every((s) => s.offset + s.size <= cut));
        }
      },
    ),
    { numRuns: 60 },
  );
});

// ISO/IEC 14496-12 §8.16.5 and §8.6.6: the file says when it was recorded
// and starts its presentation at the first picture (2 frames of B-frame delay)
Deno.test("Fmp4SegmentMuxer writes a prft before every fragment and an edit list at the first picture", async () => {
  const startMs = Date.UTC(2026, 11, 4, 10, 15, 0);
  const file = writeSegment(new Fmp4SegmentMuxer(), frames(), startMs);
  const top: { type: string; at: number; size: number }[] = [];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let at = 0; at < file.length;) {
    const size = view.getUint32(at);
    top.push({
      type: new TextDecoder().decode(file.subarray(at + 4, at + 8)),
      at,
      size,
    });
    at += size;
  }
  const types = top.map((b) => b.type);
  assert.deepEqual(types.slice(0, 2), ["ftyp", "moov"]);
  const moofs = types.filter((t) => t === "moof").length;
  assert.equal(types.filter((t) => t === "prft").length, moofs);
  top.forEach((b, i) => {
    if (b.type === "moof") assert.equal(types[i - 1], "prft");
  });
  // presentation 0 is the first picture, 80 ms into the segment's media
  assert.equal(wallClockStart(file), startMs + 80);
  // every prft agrees: the wall clock of each fragment's first decode time
  for (const b of top.filter((x) => x.type === "prft")) {
    const p = decodePrft(file.subarray(b.at + 8, b.at + b.size))!;
    assert.equal(p.referenceTrackId, 1);
    assert.ok(Math.abs(p.utcMs - (startMs + p.mediaTime / 90)) < 0.01);
  }
  // Sluice's own reader still reads every sample past the prft boxes
  const samples = await withFile(file, "mp4", async (p) => {
    using f = await Deno.open(p);
    return (await readFmp4(f)).samples.filter((x) => x.trackId === 1).length;
  });
  assert.equal(samples, 75);
});

Deno.test("Fmp4SegmentMuxer without a start writes neither prft nor edit list", () => {
  const file = writeSegment(new Fmp4SegmentMuxer(), frames());
  const text = new TextDecoder("latin1").decode(file);
  assert.ok(!text.includes("prft"));
  assert.ok(text.includes("elst"), "an edit list of media time 0");
  assert.equal(wallClockStart(file), undefined);
});
