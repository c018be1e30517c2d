import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import type { Frame, VideoTrack } from "../../lib/media/mod.ts";
import { encodeFlvTag, flvHeader } from "../../lib/flv/file.ts";
import { FLV_TAG_TYPE } from "../../lib/flv/tag.ts";
import {
  tagTimestampMs,
  videoSequenceHeader,
  videoTagBody,
} from "../../lib/flv/tag_muxer.ts";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { parseSps } from "../../lib/codec/h264/sps.ts";
import { h264ReorderDepth } from "../../lib/codec/h264/reorder.ts";
import { h265ReorderDepth } from "../../lib/codec/h265/reorder.ts";
import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { DtsRebuilder, DtsRebuilderStream } from "../../lib/rtp/dts.ts";
import { H264Depacketizer } from "../../lib/rtp/h264.ts";
import { H265Depacketizer } from "../../lib/rtp/h265.ts";
import { collect } from "../_util/bytes.ts";
import { playAndCount } from "../_util/ffmpeg.ts";
import { requireTool } from "../_util/tools.ts";
import { readCapture, readFramecrc } from "./_capture.ts";
import { depacketize } from "./_payload.ts";

function frame(pts: number, keyframe = false, units: Uint8Array[] = []): Frame {
  return { trackId: 0, dts: pts, pts, keyframe, units };
}

function rebuild(rebuilder: DtsRebuilder, frames: Frame[]): Frame[] {
  const out = collect<Frame>();
  for (const f of frames) rebuilder.push(f, out);
  rebuilder.end(out);
  return out.items;
}

function assertDecodable(frames: Frame[]): void {
  for (let i = 0; i < frames.length; i++) {
    assert.ok(
      frames[i]!.dts <= frames[i]!.pts,
      `frame ${i}: dts ${frames[i]!.dts} > pts ${frames[i]!.pts}`,
    );
    if (i > 0) {
      assert.ok(
        frames[i]!.dts > frames[i - 1]!.dts,
        `frame ${i}: dts does not increase`,
      );
    }
  }
}

/** The frames of a capture, depacketized. */
function captureFrames(name: string, codec: "H264" | "H265"): Frame[] {
  const d = codec === "H264" ? new H264Depacketizer() : new H265Depacketizer();
  return depacketize(d, readCapture(`${name}.rtp`).map(decodeRtpPacket));
}

// tests/testdata/rtp/README.md: the framecrc files hold ffmpeg's own dts and pts for each capture
for (
  const [name, codec, depth] of [["h264_bf2", "H264", 2], [
    "h265_bf2",
    "H265",
    2,
  ], ["h264_bf0", "H264", 0]] as const
) {
  Deno.test(`ffmpeg capture ${name}: DtsRebuilder gives the encoder's own dts (reorder depth ${depth} from the SPS)`, () => {
    const rebuilder = new DtsRebuilder(codec);
    const frames = rebuild(rebuilder, captureFrames(name, codec));
    const ref = readFramecrc(`${name}.framecrc`);
    const tick = 90000 / ref.rate;
    const t0 = frames[0]!.pts;
    assert.deepEqual(
      frames.map((f) => [(f.dts - t0) / tick, (f.pts - t0) / tick]),
      ref.lines.map((l) => [l.dts, l.pts]),
    );
    assert.equal(rebuilder.reorderDepth, depth);
    assert.equal(rebuilder.depthIncreases, 0);
    assertDecodable(frames);
  });
}

Deno.test("DtsRebuilder adds no delay without B-frames: each frame leaves on its own push with dts = pts", () => {
  const rebuilder = new DtsRebuilder("H264");
  const out = collect<Frame>();
  for (const f of captureFrames("h264_bf0", "H264")) {
    const before = out.items.length;
    rebuilder.push(f, out);
    assert.equal(out.items.length, before + 1);
    assert.equal(out.items[before], f); // the same object: nothing to change
  }
});

Deno.test("DtsRebuilder holds only the first frames with B-frames, then emits on arrival", () => {
  const rebuilder = new DtsRebuilder("H264");
  const out = collect<Frame>();
  const counts = captureFrames("h264_bf2", "H264").map((f) => {
    rebuilder.push(f, out);
    return out.items.length;
  });
  assert.deepEqual(counts.slice(0, 5), [0, 0, 3, 4, 5]); // depth 2: frames 0 and 1 wait for frame 2
});

