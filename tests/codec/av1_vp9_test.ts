import assert from "node:assert/strict";
import { findAv1SequenceHeader, parseAv1c } from "../../lib/codec/av1/mod.ts";
import { parseVp9KeyframeSize, parseVpcc } from "../../lib/codec/vp9/mod.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser, testdata } from "./_fuzz.ts";

/** The payload of the first box named `type` in an MP4 file (after size and type). */
function boxPayload(file: Uint8Array, type: string): Uint8Array {
  const name = new TextEncoder().encode(type);
  for (let i = 4; i + 4 <= file.length; i++) {
    if (name.every((b, k) => file[i + k] === b)) {
      const size = new DataView(file.buffer, file.byteOffset + i - 4, 4)
        .getUint32(0);
      return file.subarray(i + 4, i - 4 + size);
    }
  }
  throw new Error(`no ${type} box`);
}

// AV1 ISOBMFF binding §2.3.3: the av1C libaom + ffmpeg wrote (tests/testdata/codec/README.md)
Deno.test("parseAv1c reads a real av1C and its sequence header OBU", () => {
  const record = boxPayload(testdata("codec/av1_320x240.mp4"), "av1C");
  assert.deepEqual(record.subarray(0, 4), hex("81 00 0c 00"));
  const av1c = parseAv1c(record);
  assert.equal(av1c.seqProfile, 0);
  assert.equal(av1c.bitDepth, 8);
  assert.equal(av1c.chromaSubsamplingX, 1);
  assert.equal(av1c.chromaSubsamplingY, 1);
  assert.equal(av1c.width, 320);
  assert.equal(av1c.height, 240);
});

// AV1 §5.5: reduced_still_picture_header | frame_width_bits_minus_1 … in one OBU without a size field
Deno.test("findAv1SequenceHeader reads a reduced header and skips other OBUs", () => {
  // temporal delimiter (size 0) | sequence header, has_size 0: profile 0, still 1, reduced 1,
  // level 0 | width bits 9, height bits 9 | 639, 479
  const obus = hex("12 00 | 08 | 18 26 67 f7 7c");
  assert.deepEqual(findAv1SequenceHeader(obus), {
    seqProfile: 0,
    stillPicture: true,
    maxFrameWidth: 640,
    maxFrameHeight: 480,
  });
  assert.equal(findAv1SequenceHeader(hex("12 00")), undefined);
  assert.throws(() => findAv1SequenceHeader(hex("0a 20 00")), {
    code: "truncated",
  });
});

Deno.test("parseAv1c rejects a bad marker and keeps an unreadable OBU as unknown size", () => {
  assert.throws(() => parseAv1c(hex("01 00 0c 00")), { code: "malformed" });
  const av1c = parseAv1c(hex("81 00 0c 00 | 0a 7f"));
  assert.equal(av1c.width, undefined);
});

// VP codec ISOBMFF binding §2.2: vpcC from MP4 (FullBox) and as ffmpeg's FLV muxer writes it
Deno.test("parseVpcc reads a vpcC with and without the FullBox header", () => {
  const record = boxPayload(testdata("codec/vp9_320x240.mp4"), "vpcC");
  const want = {
    profile: 0,
    level: 20,
    bitDepth: 8,
    chromaSubsampling: 1,
    videoFullRange: false,
    colourPrimaries: 2,
    transferCharacteristics: 2,
    matrixCoefficients: 2,
  };
  assert.deepEqual(parseVpcc(record), want);
  assert.deepEqual(parseVpcc(record.subarray(4)), want);
  assert.throws(() => parseVpcc(hex("00 14 82 02 02 02 00 05 00")), {
    code: "truncated",
  });
  assert.throws(() => parseVpcc(hex("07 14 82 02 02 02 00 00")), {
    code: "malformed",
  });
});

// VP9 bitstream §6.2: frame_marker | profile | show_existing 0 | frame_type 0 | … | sync | color | size
Deno.test("parseVp9KeyframeSize reads the size of a profile 0 keyframe", () => {
  // 10 0 0 0 0 1 0 | 49 83 42 | cs 001, range 0 | 319 (16 bits) | 239 (16 bits)
  const frame = hex("82 | 49 83 42 | 20 | 13 f0 | 0e f0 00");
  assert.deepEqual(parseVp9KeyframeSize(frame), { width: 320, height: 240 });
  assert.equal(parseVp9KeyframeSize(hex("86 00")), undefined); // frame_type 1
  assert.throws(() => parseVp9KeyframeSize(hex("02 49 83 42")), {
    code: "malformed",
  });
});

Deno.test("AV1 and VP9 parsers give output or a ProtocolError", () => {
  checkParser(parseAv1c, [
    boxPayload(testdata("codec/av1_320x240.mp4"), "av1C"),
  ], 500);
  checkParser(findAv1SequenceHeader, [hex("12 00 | 08 | 18 26 67 f7 7c")]);
  checkParser(parseVpcc, [
    boxPayload(testdata("codec/vp9_320x240.mp4"), "vpcC"),
  ]);
  checkParser(parseVp9KeyframeSize, [
    hex("82 | 49 83 42 | 20 | 13 f0 | 0e f0 00"),
  ]);
});
