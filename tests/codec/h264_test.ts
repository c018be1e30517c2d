import assert from "node:assert/strict";
import {
  buildAvcc,
  H264_NAL_TYPE,
  h264NalType,
  h264ReorderDepth,
  isH264Keyframe,
  parseAvcc,
  parseSps,
  splitAnnexB,
} from "../../lib/codec/h264/mod.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser, testdata } from "./_fuzz.ts";

function unitsOf(file: string): Uint8Array[] {
  return splitAnnexB(testdata(`codec/${file}`));
}
function spsOf(file: string): Uint8Array {
  return unitsOf(file).find((u) => h264NalType(u) === H264_NAL_TYPE.SPS)!;
}
function ppsOf(file: string): Uint8Array {
  return unitsOf(file).find((u) => h264NalType(u) === H264_NAL_TYPE.PPS)!;
}

// H.264 §7.3.2.1.1 on SPSs written by x264 (tests/testdata/codec/README.md);
// expected values from ffmpeg's trace_headers
const REAL_SPS = [
  {
    file: "h264_1920x1080.h264",
    sps: {
      profileIdc: 100,
      constraintFlags: 0x00,
      levelIdc: 40,
      chromaFormatIdc: 1,
      width: 1920,
      height: 1080,
    },
    timing: {
      log2MaxFrameNum: 4,
      picOrderCntType: 0,
      log2MaxPocLsb: 6,
      frameMbsOnly: true,
    },
  },
  {
    file: "h264_1920x1080_interlaced.h264", // 34 map units × 2 fields × 16 = 1088, crop 2 × 4 rows
    sps: {
      profileIdc: 77,
      constraintFlags: 0x40,
      levelIdc: 40,
      chromaFormatIdc: 1,
      width: 1920,
      height: 1080,
    },
    timing: {
      log2MaxFrameNum: 4,
      picOrderCntType: 0,
      log2MaxPocLsb: 4,
      frameMbsOnly: false,
    },
  },
  {
    file: "h264_1280x720_baseline.h264",
    sps: {
      profileIdc: 66,
      constraintFlags: 0xc0,
      levelIdc: 31,
      chromaFormatIdc: 1,
      width: 1280,
      height: 720,
    },
    timing: {
      log2MaxFrameNum: 4,
      picOrderCntType: 2,
      log2MaxPocLsb: 0,
      frameMbsOnly: true,
    },
  },
  {
    file: "h264_854x480_yuv444.h264", // 4:4:4 crops in single luma samples: 864 - 10
    sps: {
      profileIdc: 244,
      constraintFlags: 0x00,
      levelIdc: 30,
      chromaFormatIdc: 3,
      width: 854,
      height: 480,
    },
    timing: {
      log2MaxFrameNum: 4,
      picOrderCntType: 2,
      log2MaxPocLsb: 0,
      frameMbsOnly: true,
    },
  },
  {
    file: "h264_640x360_yuv422.h264", // 4:2:2 crops rows one by one: 368 - 8
    sps: {
      profileIdc: 122,
      constraintFlags: 0x00,
      levelIdc: 30,
      chromaFormatIdc: 2,
      width: 640,
      height: 360,
    },
    timing: {
      log2MaxFrameNum: 4,
      picOrderCntType: 2,
      log2MaxPocLsb: 0,
      frameMbsOnly: true,
    },
  },
];
for (const c of REAL_SPS) {
  Deno.test(`parseSps reads ${c.file}`, () => {
    const sps = parseSps(spsOf(c.file));
    for (const [k, v] of Object.entries({ ...c.sps, ...c.timing })) {
      assert.equal(sps[k as keyof typeof sps], v, k);
    }
  });
}

// H.264 §7.3.2.1.1, hand-built: Baseline 176x144 level 1.1, poc type 0
//   42 | 00 | 0b | sps_id ue(0)=1 | log2_max_frame_num_minus4 ue(0)=1 | poc_type ue(0)=1
//   | lsb_minus4 ue(2)=011 | max_num_ref_frames ue(1)=010 | gaps 0 | width_mbs-1 ue(10)=0001011
//   | height_map_units-1 ue(8)=0001001 | frame_mbs_only 1 | direct_8x8 1 | cropping 0 | vui 0 | stop 1
Deno.test("parseSps reads a hand-built baseline SPS", () => {
  const sps = parseSps(hex("67 42 00 0b | ed 05 89 c8"));
  assert.equal(sps.width, 176);
  assert.equal(sps.height, 144);
  assert.equal(sps.log2MaxPocLsb, 6);
  assert.equal(sps.maxNumRefFrames, 1);
});