Deno.test("h264ReorderDepth reads max_num_reorder_frames from x264's VUI", () => {
  const spsOf = (name: string) =>
    depacketize(
      new H264Depacketizer(),
      readCapture(name).map(decodeRtpPacket),
    )[0]!.units.find((u) => (u[0]! & 0x1f) === 7)!;
  assert.equal(h264ReorderDepth(spsOf("h264_bf2.rtp")), 2);
  assert.equal(h264ReorderDepth(spsOf("h264_bf0.rtp")), 0);
  const codecSps = (file: string) =>
    splitAnnexB(
      Deno.readFileSync(new URL(`../testdata/codec/${file}`, import.meta.url)),
    ).find((u) => (u[0]! & 0x1f) === 7)!;
  // values from ffmpeg -bsf:v trace_headers
  assert.equal(h264ReorderDepth(codecSps("h264_1920x1080.h264")), 2);
  assert.equal(h264ReorderDepth(codecSps("h264_1920x1080_interlaced.h264")), 0);
  assert.equal(h264ReorderDepth(codecSps("h264_854x480_yuv444.h264")), 0);
});

/** Bytes of a bit string, then the RBSP stop bit and zero padding. */
function rbsp(bits: string): Uint8Array {
  const all = bits.replace(/\s/g, "") + "1";
  const out = new Uint8Array(Math.ceil(all.length / 8));
  for (let i = 0; i < all.length; i++) {
    if (all[i] === "1") out[i >> 3]! |= 0x80 >> (i & 7);
  }
  return out;
}

