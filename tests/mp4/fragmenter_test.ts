import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import {
  encodeSidx,
  encodeStyp,
  Mp4Fragmenter,
  Mp4FragmenterStream,
  SAMPLE_FLAGS,
} from "../../lib/mp4/mod.ts";
import type { Frame } from "../../lib/media/mod.ts";
import {
  find,
  findAll,
  parseBoxes,
  readTfdt,
  readTrun,
  viewOf,
} from "./_boxes.ts";
import {
  aacTrack,
  av1Track,
  frame,
  h264Track,
  rawAudioTrack,
} from "./_tracks.ts";

const VIDEO = h264Track("h264_1920x1080.h264", 0);
const AUDIO = aacTrack(1);

/** The samples of a moof+mdat, with their bytes cut out of the mdat by trun's data offset. */
function samplesOf(bytes: Uint8Array) {
  const boxes = parseBoxes(bytes);
  assert.deepEqual(boxes.map((b) => b.type), ["moof", "mdat"]);
  const moof = boxes[0]!;
  const mdat = boxes[1]!;
  const sequence = viewOf(find(boxes, "moof/mfhd")).getUint32(4);
  const tracks = findAll(boxes, "moof/traf").map((traf) => {
    const tfhd = viewOf(find(traf.children, "tfhd"));
    assert.equal(tfhd.getUint32(0), 0x020000, "default-base-is-moof only");
    const trun = readTrun(find(traf.children, "trun"));
    let at = moof.offset + trun.dataOffset;
    const data = trun.samples.map((s) => {
      assert.ok(
        at >= mdat.offset + 8 && at + s.size <= mdat.offset + mdat.size,
        "sample inside the mdat",
      );
      const d = bytes.subarray(at, at + s.size);
      at += s.size;
      return d;
    });
    return {
      id: tfhd.getUint32(4),
      base: readTfdt(find(traf.children, "tfdt")),
      samples: trun.samples,
      data,
    };
  });
  return { sequence, tracks, mdatSize: mdat.size };
}

// ISO/IEC 14496-12 §8.8.4–§8.8.8, §8.8.3.1
Deno.test("Mp4Fragmenter writes moof/mfhd/traf/tfhd/tfdt/trun v1 with durations, sizes, flags and composition offsets", () => {
  const f = new Mp4Fragmenter([VIDEO, AUDIO]);
  // I P B B (decode order) at 25 fps: pts I=2, P=5, B=3, B=4 frame periods
  const v = [[0, 7200, true], [3600, 18000, false], [7200, 10800, false], [
    10800,
    14400,
    false,
  ], [14400, 21600, true]] as const;
  for (const [i, [dts, pts, key]] of v.entries()) {
    f.push(frame(0, dts, { pts, keyframe: key, nal: true, size: 50 + i }));
    f.push(frame(1, Math.round((dts / 90000) * 48000), { size: 20 }));
  }
  const out = f.flush()!;
  assert.equal(out.sequence, 1);
  assert.equal(out.independent, true);
  const { sequence, tracks } = samplesOf(out.bytes);
  assert.equal(sequence, 1);
  const [video, audio] = tracks;
  assert.equal(video!.id, 1);
  assert.equal(video!.base, 0);
  assert.deepEqual(video!.samples.map((s) => s.duration), [
    3600,
    3600,
    3600,
    3600,
  ], "the keyframe at 14400 waits");
  assert.deepEqual(video!.samples.map((s) => s.compositionOffset), [
    7200,
    14400,
    3600,
    3600,
  ]);
  assert.deepEqual(video!.samples.map((s) => s.flags), [
    SAMPLE_FLAGS.SYNC,
    SAMPLE_FLAGS.NON_SYNC,
    SAMPLE_FLAGS.NON_SYNC,
    SAMPLE_FLAGS.NON_SYNC,
  ]);
  // 4-byte lengths before each NAL unit (ISO/IEC 14496-15 §4.3)
  const first = video!.data[0]!;
  assert.equal(first.length, 50 + 8);
  assert.deepEqual([...first.subarray(0, 4)], [0, 0, 0, 10]);
  assert.deepEqual([...first.subarray(14, 18)], [0, 0, 0, 40]);
  assert.deepEqual(audio!.samples.map((s) => s.duration), [
    1920,
    1920,
    1920,
    1920,
  ]);
  assert.equal(audio!.id, 2);
  const second = f.end()!;
  assert.equal(second.sequence, 2);
  const rest = samplesOf(second.bytes).tracks;
  assert.equal(
    rest[0]!.base,
    14400,
    "tfdt continues where the last fragment ended",
  );
  assert.equal(
    rest[0]!.samples[0]!.duration,
    3600,
    "the last sample lasts as long as the one before",
  );
  assert.equal(rest[1]!.base, 7680);
  assert.equal(f.end(), undefined, "nothing left");
});

