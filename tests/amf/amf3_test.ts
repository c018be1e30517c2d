import assert from "node:assert/strict";
import fc from "fast-check";
import { repeat } from "@std/bytes";
import { ByteReader } from "../../lib/binary.ts";
import { ProtocolError } from "../../lib/errors.ts";
import {
  type AmfObject,
  type AmfValue,
  AmfXml,
  decodeAmf3,
  decodeAmf3Value,
  ecmaArray,
  encodeAmf3,
  typedObject,
} from "../../lib/amf/mod.ts";
import { checkStageContract, wholeInput } from "../_util/stage_contract.ts";
import { ascii, hex, toHex } from "../_util/bytes.ts";

/** Hex of an inline AMF3 string body (U29 length << 1 | 1, then UTF-8) for names up to 63 bytes. */
function s3(text: string): string {
  const b = ascii(text);
  return `${((b.length << 1) | 1).toString(16).padStart(2, "0")} ${toHex(b)}`;
}

const ARRAY_COLLECTION = "flex.messaging.io.ArrayCollection"; // 33 bytes: U29 0x43
const shared: AmfObject = {};

// AMF 3 Specification (January 2013): §1.3.1 U29, §3.2 undefined … §3.16 Dictionary
const CASES: {
  name: string;
  wire: Uint8Array;
  value: AmfValue;
  encodes?: false;
}[] = [
  { name: "§3.2 undefined", wire: hex("00"), value: undefined },
  { name: "§3.3 null", wire: hex("01"), value: null },
  { name: "§3.4 false", wire: hex("02"), value: false },
  { name: "§3.5 true", wire: hex("03"), value: true },
  { name: "§3.6 integer 0", wire: hex("04 | 00"), value: 0 },
  { name: "§3.6 integer 127 (1-byte U29)", wire: hex("04 | 7f"), value: 127 },
  {
    name: "§3.6 integer 128 (2-byte U29)",
    wire: hex("04 | 81 00"),
    value: 128,
  },
  { name: "§3.6 integer 16383", wire: hex("04 | ff 7f"), value: 16383 },
  {
    name: "§3.6 integer 16384 (3-byte U29)",
    wire: hex("04 | 81 80 00"),
    value: 16384,
  },
  {
    name: "§3.6 integer 2^28-1 (4-byte U29)",
    wire: hex("04 | bf ff ff ff"),
    value: 0x0fffffff,
  },
  { name: "§3.6 integer -1", wire: hex("04 | ff ff ff ff"), value: -1 },
  {
    name: "§3.6 integer -2^28",
    wire: hex("04 | c0 80 80 00"),
    value: -0x10000000,
  },
  { name: "§3.7 double 1.5", wire: hex("05 | 3ff8000000000000"), value: 1.5 },
  {
    name: "§3.7 double 2^28 (past the integer range)",
    wire: hex("05 | 41b0000000000000"),
    value: 2 ** 28,
  },
  { name: "§3.7 double -0", wire: hex("05 | 8000000000000000"), value: -0 },
  { name: "§3.8 string", wire: hex("06 | 07 616263"), value: "abc" },
  { name: "§3.8 string empty", wire: hex("06 | 01"), value: "" },
  {
    name: "§3.8 string reference",
    wire: hex("09 05 01 | 06 07 616263 | 06 00"),
    value: ["abc", "abc"],
  },
  {
    name: "§3.9 XMLDocument",
    wire: hex("07 | 09 3c612f3e"),
    value: new AmfXml("<a/>"),
  },
  {
    name: "§3.10 date",
    wire: hex("08 | 01 426d1a94a2000000"),
    value: new Date(1e12),
  },
  {
    name: "§3.11 array, dense",
    wire: hex("09 | 05 | 01 | 04 01 04 02"),
    value: [1, 2],
  },
  {
    name: "§3.11 array, associative",
    wire: hex("09 | 01 | 03 61 04 01 | 01"),
    value: ecmaArray({ a: 1 }),
  },
  {
    name: "§3.11 array, associative and dense",
    wire: hex("09 | 03 | 03 61 04 01 | 01 | 04 02"),
    value: ecmaArray({ a: 1, 0: 2 }),
    encodes: false,
  },
  {
    name: "§3.12 object, anonymous dynamic",
    wire: hex("0a | 0b 01 | 03 61 04 01 | 01"),
    value: { a: 1 },
  },
  {
    name: "§3.12 object, sealed with a class name",
    wire: hex("0a | 13 07 466f6f | 03 78 | 04 05"),
    value: typedObject("Foo", { x: 5 }),
    encodes: false,
  },
  {
    name: "§3.12 object, typed dynamic",
    wire: hex("0a | 0b 07 466f6f | 03 78 04 05 | 01"),
    value: typedObject("Foo", { x: 5 }),
  },
  {
    name: "§3.12 object, traits reference",
    wire: hex("09 05 01 | 0a 13 07 466f6f 03 78 04 05 | 0a 01 04 06"),
    value: [typedObject("Foo", { x: 5 }), typedObject("Foo", { x: 6 })],
    encodes: false,
  },
  {
    name: "§3.12 object, dynamic traits reference",
    wire: hex("09 05 01 | 0a 0b 01 03 61 04 01 01 | 0a 01 03 62 04 02 01"),
    value: [{ a: 1 }, { b: 2 }],
  },
  {
    name: "§3.12 object reference",
    wire: hex("09 05 01 | 0a 0b 01 03 6b 01 01 | 0a 02"),
    value: [Object.assign(shared, { k: null }), shared],
  },
  {
    name: "§3.12 externalizable flex.messaging.io.ArrayCollection",
    wire: hex(`0a | 07 ${s3(ARRAY_COLLECTION)} | 09 03 01 04 01`),
    value: [1],
    encodes: false,
  },
  {
    name: "§3.13 XML",
    wire: hex("0b | 09 3c612f3e"),
    value: new AmfXml("<a/>", true),
  },
  {
    name: "§3.14 ByteArray",
    wire: hex("0c | 07 010203"),
    value: hex("010203"),
  },
  {
    name: "§3.15 Vector.<int>",
    wire: hex("0d | 05 00 | ffffffff 00000001"),
    value: new Int32Array([-1, 1]),
  },
  {
    name: "§3.15 Vector.<uint>, fixed-length",
    wire: hex("0e | 03 01 | ffffffff"),
    value: new Uint32Array([0xffffffff]),
    encodes: false,
  },
  {
    name: "§3.15 Vector.<Number>",
    wire: hex("0f | 03 00 | 3ff0000000000000"),
    value: new Float64Array([1]),
  },
  {
    name: "§3.15 Vector.<Object>",
    wire: hex("10 | 05 00 01 | 04 01 06 07 616263"),
    value: [1, "abc"],
    encodes: false,
  },
  {
    name: "§3.16 Dictionary",
    wire: hex("11 | 03 00 | 06 03 6b 04 01"),
    value: new Map([["k", 1]]),
  },
];