Deno.test("parseSps rejects a non-SPS and a cut SPS", () => {
  assert.throws(() => parseSps(hex("68 ce 3c 80")), {
    name: "ProtocolError",
    code: "malformed",
  });
  assert.throws(() => parseSps(hex("67 64 00 28 ac")), {
    name: "ProtocolError",
    code: "truncated",
  });
});

// H.264 §E.1.1 bitstream_restriction as x264 writes it; values from ffmpeg's trace_headers
const REAL_VUI = [
  { file: "h264_1920x1080.h264", reorder: 2, decBuffering: 4 },
  { file: "h264_1920x1080_interlaced.h264", reorder: 0, decBuffering: 1 },
  { file: "h264_1280x720_baseline.h264", reorder: 0, decBuffering: 1 },
  { file: "h264_854x480_yuv444.h264", reorder: 0, decBuffering: 1 },
  { file: "h264_640x360_yuv422.h264", reorder: 0, decBuffering: 1 },
];
for (const c of REAL_VUI) {
  Deno.test(`parseSps reads the VUI reorder limits of ${c.file}`, () => {
    const sps = parseSps(spsOf(c.file));
    assert.equal(sps.maxNumReorderFrames, c.reorder);
    assert.equal(sps.maxDecFrameBuffering, c.decBuffering);
    assert.equal(h264ReorderDepth(spsOf(c.file)), c.reorder);
  });
}

Deno.test("parseSps reads an SPS cut inside its VUI as far as it goes", () => {
  // The fields before the VUI end in the first 11 bytes, max_num_reorder_frames in the
  // first 26, max_dec_frame_buffering in all 27 (bit offsets from ffmpeg's trace_headers)
  const sps = spsOf("h264_1920x1080.h264");
  // timing_info (25 fps, as ffprobe's r_frame_rate says) ends between byte 20 and 25
  const { maxNumReorderFrames, maxDecFrameBuffering, frameRate, ...rest } =
    parseSps(sps);
  assert.deepEqual([maxNumReorderFrames, maxDecFrameBuffering], [2, 4]);
  assert.equal(frameRate, 25);
  assert.deepEqual(parseSps(sps.subarray(0, 26)), {
    ...rest,
    frameRate: 25,
    maxNumReorderFrames: 2,
  });
  assert.deepEqual(parseSps(sps.subarray(0, 25)), { ...rest, frameRate: 25 });
  for (const end of [20, 11]) {
    assert.deepEqual(parseSps(sps.subarray(0, end)), rest, `${end} bytes`);
  }
  assert.throws(() => parseSps(sps.subarray(0, 10)), {
    name: "ProtocolError",
    code: "truncated",
  });
});