Deno.test("Mp4Fragmenter ends the held frames at the given times and leaves out tracks without samples", () => {
  const f = new Mp4Fragmenter([VIDEO, AUDIO]);
  f.push(frame(0, 1000, { nal: true }));
  assert.equal(f.flush(), undefined, "one frame has no duration yet");
  const out = f.end(new Map([[0, 4000]]))!;
  const { tracks } = samplesOf(out.bytes);
  assert.equal(tracks.length, 1, "no audio traf");
  assert.equal(tracks[0]!.base, 1000);
  assert.equal(tracks[0]!.samples[0]!.duration, 3000);
  assert.deepEqual(out.tracks, [{
    trackId: 0,
    baseDecodeTime: 1000,
    duration: 3000,
    samples: 1,
  }]);
});

Deno.test("Mp4Fragmenter: a timestamp jump or a step back never makes an hours-long sample", () => {
  const f = new Mp4Fragmenter([VIDEO], { maxSampleDurationMs: 5000 });
  const dts = [
    0,
    3600,
    7200,
    7200 + 90000 * 3600 * 5,
    7200 + 90000 * 3600 * 5 + 3600,
    100,
  ];
  for (const d of dts) f.push(frame(0, d, { nal: true }));
  const { tracks } = samplesOf(f.end()!.bytes);
  const durations = tracks[0]!.samples.map((s) => s.duration);
  assert.deepEqual(durations, [3600, 3600, 3600, 3600, 3600, 3600]);
  assert.equal(f.repairs, 2);
});

Deno.test("Mp4Fragmenter: a fragment not starting on a video keyframe is not independent; unknown tracks are dropped", () => {
  const f = new Mp4Fragmenter([VIDEO]);
  f.push(frame(0, 0, { nal: true }));
  f.push(frame(0, 3600, { nal: true, keyframe: false }));
  f.push(frame(0, 7200, { nal: true, keyframe: false }));
  f.push(frame(9, 0));
  assert.equal(f.flush()!.independent, true);
  assert.equal(f.end()!.independent, false);
  assert.equal(f.dropped, 1);
});

Deno.test("Mp4Fragmenter leaves in-band copies of the sample entry's H.264 parameter sets out of samples", () => {
  const sets = VIDEO.parameterSets!;
  const f = new Mp4Fragmenter([VIDEO]);
  const idr = new Uint8Array([0x65, 1, 2, 3]);
  f.push({
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [sets.sps[0]!, sets.pps[0]!, idr],
  });
  const { tracks } = samplesOf(f.end()!.bytes);
  assert.deepEqual([...tracks[0]!.data[0]!], [0, 0, 0, 4, 0x65, 1, 2, 3]);
});

Deno.test("Mp4Fragmenter: an AV1 temporal delimiter OBU stays out of the sample; G.711 samples last their byte count", () => {
  const av1 = new Mp4Fragmenter([av1Track(0)]);
  const tu = new Uint8Array([0x12, 0x00, 0x32, 0x02, 0xaa, 0xbb]); // temporal delimiter, then a frame OBU
  av1.push({ trackId: 0, dts: 0, pts: 0, keyframe: true, units: [tu] });
  assert.deepEqual([...samplesOf(av1.end()!.bytes).tracks[0]!.data[0]!], [
    0x32,
    0x02,
    0xaa,
    0xbb,
  ]);
  const f = new Mp4Fragmenter([rawAudioTrack("PCMU", 0)]);
  f.push({
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [new Uint8Array(160)],
  });
  assert.equal(samplesOf(f.end()!.bytes).tracks[0]!.samples[0]!.duration, 160);
});

/** NAL units behind 4-byte lengths. */
function lengthPrefixed(units: Uint8Array[]): Uint8Array {
  return concat(
    units.flatMap((
      u,
    ) => [new Uint8Array(new Uint32Array([u.length]).buffer).reverse(), u]),
  );
}