for (const c of CASES) {
  Deno.test(`decodeAmf3 reads ${c.name}`, () => {
    assert.deepEqual(decodeAmf3(c.wire), [c.value]);
  });
  if (c.encodes !== false) {
    Deno.test(`encodeAmf3 writes ${c.name}`, () => {
      assert.equal(toHex(encodeAmf3(c.value)), toHex(c.wire));
    });
  }
}

Deno.test("decodeAmf3 resolves an object reference to the very object", () => {
  const [arr] = decodeAmf3(hex("09 05 01 | 0a 0b 01 01 | 0a 02")) as [
    AmfValue[],
  ];
  assert.equal(arr[0], arr[1]);
});

Deno.test("encodeAmf3 writes a cycle as an object reference", () => {
  const obj: AmfObject = {};
  obj.self = obj;
  const wire = encodeAmf3(obj);
  assert.equal(toHex(wire), toHex(hex("0a 0b 01 | 09 73656c66 | 0a 00 | 01")));
  const [back] = decodeAmf3(wire) as [AmfObject];
  assert.equal(back.self, back);
});

Deno.test("decodeAmf3Value reads one value with fresh tables", () => {
  const reader = new ByteReader(hex("06 07 616263 | 06 00"), "amf");
  assert.equal(decodeAmf3Value(reader), "abc");
  assert.throws(() => decodeAmf3Value(reader), {
    name: "ProtocolError",
    code: "malformed",
  });
});

Deno.test("encodeAmf3 writes an empty ECMA array as an empty Array, which it reads back as one", () => {
  assert.equal(toHex(encodeAmf3(ecmaArray())), "09 01 01");
  assert.deepEqual(decodeAmf3(hex("09 01 01")), [[]]);
});

Deno.test("encodeAmf3 rejects what it cannot carry", () => {
  assert.throws(() => encodeAmf3({ "": 1 }), TypeError);
  assert.throws(() => encodeAmf3(new Set()), TypeError);
  assert.throws(() => encodeAmf3(new Float32Array(1)), TypeError);
  assert.throws(() => encodeAmf3(() => 1), TypeError);
});

