import assert from "node:assert/strict";
import fc from "fast-check";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import type { StageCore } from "../../lib/stage.ts";
import {
  h264PocLsb,
  h265PocLsb,
  h265PpsHead,
  h265VpsFrameRate,
} from "../../lib/vod/es_headers.ts";
import {
  DEFAULT_FRAME_RATE,
  type EsCodec,
  type EsIndex,
  EsIndexer,
  presentationOrder,
} from "../../lib/vod/es_index.ts";
import { AnnexBScanner, type NalHead } from "../../lib/vod/es_scan.ts";
import { esCodecOf } from "../../lib/vod/es_source.ts";
import { hex, toHex } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

const data = (name: string) =>
  Deno.readFileSync(new URL(`../testdata/codec/${name}`, import.meta.url));

/** The scanner as a stage: NAL units out, as offset and hex of their head. */
function scannerStage(
  headBytes?: number,
): StageCore<Uint8Array, { offset: number; head: string; whole: boolean }> {
  const s = new AnnexBScanner(headBytes === undefined ? {} : { headBytes });
  const emit = (out: { enqueue(x: unknown): void }) => (n: NalHead) =>
    out.enqueue({ offset: n.offset, head: toHex(n.head), whole: n.whole });
  return {
    push: (chunk, out) => s.push(chunk, emit(out)),
    end: (out) => s.end(emit(out)),
  };
}

function index(codec: EsCodec, bytes: Uint8Array, pieces = 4096): EsIndex {
  const s = new AnnexBScanner();
  const ix = new EsIndexer(codec);
  const push = (n: NalHead) => ix.push(n);
  for (let i = 0; i < bytes.length; i += pieces) {
    s.push(bytes.subarray(i, i + pieces), push);
  }
  s.end(push);
  return ix.finish(s.position);
}

Deno.test("AnnexBScanner finds the NAL units splitAnnexB finds, at every split", () => {
  checkStageContract(() => scannerStage(), {
    fixtures: [
      // H.264 Annex B: 4- and 3-byte start codes, trailing_zero_8bits
      {
        name: "SPS, PPS and a slice",
        bytes: hex(
          "00 00 00 01 67 64 00 0d | 00 00 01 68 eb | 00 00 01 65 88 00 00 00",
        ),
        expect: [
          { offset: 4, head: "67 64 00 0d", whole: true },
          { offset: 11, head: "68 eb", whole: true },
          { offset: 16, head: "65 88", whole: true },
        ],
      },
      { name: "x264 picture", bytes: data("h264_1920x1080.h264") },
    ],
    roundTrip: false,
    check: (items, f) => {
      const want = splitAnnexB(f.bytes).map((u) => toHex(u));
      assert.deepEqual(items.map((n) => n.head), want, f.name);
    },
  });
});

Deno.test("AnnexBScanner keeps a bounded head of a long unit", () => {
  const out: { head: string; whole: boolean }[] = [];
  const s = new AnnexBScanner({ headBytes: 4 });
  const push = (n: NalHead) =>
    out.push({ head: toHex(n.head), whole: n.whole });
  s.push(hex("00 00 01 65 01 02 03 04 05 06 | 00 00 01 41 02"), push);
  s.end(push);
  assert.deepEqual(out, [
    { head: "65 01 02 03", whole: false },
    { head: "41 02", whole: true },
  ]);
});

Deno.test("AnnexBScanner gives the same units however the stream is cut", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }).map((b) => b.map((x) => x % 4)),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }),
      (bytes, cuts) => {
        const run = (sizes: number[]) => {
          const out: string[] = [];
          const s = new AnnexBScanner({ headBytes: 16 });
          const push = (n: NalHead) => out.push(`${n.offset}:${toHex(n.head)}`);
          let at = 0;
          for (let k = 0; at < bytes.length; k++) {
            const n = sizes[k % sizes.length]!;
            s.push(bytes.subarray(at, at + n), push);
            at += n;
          }
          s.end(push);
          return out;
        };
        assert.deepEqual(run(cuts), run([bytes.length || 1]));
      },
    ),
  );
});

// testdata README: 12 pictures of x265 with keyint 6 and 2 B-frames; 2 IRAP
Deno.test("EsIndexer reads x265's 12 pictures with 2 keyframes in POC order", () => {
  const ix = index("H265", data("h265_352x288.h265"), 777);
  assert.equal(ix.offsets.length, 12);
  assert.deepEqual(ix.keys, [0, 6]);
  assert.deepEqual([...ix.order].sort((a, b) => a - b), [...Array(12).keys()]);
  assert.notDeepEqual(ix.order, [...Array(12).keys()], "B-frames reorder");
  assert.ok(ix.lead >= 1 && ix.lead <= 2, `lead ${ix.lead}`);
  assert.equal(ix.sets.vps?.length, 1);
  assert.equal(ix.frameRate, DEFAULT_FRAME_RATE);
});