// H.264 §7.3.2.1.1 and §E.1.1, hand-built: Main 320x240, poc type 0 (as the SPS without VUI in
// tests/rtp/dts_test.ts), then vui_parameters_present_flag 1, and in the VUI:
//   aspect, overscan, video signal, chroma loc, timing 0 | nal_hrd 0 | vcl_hrd 0 | pic_struct 0
//   | bitstream_restriction 1 | mv_over_pic_boundaries 1 | four ue(0)=1111 | reorder | dec_buffering
const MAIN = "67 4d 40 1e";
const VUI_CASES = [
  {
    name: "bitstream_restriction: reorder ue(2)=011, dec_buffering ue(4)=00101",
    body: "ed 02 83 f4 03 f6 58",
    vui: { maxNumReorderFrames: 2, maxDecFrameBuffering: 4 },
    depth: 2,
  },
  {
    name: "no bitstream_restriction",
    body: "ed 02 83 f4 01",
    vui: {},
    depth: undefined,
  },
  {
    name: "max_num_reorder_frames ue(17) over 16",
    body: "ed 02 83 f4 03 f0 90 4a",
    vui: {},
    depth: undefined,
  },
  {
    name: "nal_hrd 1 with cpb_cnt_minus1 ue(32) over 31",
    body: "ed 02 83 f4 10 43",
    vui: {},
    depth: undefined,
  },
];
for (const c of VUI_CASES) {
  Deno.test(`parseSps reads a VUI with ${c.name}`, () => {
    const sps = parseSps(hex(`${MAIN} | ${c.body}`));
    assert.deepEqual([sps.width, sps.height], [320, 240]);
    assert.deepEqual(
      {
        maxNumReorderFrames: sps.maxNumReorderFrames,
        maxDecFrameBuffering: sps.maxDecFrameBuffering,
      },
      {
        maxNumReorderFrames: undefined,
        maxDecFrameBuffering: undefined,
        ...c.vui,
      },
    );
    assert.equal(h264ReorderDepth(hex(`${MAIN} | ${c.body}`)), c.depth);
  });
}

Deno.test("h264ReorderDepth reads a broken VUI of a stream that cannot reorder as 0", () => {
  // Constrained Baseline, the body of "max_num_reorder_frames ue(17) over 16" above
  assert.equal(
    h264ReorderDepth(hex("67 42 c0 1e | ed 02 83 f4 03 f0 90 4a")),
    0,
  );
  assert.throws(() => h264ReorderDepth(hex("67 42 c0 1e")), {
    name: "ProtocolError",
    code: "truncated",
  });
});

// ISO/IEC 14496-15 §5.3.3.1: the avcC ffmpeg wrote into tests/testdata/flv/h264_aac.flv
Deno.test("buildAvcc and parseAvcc round-trip real parameter sets", () => {
  const sps = spsOf("h264_1920x1080.h264");
  const pps = ppsOf("h264_1920x1080.h264");
  const record = buildAvcc([sps], [pps]);
  assert.deepEqual(record.subarray(0, 6), hex("01 64 00 28 ff e1"));
  const avcc = parseAvcc(record);
  assert.deepEqual(avcc, {
    profileIdc: 100,
    profileCompatibility: 0,
    levelIdc: 40,
    lengthSize: 4,
    sps: [sps],
    pps: [pps],
  });
});

Deno.test("parseAvcc reads lengths, counts and views", () => {
  const record = hex(
    "01 42 c0 1e | fd | e1 | 0004 67 42 c0 1e | 02 | 0002 68 ce | 0002 68 cf",
  );
  const avcc = parseAvcc(record);
  assert.equal(avcc.lengthSize, 2);
  assert.deepEqual(avcc.sps, [hex("67 42 c0 1e")]);
  assert.deepEqual(avcc.pps, [hex("68 ce"), hex("68 cf")]);
  assert.equal(avcc.sps[0]!.buffer, record.buffer);
});

Deno.test("parseAvcc rejects a bad version, a reserved length size and a cut record", () => {
  assert.throws(() => parseAvcc(hex("00 42 c0 1e ff e0 00")), {
    name: "ProtocolError",
    code: "malformed",
  });
  assert.throws(() => parseAvcc(hex("01 42 c0 1e fe e0 00")), {
    name: "ProtocolError",
    code: "malformed",
  });
  assert.throws(() => parseAvcc(hex("01 42 c0 1e ff e1 0004 67 42")), {
    name: "ProtocolError",
    code: "truncated",
  });
  assert.throws(() => buildAvcc([], []), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("isH264Keyframe finds the IDR slice of an access unit", () => {
  const units = unitsOf("h264_1920x1080.h264");
  assert.equal(isH264Keyframe(units), true);
  assert.equal(isH264Keyframe([hex("09 f0"), hex("41 9a 02")]), false);
});

Deno.test("parseSps and parseAvcc give output or a ProtocolError", () => {
  const spss = REAL_SPS.map((c) => spsOf(c.file));
  checkParser(parseSps, spss, 500);
  checkParser(parseAvcc, [
    buildAvcc([spss[0]!], [ppsOf("h264_1920x1080.h264")]),
  ]);
});