Deno.test("encodeAmf3 writes what decodeAmf3 reads from vectors and dictionaries, references included", () => {
  // §3.15: a shared vector goes out once, then as an object reference
  const v = new Uint32Array([7]);
  assert.equal(
    toHex(encodeAmf3([v, v])),
    "09 05 01 0e 03 00 00 00 00 07 0e 02",
  );
  const map = new Map<unknown, unknown>([[{ a: 1 }, [true]], [2, v]]);
  assert.deepEqual(decodeAmf3(encodeAmf3(map)), [map]);
});

const BAD: {
  name: string;
  wire: Uint8Array;
  code: string;
  options?: object;
}[] = [
  { name: "an unknown marker", wire: hex("12"), code: "malformed" },
  {
    name: "a string reference past the table",
    wire: hex("06 00"),
    code: "malformed",
  },
  {
    name: "an object reference past the table",
    wire: hex("0a 00"),
    code: "malformed",
  },
  {
    name: "a traits reference past the table",
    wire: hex("0a 01"),
    code: "malformed",
  },
  {
    name: "a date reference past the table",
    wire: hex("08 02"),
    code: "malformed",
  },
  {
    name: "an unknown externalizable class",
    wire: hex(`0a 07 ${s3("com.example.Thing")}`),
    code: "unsupported",
  },
  {
    name: "a string longer than the data",
    wire: hex("06 09 6162"),
    code: "truncated",
  },
  {
    name: "a ByteArray longer than the data",
    wire: hex("0c bf ff ff ff 00"),
    code: "truncated",
  },
  { name: "a U29 cut short", wire: hex("04 ff ff"), code: "truncated" },
  {
    name: "a dense array of 2^27 items",
    wire: hex("09 bf ff ff ff 01"),
    code: "limit",
  },
  {
    name: "a dense array counting more than the bytes",
    wire: hex("09 81 01 01"),
    code: "truncated",
  },
  {
    name: "sealed members counting more than the bytes",
    wire: hex("0a 83 03 01"),
    code: "truncated",
  },
  {
    name: "a Vector.<Number> counting more than the bytes",
    wire: hex("0f 05 00 3ff0000000000000"),
    code: "truncated",
  },
  {
    name: "a Vector.<int> of 2^27 items",
    wire: hex("0d bf ff ff ff 00"),
    code: "limit",
  },
  {
    name: "a Dictionary counting more than the bytes",
    wire: hex("11 07 00 04 01 04 02"),
    code: "truncated",
  },
  {
    name: "dynamic members over maxItems",
    wire: hex("0a 0b 01 | 03 61 01 | 03 62 01 | 03 63 01 | 01"),
    code: "limit",
    options: { maxItems: 2 },
  },
  {
    name: "associative entries over maxItems",
    wire: hex("09 01 | 03 61 01 | 03 62 01 | 03 63 01 | 01"),
    code: "limit",
    options: { maxItems: 2 },
  },
  {
    name: "values over maxItems",
    wire: hex("01 01 01"),
    code: "limit",
    options: { maxItems: 2 },
  },
  {
    name: "strings over maxReferences",
    wire: hex("06 03 61 | 06 03 62 | 06 03 63"),
    code: "limit",
    options: { maxReferences: 2 },
  },
  {
    name: "nesting over maxDepth",
    wire: hex("09 03 01 ".repeat(4) + "01"),
    code: "limit",
    options: { maxDepth: 3 },
  },
];

for (const c of BAD) {
  Deno.test(`decodeAmf3 rejects ${c.name}`, () => {
    assert.throws(() => decodeAmf3(c.wire, c.options), (e) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.equal(e.protocol, "amf");
      assert.equal(e.code, c.code, e.message);
      assert.match(e.message, /^Cannot /);
      return true;
    });
  });
}

// AMF3 §2.2: one set of reference tables for every value of a buffer
Deno.test("decodeAmf3 lets a later value of the buffer refer to an earlier one", () => {
  // "ab" inline, then string reference 0, then object reference 0 to the first object
  const wire = hex("06 05 61 62 | 06 00 | 0a 0b 01 01 | 0a 00");
  const values = decodeAmf3(wire);
  assert.deepEqual(values.slice(0, 2), ["ab", "ab"]);
  assert.equal(values[3], values[2]);
  assert.deepEqual(decodeAmf3(encodeAmf3("ab", "ab")), ["ab", "ab"]);
  assert.deepEqual(encodeAmf3("ab", "ab"), hex("06 05 61 62 | 06 00"));
});