for (
  const [file, frames] of [
    ["h264_1920x1080.h264", 1],
    ["h264_1280x720_baseline.h264", 1],
    ["h264_1920x1080_interlaced.h264", 2],
    ["h264_854x480_yuv444.h264", 1],
  ] as const
) {
  // frame counts from `ffprobe -count_frames`
  Deno.test(`EsIndexer finds ${frames} access units in ${file}`, () => {
    const ix = index("H264", data(file), 100);
    assert.equal(ix.offsets.length, frames);
    assert.deepEqual(ix.keys, [0]);
    assert.equal(ix.sets.sps.length, 1);
    assert.equal(ix.sets.pps.length, 1);
    // a 4-byte start code: its first zero stays with what comes before
    assert.equal(ix.offsets[0], 1);
  });
}

Deno.test("EsIndexer cuts at an access unit delimiter and at first_mb_in_slice 0", () => {
  // AUD | SPS | PPS | IDR (first_mb 0) | IDR (first_mb 1, same picture) | AUD | P
  const bytes = hex(
    "00 00 00 01 09 f0 | 00 00 01 67 42 00 1e | 00 00 01 68 ce | 00 00 01 65 88 80" +
      "| 00 00 01 65 48 | 00 00 00 01 09 f0 | 00 00 01 41 9a",
  );
  const ix = index("H264", bytes, 3);
  assert.deepEqual(ix.offsets, [1, 30]);
  assert.deepEqual(ix.keys, [0]);
  assert.equal(ix.end, bytes.length);
});

Deno.test("EsIndexer stops at maxUnits", () => {
  const ix = new EsIndexer("H264", { maxUnits: 2 });
  const s = new AnnexBScanner();
  const push = (n: NalHead) => ix.push(n);
  s.push(
    hex("00 00 01 65 88 | 00 00 01 41 9a | 00 00 01 41 9a | 00 00 01 41 9a"),
    push,
  );
  s.end(push);
  const r = ix.finish(s.position);
  assert.deepEqual(r.offsets, [0, 5]);
  assert.equal(r.end, 10);
});

Deno.test("presentationOrder ranks by POC within a period, else keeps decode order", () => {
  assert.deepEqual(presentationOrder([0, 8, 4, 2, 6], [0]), [0, 4, 2, 1, 3]);
  assert.deepEqual(presentationOrder([0, 4, 2, 0, 4, 2], [0, 3]), [
    0,
    2,
    1,
    3,
    5,
    4,
  ]);
  assert.deepEqual(presentationOrder([0, NaN, 2], [0]), [0, 1, 2]);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 80 }),
      fc.array(fc.nat(80)),
      (pocs, periods) => {
        const order = presentationOrder(pocs, periods);
        assert.deepEqual([...order].sort((a, b) => a - b), [...pocs.keys()]);
        order.forEach((o, i) => assert.ok(Math.abs(o - i) <= 16));
      },
    ),
  );
});

Deno.test("EsIndexer and the header readers take any bytes without throwing", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.constantFrom<EsCodec>("H264", "H265"),
      (bytes, codec) => {
        // start codes sprinkled in, so units of every type come through
        const b = bytes.map((x, i) => (i % 37 < 2 ? 0 : i % 37 === 2 ? 1 : x));
        const ix = index(codec, b, 64);
        ix.keys.forEach((k) => assert.ok(k < ix.offsets.length));
        assert.equal(ix.order.length, ix.offsets.length);
        for (let i = 1; i < ix.offsets.length; i++) {
          assert.ok(ix.offsets[i]! > ix.offsets[i - 1]!);
        }
        const sps = {
          separateColourPlane: false,
          log2MaxFrameNum: 4,
          frameMbsOnly: false,
          picOrderCntType: 0,
          log2MaxPocLsb: 8,
        };
        for (
          const v of [
            h264PocLsb(bytes, sps),
            h265PocLsb(bytes, sps, () => h265PpsHead(bytes)),
            h265VpsFrameRate(bytes),
          ]
        ) assert.ok(v === undefined || Number.isFinite(v));
      },
    ),
  );
});

Deno.test("esCodecOf knows the raw stream extensions", () => {
  assert.equal(esCodecOf("a/b.H264"), "H264");
  assert.equal(esCodecOf("x.264"), "H264");
  assert.equal(esCodecOf("x.avc"), "H264");
  assert.equal(esCodecOf("x.hevc"), "H265");
  assert.equal(esCodecOf("x.265"), "H265");
  assert.equal(esCodecOf("x.mp4"), undefined);
  assert.equal(esCodecOf("dir.h264/file"), undefined);
});
