/**
 * The base64 of a tunnel's POST body (RFC 4648 §4): requests each encoded
 * on their own, so padding comes mid-stream, cut anywhere by TCP.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { Base64Decoder, encodeBase64 } from "../../lib/rtsp/base64.ts";
import { ascii, collect, splitsOf } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

/** Everything `parts` decode to, pushed in order. */
function decodeParts(parts: Uint8Array[]): Uint8Array {
  const d = new Base64Decoder();
  const out = collect<Uint8Array>();
  for (const p of parts) d.push(p, out);
  d.end();
  return concat(out.items);
}

const OPTIONS = "OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\n\r\n";
const DESCRIBE =
  "DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n";

const GET_PARAMETER = "GET_PARAMETER x RTSP/1.0\r\n\r\n";
/** Each request encoded on its own, then joined, as a client's POST body carries them. */
const body = (...requests: string[]) =>
  concat(requests.map((r) => encodeBase64(ascii(r))));
const FIXTURES = [
  { name: "one request", bytes: body(OPTIONS) },
  {
    name: "two requests, padding between them",
    bytes: body(DESCRIBE, OPTIONS),
  },
  {
    name: "three requests, one and two padding characters",
    bytes: body(OPTIONS, DESCRIBE, GET_PARAMETER),
  },
];

Deno.test("encodeBase64 writes what btoa writes, for every length 0 to 64", () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    const want = btoa(String.fromCharCode(...bytes));
    assert.equal(new TextDecoder().decode(encodeBase64(bytes)), want);
  }
});

Deno.test("Base64Decoder decodes requests encoded one by one, at every split point", () => {
  const requests = [OPTIONS, DESCRIBE, GET_PARAMETER];
  // Lengths 3n, 3n + 2 and 3n + 1: no padding, "=" and "==" after them.
  assert.deepEqual(requests.map((r) => r.length % 3), [0, 2, 1]);
  const wire = concat(requests.map((r) => encodeBase64(ascii(r))));
  assert.match(new TextDecoder().decode(wire), /=[^=]/, "padding mid-stream");
  for (const parts of splitsOf(wire, 0)) {
    assert.equal(
      new TextDecoder().decode(decodeParts(parts)),
      requests.join(""),
    );
  }
});

Deno.test("Base64Decoder skips CR, LF, space and tab between characters", () => {
  assert.deepEqual(
    decodeParts([ascii("T1BU\r\nSU9O\tUw = = ")]),
    ascii("OPTIONS"),
  );
});

const BAD = [
  { name: "a byte outside the alphabet", text: "T1B*" },
  { name: "a character after padding", text: "T1=B" },
  { name: "padding as the second character", text: "T===" },
  { name: "padding as the first character", text: "====" },
  { name: "a URL-safe character", text: "T1B-" },
];
for (const b of BAD) {
  Deno.test(`Base64Decoder rejects ${b.name}`, () => {
    assert.throws(() => decodeParts([ascii(b.text)]), {
      name: "ProtocolError",
      code: "malformed",
    });
  });
}

Deno.test("Base64Decoder rejects input that ends inside a quantum", () => {
  assert.throws(() => decodeParts([ascii("T1BUSU9")]), {
    name: "ProtocolError",
    code: "truncated",
  });
});

Deno.test("Base64Decoder: any requests, each encoded alone, cut anywhere, decode to their bytes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (requests, cuts) => {
        const wire = concat(requests.map((r) => encodeBase64(r)));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))]
          .sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let at = 0;
        for (const p of points) {
          parts.push(wire.subarray(at, p));
          at = p;
        }
        parts.push(wire.subarray(at));
        assert.deepEqual(decodeParts(parts), concat(requests));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Base64Decoder: any bytes give bytes or a ProtocolError, never more than 3 bytes per 4 characters", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }),
      (parts) => {
        const d = new Base64Decoder();
        let out = 0;
        let taken = 0;
        try {
          for (const p of parts) {
            d.push(p, { enqueue: (b) => out += b.length });
            taken += p.length;
            assert.ok(out <= Math.floor(taken / 4) * 3);
          }
        } catch (e) {
          assert.equal((e as Error).name, "ProtocolError");
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("Base64Decoder keeps the stage contract", () => {
  checkStageContract(() => new Base64Decoder(), {
    fixtures: FIXTURES,
    // Chunks of output follow the input's cuts: compare the bytes.
    normalize: (items) => concat(items),
    encode: (items) => encodeBase64(concat(items)),
    roundTrip: "items",
  });
});
