import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "../_util/bytes.ts";
import { parseAv1c } from "../../lib/codec/av1/av1c.ts";
import { parseVpcc } from "../../lib/codec/vp9/vpcc.ts";
import {
  av1cFromCodecString,
  vpccFromCodecString,
} from "../../lib/vod/_records.ts";

// The first OBUs of an SVT-AV1 keyframe, 320x240 Main 8-bit: a sequence
// header OBU (type 1, with size), then the start of a frame OBU.
const SEQUENCE_HEADER = hex("0a 0b 00 00 00 04 3c ff bc fb f9 00 40");
const KEY = new Uint8Array([...SEQUENCE_HEADER, 0x32, 0x03, 0x10, 0x00, 0x00]);

Deno.test("av1cFromCodecString: fields of the codec string, the sequence header as configOBUs", () => {
  const record = av1cFromCodecString("av01.0.04M.08", KEY)!;
  assert.deepEqual([...record.subarray(0, 4)], [0x81, 0x04, 0x0c, 0x00]);
  assert.deepEqual(record.subarray(4), SEQUENCE_HEADER);
  const info = parseAv1c(record);
  assert.deepEqual([info.width, info.height], [320, 240]);
  // 10-bit High tier, 4:4:4, no keyframe to take OBUs from
  assert.deepEqual(
    [...av1cFromCodecString("av01.1.08H.10.0.000", undefined)!],
    [0x81, 0x28, 0xc0, 0x00],
  );
});

Deno.test("vpccFromCodecString: short and long forms", () => {
  const short = parseVpcc(vpccFromCodecString("vp09.00.20.08")!);
  assert.deepEqual(
    [short.profile, short.level, short.bitDepth, short.chromaSubsampling],
    [0, 20, 8, 1],
  );
  const long = parseVpcc(
    vpccFromCodecString("vp09.02.10.10.01.09.16.09.01")!,
  );
  assert.deepEqual(
    [long.profile, long.bitDepth, long.colourPrimaries, long.videoFullRange],
    [2, 10, 9, true],
  );
});

Deno.test("codec records: any codec string and key sample give a parsable record or none", () => {
  const part = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.constantFrom("00", "01", "08", "10", "12", "04M", "31H", "99M", "110"),
  );
  fc.assert(
    fc.property(
      fc.constantFrom("av01", "vp09", "avc1", ""),
      fc.array(part, { maxLength: 10 }),
      fc.uint8Array({ maxLength: 64 }),
      (head, parts, key) => {
        const codec = [head, ...parts].join(".");
        const av1 = av1cFromCodecString(codec, key);
        if (av1 !== undefined) {
          assert.equal(av1[0], 0x81);
          try {
            parseAv1c(av1);
          } catch (e) {
            // only a sequence header copied from a broken key sample may fail
            assert.ok(av1.length > 4, String(e));
          }
        }
        const vp9 = vpccFromCodecString(codec);
        if (vp9 !== undefined) parseVpcc(vp9);
      },
    ),
    { numRuns: 3000 },
  );
});
