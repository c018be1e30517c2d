import assert from "node:assert/strict";
import {
  splitAnnexB,
  splitLengthPrefixed,
  unescapeRbsp,
} from "../../lib/codec/nal_units.ts";
import { hex } from "../_util/bytes.ts";
import { checkParser } from "./_fuzz.ts";

// ITU-T H.264 Annex B: 3- and 4-byte start codes, trailing_zero_8bits
const ANNEX_B_CASES = [
  {
    name: "3- and 4-byte start codes",
    wire: "000001 6742 | 00000001 68ce | 000001 6588",
    units: ["6742", "68ce", "6588"],
  },
  {
    name: "trailing zero bytes",
    wire: "00000001 0910 0000 | 00000001 6588 00",
    units: ["0910", "6588"],
  },
  {
    name: "a bare NAL unit without start code",
    wire: "6588 8401",
    units: ["65888401"],
  },
  {
    name: "bytes before the first start code",
    wire: "0988 | 000001 6588",
    units: ["0988", "6588"],
  },
  { name: "only start codes", wire: "000001 000001 00000001", units: [] },
  { name: "empty input", wire: "", units: [] },
];
for (const c of ANNEX_B_CASES) {
  Deno.test(`splitAnnexB splits ${c.name}`, () => {
    const data = hex(c.wire);
    const units = splitAnnexB(data);
    assert.deepEqual(
      units.map((u) => Array.from(u)),
      c.units.map((u) => Array.from(hex(u))),
    );
    for (const u of units) assert.equal(u.buffer, data.buffer); // views, no copies
  });
}

// ISO/IEC 14496-15 §5.3.2: NALUnitLength of lengthSizeMinusOne + 1 bytes
Deno.test("splitLengthPrefixed reads 1-, 2- and 4-byte lengths", () => {
  assert.deepEqual(splitLengthPrefixed(hex("02 6588 | 01 06"), 1), [
    hex("6588"),
    hex("06"),
  ]);
  assert.deepEqual(splitLengthPrefixed(hex("0002 6588 | 0001 06"), 2), [
    hex("6588"),
    hex("06"),
  ]);
  assert.deepEqual(
    splitLengthPrefixed(hex("00000002 6588 | 00000000 | 00000001 06"), 4),
    [hex("6588"), hex("06")],
  );
});

Deno.test("splitLengthPrefixed rejects a length past the end as truncated", () => {
  assert.throws(() => splitLengthPrefixed(hex("00000005 6588"), 4), {
    name: "ProtocolError",
    code: "truncated",
  });
  assert.throws(() => splitLengthPrefixed(hex("00000002 6588 | 0000"), 4), {
    name: "ProtocolError",
    code: "truncated",
  });
  assert.throws(() => splitLengthPrefixed(hex("00"), 0), RangeError);
});

// H.264 §7.4.1: emulation_prevention_three_byte
Deno.test("unescapeRbsp removes emulation prevention bytes", () => {
  assert.deepEqual(
    unescapeRbsp(hex("67 000003 01 000003 00 000003")),
    hex("67 0000 01 0000 00 0000"),
  );
  const plain = hex("67 4d 00 28");
  assert.equal(unescapeRbsp(plain), plain); // nothing to remove: no copy
});

Deno.test("splitAnnexB, splitLengthPrefixed and unescapeRbsp give output or a ProtocolError", () => {
  const fixtures = [
    hex("00000001 6742 000001 68ce 00000001 6588"),
    hex("00000002 6588 00000001 06"),
  ];
  checkParser((b) => {
    const units = splitAnnexB(b);
    let total = 0;
    for (const u of units) total += u.length;
    assert.ok(total <= b.length);
  }, fixtures);
  checkParser((b) => splitLengthPrefixed(b, 4), fixtures);
  checkParser((b) => splitLengthPrefixed(b, 2), fixtures);
  checkParser((b) => assert.ok(unescapeRbsp(b).length <= b.length), fixtures);
});