Deno.test("decodeAmf3 names a buffer of more than maxItems values", () => {
  assert.throws(() => decodeAmf3(hex("01 01 01"), { maxItems: 2 }), {
    name: "ProtocolError",
    message: "Cannot decode AMF3 value: buffer with more than maxItems 2",
  });
});

Deno.test("decodeAmf3 stops 100 000 nested objects at maxDepth, fast", () => {
  // each: object marker, inline dynamic traits, class "" then member "a" = next object
  const wire = repeat(hex("0a 0b 01 03 61"), 100_000);
  const t0 = performance.now();
  assert.throws(() => decodeAmf3(wire), {
    name: "ProtocolError",
    code: "limit",
  });
  assert.ok(performance.now() - t0 < 100);
});

Deno.test("decodeAmf3 keeps a __proto__ key as data, not as the prototype", () => {
  const proto = s3("__proto__");
  const evil = `0a 0b 01 ${s3("polluted")} 03 01`;
  const wires = [
    `0a 0b 01 | ${proto} ${evil} | 01`, // dynamic member
    `0a 13 01 ${proto} | ${evil}`, // sealed member
    `09 01 | ${proto} ${evil} | 01`, // associative array entry
  ];
  for (const wire of wires) {
    const [obj] = decodeAmf3(hex(wire)) as [AmfObject];
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.ok(Object.hasOwn(obj, "__proto__"));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((obj as Record<string, unknown>).polluted, undefined);
  }
});

// Round trips: arbitrary values → encodeAmf3 → decodeAmf3 gives them back

function objectOf(
  entries: [string, unknown][],
  tag?: "ecma" | string,
): AmfObject {
  const obj = tag === "ecma" ? ecmaArray() : tag ? typedObject(tag) : {};
  for (const [k, v] of entries) {
    Object.defineProperty(obj, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return obj;
}

// A small alphabet so names repeat and string and traits references get used
const key = fc.oneof(
  fc.constantFrom("a", "b", "__proto__", "constructor"),
  fc.string({ minLength: 1, maxLength: 6 }),
);
const leaf = fc.oneof(
  fc.double(),
  fc.integer({ min: -(2 ** 28), max: 2 ** 28 - 1 }),
  fc.boolean(),
  fc.oneof(
    fc.constantFrom("a", "b", ""),
    fc.string({ unit: "binary", maxLength: 20 }),
  ),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.boolean()).map(([t, e4x]) =>
    new AmfXml(t, e4x)
  ),
  fc.uint8Array({ maxLength: 8 }),
);
const { value: amf3Value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((e) =>
      objectOf(e)
    ),
    // an empty associative array is an empty Array on the wire: see encodeAmf3
    fc.array(fc.tuple(key, tie("value")), { minLength: 1, maxLength: 4 }).map((
      e,
    ) => objectOf(e, "ecma")),
    fc.tuple(
      fc.constantFrom("Foo", "Bar"),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 3 }),
    )
      .map(([name, e]) => objectOf(e, name)),
  ),
}));

Deno.test("encodeAmf3 → decodeAmf3 returns arbitrary values", () => {
  fc.assert(
    fc.property(fc.array(amf3Value, { maxLength: 4 }), (values) => {
      assert.deepEqual(decodeAmf3(encodeAmf3(...values)), values);
    }),
    { numRuns: 500 },
  );
});

Deno.test("encodeAmf3 → decodeAmf3 keeps shared children shared", () => {
  const child = { n: 1 };
  const date = new Date(0);
  const [out] = decodeAmf3(
    encodeAmf3({ a: child, b: [child], c: date, d: date }),
  ) as [AmfObject];
  assert.equal(out.a, (out.b as AmfValue[])[0]);
  assert.equal(out.c, out.d);
});

Deno.test("decodeAmf3 keeps the stage contract, encodeAmf3 returning every fixture", () => {
  checkStageContract(wholeInput((b) => decodeAmf3(b)), {
    fixtures: [
      ...CASES.map((c) => ({
        name: c.name,
        bytes: c.wire,
        expect: [c.value],
        // Mixed arrays, sealed traits, traits references, externalizable
        // wrappers, fixed-length and object vectors read as values
        // encodeAmf3 writes its own way (AMF3 §3.11, §3.12, §3.15).
        roundTrip: c.encodes === false ? "items" as const : "bytes" as const,
      })),
      {
        name: "an object with a list and a date",
        bytes: encodeAmf3({
          app: "live",
          list: [1, 2.5, "x", { app: "y" }],
          when: new Date(0),
        }),
      },
    ],
    encode: (values) => encodeAmf3(...values),
    runs: 1000,
  });
});
