import assert from "node:assert/strict";
import {
  buildHvcc,
  H265_NAL_TYPE,
  h265NalType,
  h265ReorderDepth,
  isH265Irap,
  isH265Keyframe,
  parseH265Sps,
  parseHvcc,
} from "../../lib/codec/h265/mod.ts";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser, testdata } from "./_fuzz.ts";

function parameterSets(file: string) {
  const units = splitAnnexB(testdata(`codec/${file}`));
  const of = (type: number) => units.filter((u) => h265NalType(u) === type);
  return {
    units,
    vps: of(H265_NAL_TYPE.VPS),
    sps: of(H265_NAL_TYPE.SPS),
    pps: of(H265_NAL_TYPE.PPS),
  };
}

// H.265 §7.3.2.2.1 on SPSs written by x265 (tests/testdata/codec/README.md)
const REAL_SPS = [
  // 1088 coded rows with a conformance window of 4 chroma rows
  {
    file: "h265_1920x1080.h265",
    profileIdc: 1,
    levelIdc: 120,
    width: 1920,
    height: 1080,
    bitDepthLuma: 8,
  },
  {
    file: "h265_1920x1080_main10.h265",
    profileIdc: 2,
    levelIdc: 120,
    width: 1920,
    height: 1080,
    bitDepthLuma: 10,
  },
  {
    file: "h265_352x288.h265",
    profileIdc: 1,
    levelIdc: 60,
    width: 352,
    height: 288,
    bitDepthLuma: 8,
  },
];
for (const c of REAL_SPS) {
  Deno.test(`parseH265Sps reads ${c.file}`, () => {
    const sps = parseH265Sps(parameterSets(c.file).sps[0]!);
    assert.equal(sps.profileIdc, c.profileIdc);
    assert.equal(sps.levelIdc, c.levelIdc);
    assert.equal(sps.tierFlag, 0);
    assert.equal(sps.chromaFormatIdc, 1);
    assert.equal(sps.width, c.width);
    assert.equal(sps.height, c.height);
    assert.equal(sps.bitDepthLuma, c.bitDepthLuma);
  });
}

// H.265 §7.3.2.2.1: sps_max_num_reorder_pics[0] (x265, sub-layer ordering info present);
// value from ffmpeg's trace_headers
for (const c of REAL_SPS) {
  Deno.test(`parseH265Sps reads sps_max_num_reorder_pics of ${c.file}`, () => {
    const sps = parameterSets(c.file).sps[0]!;
    assert.equal(parseH265Sps(sps).maxNumReorderPics, 2);
    assert.equal(h265ReorderDepth(sps), 2);
  });
}

Deno.test("parseH265Sps reads an SPS cut inside its ordering info without sps_max_num_reorder_pics", () => {
  // bit depths end in the first 26 bytes, sps_max_num_reorder_pics[0] in the first 28
  const sps = parameterSets("h265_1920x1080.h265").sps[0]!;
  // (the VUI's frame rate comes later still)
  const { maxNumReorderPics, frameRate, ...rest } = parseH265Sps(sps);
  assert.equal(maxNumReorderPics, 2);
  assert.equal(frameRate, 25);
  assert.deepEqual(parseH265Sps(sps.subarray(0, 28)), {
    ...rest,
    maxNumReorderPics,
  });
  assert.deepEqual(parseH265Sps(sps.subarray(0, 27)), rest);
  assert.deepEqual(parseH265Sps(sps.subarray(0, 26)), rest);
  assert.throws(() => h265ReorderDepth(sps.subarray(0, 27)), {
    name: "ProtocolError",
    code: "malformed",
  });
  assert.throws(() => parseH265Sps(sps.subarray(0, 25)), {
    name: "ProtocolError",
    code: "truncated",
  });
});

// ISO/IEC 14496-15 §8.3.3.1.2
Deno.test("buildHvcc and parseHvcc round-trip real parameter sets", () => {
  const { vps, sps, pps } = parameterSets("h265_1920x1080_main10.h265");
  const record = buildHvcc({ vps, sps, pps });
  // version 1 | Main 10 (idc 2) | compatibility flags 1 and 2 | … | level 120
  assert.deepEqual(record.subarray(0, 6), hex("01 | 02 | 20 00 00 00"));
  assert.equal(record[12], 120);
  const hvcc = parseHvcc(record);
  assert.equal(hvcc.profileIdc, 2);
  assert.equal(hvcc.levelIdc, 120);
  assert.equal(hvcc.chromaFormat, 1);
  assert.equal(hvcc.bitDepthLuma, 10);
  assert.equal(hvcc.bitDepthChroma, 10);
  assert.equal(hvcc.lengthSize, 4);
  assert.deepEqual([hvcc.vps, hvcc.sps, hvcc.pps], [vps, sps, pps]);
});

Deno.test("parseHvcc accepts configurationVersion 0 and skips SEI arrays", () => {
  const { vps, sps, pps } = parameterSets("h265_1920x1080.h265");
  const record = buildHvcc({ vps, sps, pps });
  record[0] = 0;
  const sei = hex("a7 | 0001 | 0003 4e 01 05"); // array_completeness, PREFIX_SEI (39)
  const withSei = new Uint8Array([...record, ...sei]);
  withSei[22] = withSei[22]! + 1;
  const hvcc = parseHvcc(withSei);
  assert.equal(hvcc.sps.length, 1);
  assert.equal(hvcc.pps.length, 1);
});

Deno.test("parseHvcc rejects a short header, a bad version and a cut array", () => {
  assert.throws(() => parseHvcc(new Uint8Array(10)), {
    name: "ProtocolError",
    code: "truncated",
  });
  const { vps, sps, pps } = parameterSets("h265_1920x1080.h265");
  const record = buildHvcc({ vps, sps, pps });
  assert.throws(() => parseHvcc(record.subarray(0, record.length - 1)), {
    name: "ProtocolError",
    code: "truncated",
  });
  record[0] = 2;
  assert.throws(() => parseHvcc(record), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("isH265Keyframe finds the IRAP picture of the first access unit", () => {
  const { units } = parameterSets("h265_352x288.h265");
  assert.equal(isH265Keyframe(units.slice(0, 6)), true);
  assert.equal(isH265Keyframe([hex("02 01 d0")]), false); // TRAIL_R
  assert.equal(isH265Irap(H265_NAL_TYPE.CRA), true);
  assert.equal(isH265Irap(H265_NAL_TYPE.VPS), false);
});

Deno.test("parseH265Sps and parseHvcc give output or a ProtocolError", () => {
  const sets = REAL_SPS.map((c) => parameterSets(c.file));
  checkParser(parseH265Sps, sets.map((s) => s.sps[0]!), 500);
  checkParser(parseHvcc, sets.map((s) => buildHvcc(s)));
});