Deno.test("h264ReorderDepth is undefined for a Main profile SPS without VUI, 0 when the stream cannot reorder", () => {
  // H.264 §7.3.2.1.1: sps_id 0, log2_max_frame_num_minus4 0, pic_order_cnt_type 0, log2_max_poc_lsb_minus4 2,
  // max_num_ref_frames 1, gaps 0, 20×15 macroblocks, frame_mbs_only 1, direct_8x8 1, no cropping, no VUI
  const body = "1 1 1 011 010 0 000010100 0001111 1 1 0 0";
  const main = new Uint8Array([0x67, 77, 0x40, 30, ...rbsp(body)]);
  assert.deepEqual([parseSps(main).width, parseSps(main).height], [320, 240]);
  assert.equal(h264ReorderDepth(main), undefined);
  const pocType2 = new Uint8Array([
    0x67,
    77,
    0x40,
    30,
    ...rbsp("1 1 011 010 0 000010100 0001111 1 1 0 0"),
  ]);
  assert.equal(parseSps(pocType2).picOrderCntType, 2);
  assert.equal(h264ReorderDepth(pocType2), 0);
  assert.throws(() => h264ReorderDepth(new Uint8Array([0x68, 1, 2, 3])), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("h265ReorderDepth reads sps_max_num_reorder_pics", () => {
  const sps = depacketize(
    new H265Depacketizer(),
    readCapture("h265_bf2.rtp").map(decodeRtpPacket),
  )[0]!.units
    .find((u) => ((u[0]! >> 1) & 0x3f) === 33)!;
  assert.equal(h265ReorderDepth(sps), 2);
  assert.throws(() => h265ReorderDepth(new Uint8Array([0x40, 1, 2, 3])), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("DtsRebuilder measures the depth when the SPS is silent, keeping dts increasing", () => {
  // I0 P3 B1 B2 P6 B4 B5 … in decode order, 3000 ticks a frame, no SPS at all
  const order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8];
  const rebuilder = new DtsRebuilder("H264");
  const frames = rebuild(rebuilder, order.map((i) => frame(i * 3000)));
  assert.equal(rebuilder.reorderDepth, 1);
  assert.equal(rebuilder.depthIncreases, 1);
  assert.equal(frames.length, order.length);
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i]!.dts > frames[i - 1]!.dts);
  }
  // the frame that revealed the B-frames (and the one after) run late; from then on dts ≤ pts
  assertDecodable(frames.slice(4));
});

Deno.test("DtsRebuilder takes the reorderDepth option over the SPS", () => {
  const frames = rebuild(
    new DtsRebuilder("H264", { reorderDepth: 1 }),
    [0, 3, 1, 2].map((i) => frame(i * 3000)),
  );
  assert.deepEqual(frames.map((f) => f.dts), [-9000, 0, 3000, 6000]); // the first step guessed from 0 and 9000
});

Deno.test("DtsRebuilder.end emits frames still waiting for the first dts", () => {
  const frames = rebuild(new DtsRebuilder("H265", { reorderDepth: 3 }), [
    frame(0),
    frame(6000),
    frame(3000),
  ]);
  assert.deepEqual(frames.map((f) => f.dts), [-6000, -3000, 0]);
  assertDecodable(frames);
});

Deno.test("DtsRebuilder starts a new timeline when pts jump far back (a restarted sender)", () => {
  const rebuilder = new DtsRebuilder("H264");
  const frames = rebuild(rebuilder, [
    frame(9_000_000),
    frame(9_003_000),
    frame(0),
    frame(3000),
  ]);
  assert.deepEqual(frames.map((f) => f.dts), [9_000_000, 9_003_000, 0, 3000]);
  assert.equal(rebuilder.resets, 1);
  assert.equal(rebuilder.reorderDepth, 0);
});

/** A decode order where each frame is one of the `window` lowest display positions left. */
function decodeOrder(n: number, window: number, picks: number[]): number[] {
  const left = Array.from({ length: n }, (_, i) => i);
  return picks.slice(0, n).map((p) =>
    left.splice(p % Math.min(window, left.length), 1)[0]!
  );
}

/** How far back in decode order a frame shown later than a given one can be: real encoders stay within 16. */
function reorderSpanOf(order: number[]): number {
  return Math.max(
    0,
    ...order.map((d, i) => {
      const first = order.findIndex((e) => e > d);
      return first >= 0 && first < i ? i - first : 0;
    }),
  );
}

/** Most frames before one in decode order and after it in display order. */
function reorderDepthOf(order: number[]): number {
  return Math.max(
    0,
    ...order.map((d, i) => order.slice(0, i).filter((e) => e > d).length),
  );
}

Deno.test("DtsRebuilder gives increasing dts ≤ pts for any reordering within the known depth (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
      fc.integer({ min: 1, max: 4000 }),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      (n, window, picks, step, start) => {
        const order = decodeOrder(n, window, picks);
        fc.pre(reorderSpanOf(order) <= 16);
        const depth = reorderDepthOf(order);
        const frames = rebuild(
          new DtsRebuilder("H264", { reorderDepth: depth }),
          order.map((i) => frame(start + i * step)),
        );
        assert.equal(frames.length, n);
        assertDecodable(frames);
        // from frame `depth` on, dts[i] is the (i - depth)-th smallest pts
        for (let i = depth; i < n; i++) {
          assert.equal(frames[i]!.dts, start + (i - depth) * step);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("DtsRebuilder keeps dts increasing when it has to measure the depth (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
      (n, window, picks) => {
        const order = decodeOrder(n, window, picks);
        fc.pre(reorderSpanOf(order) <= 16);
        const rebuilder = new DtsRebuilder("H264");
        const frames = rebuild(rebuilder, order.map((i) => frame(i * 3000)));
        assert.equal(frames.length, n);
        for (let i = 1; i < n; i++) {
          assert.ok(frames[i]!.dts > frames[i - 1]!.dts);
        }
        assert.equal(rebuilder.reorderDepth, reorderDepthOf(order));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("DtsRebuilderStream rebuilds dts in a pipeline", async () => {
  const got: number[] = [];
  await ReadableStream.from([0, 2, 1, 3].map((i) => frame(i * 1000)))
    .pipeThrough(new DtsRebuilderStream("H264", { reorderDepth: 1 }))
    .pipeTo(new WritableStream({ write: (f) => void got.push(f.dts) }));
  assert.deepEqual(got, [-2000, 0, 1000, 2000]);
});

Deno.test({
  name:
    "ffmpeg capture h264_bf2: RTP → rebuilt dts → FLV decodes in ffmpeg without dts warnings",
  ignore: requireTool("ffmpeg"),
}, async () => {
  const frames = rebuild(
    new DtsRebuilder("H264"),
    captureFrames("h264_bf2", "H264"),
  );
  const t0 = frames[0]!.dts;
  const track: VideoTrack = {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    parameterSets: {
      sps: [frames[0]!.units.find((u) => (u[0]! & 0x1f) === 7)!],
      pps: [frames[0]!.units.find((u) => (u[0]! & 0x1f) === 8)!],
    },
  };
  const parts: Uint8Array[] = [flvHeader(false, true)];
  parts.push(
    encodeFlvTag({
      type: FLV_TAG_TYPE.VIDEO,
      timestamp: 0,
      data: videoSequenceHeader(track),
    }),
  );
  for (const f of frames) {
    const shifted = { ...f, dts: f.dts - t0, pts: f.pts - t0 };
    parts.push(encodeFlvTag({
      type: FLV_TAG_TYPE.VIDEO,
      timestamp: tagTimestampMs(track, shifted.dts),
      data: videoTagBody(track, shifted),
    }));
  }
  const path = await Deno.makeTempFile({ suffix: ".flv" });
  try {
    await Deno.writeFile(path, concat(parts));
    const result = await playAndCount(path, { timeoutMs: 20_000 });
    assert.equal(result.video?.frames, 50, result.stderr);
    assert.doesNotMatch(result.stderr, /non monoton|out of order|Invalid/i);
  } finally {
    await Deno.remove(path);
  }
});