// A random run of frames on two tracks: whatever the timing, the boxes nest, the
// samples add up to the frames, their bytes are the frames' bytes, and each
// track's decode times run on without holes across fragments.
Deno.test("Mp4Fragmenter property: every frame comes out once, in order, on a continuous timeline", () => {
  const frameArb = fc.record({
    track: fc.integer({ min: 0, max: 1 }),
    step: fc.integer({ min: -5000, max: 2_000_000 }),
    cts: fc.integer({ min: -2000, max: 20000 }),
    key: fc.boolean(),
    size: fc.integer({ min: 0, max: 300 }),
    flush: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 60 }), (specs) => {
      const f = new Mp4Fragmenter([VIDEO, AUDIO], {
        maxSampleDurationMs: 10000,
      });
      const dts = [0, 0];
      const sent: Frame[][] = [[], []];
      const fragments: Uint8Array[] = [];
      for (const s of specs) {
        dts[s.track]! += s.step;
        const fr = frame(s.track, dts[s.track]!, {
          pts: dts[s.track]! + s.cts,
          keyframe: s.track === 1 || s.key,
          size: s.size,
          nal: s.track === 0 && s.size >= 10,
        });
        sent[s.track]!.push(fr);
        f.push(fr);
        if (s.flush) fragments.push(f.flush()?.bytes ?? new Uint8Array(0));
      }
      fragments.push(f.end()?.bytes ?? new Uint8Array(0));
      const got: Uint8Array[][] = [[], []];
      const next: (number | undefined)[] = [undefined, undefined];
      let sequence = 0;
      for (const bytes of fragments.filter((b) => b.length > 0)) {
        const { sequence: seq, tracks } = samplesOf(bytes);
        assert.equal(seq, ++sequence);
        for (const t of tracks) {
          const i = t.id - 1;
          if (next[i] !== undefined) assert.equal(t.base, next[i]);
          let end = t.base;
          for (const s of t.samples) {
            const limit = i === 0 ? 900000 : 480000;
            assert.ok(
              s.duration >= 0 && s.duration <= limit,
              `duration ${s.duration}`,
            );
            end += s.duration;
          }
          next[i] = end;
          got[i]!.push(...t.data);
        }
      }
      for (const i of [0, 1]) {
        assert.equal(got[i]!.length, sent[i]!.length);
        for (const [k, fr] of sent[i]!.entries()) {
          assert.deepEqual(
            got[i]![k],
            i === 0 ? lengthPrefixed(fr.units) : fr.units[0],
          );
        }
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("Mp4FragmenterStream: the init segment, then a fragment per second of video cut at keyframes", async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 100; i++) {
    frames.push(frame(0, i * 3600, { keyframe: i % 25 === 0, nal: true }));
  }
  const chunks: Uint8Array[] = [];
  for await (
    const c of ReadableStream.from(frames).pipeThrough(
      new Mp4FragmenterStream([VIDEO]),
    )
  ) chunks.push(c);
  const types = chunks.map((c) => parseBoxes(c).map((b) => b.type).join("+"));
  assert.deepEqual(types, [
    "ftyp+moov",
    "moof+mdat",
    "moof+mdat",
    "moof+mdat",
    "moof+mdat",
  ]);
  const counts = chunks.slice(1).map((c) =>
    samplesOf(c).tracks[0]!.samples.length
  );
  assert.deepEqual(counts, [25, 25, 25, 25]);
});

// ISO/IEC 14496-12 §8.16.2, §8.16.3
Deno.test("encodeStyp and encodeSidx write segment type and index boxes", () => {
  const styp = parseBoxes(encodeStyp());
  assert.equal(styp[0]!.type, "styp");
  assert.equal(
    new TextDecoder().decode(styp[0]!.payload.subarray(0, 4)),
    "msdh",
  );
  const sidx = parseBoxes(encodeSidx(1, 90000, 180000, [
    { size: 1000, duration: 90000, startsWithSap: true },
    { size: 2000, duration: 45000, startsWithSap: false },
  ]));
  const v = viewOf(sidx[0]!);
  assert.equal(v.getUint8(0), 1);
  assert.deepEqual([v.getUint32(4), v.getUint32(8), v.getUint32(16)], [
    1,
    90000,
    180000,
  ]);
  assert.equal(v.getUint16(30), 2);
  assert.deepEqual([v.getUint32(32), v.getUint32(36), v.getUint32(40)], [
    1000,
    90000,
    0x90000000,
  ]);
  assert.deepEqual([v.getUint32(44), v.getUint32(48), v.getUint32(52)], [
    2000,
    45000,
    0,
  ]);
});
