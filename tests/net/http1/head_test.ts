/**
 * The HTTP/1.1 request-head parser and the chunked decoder: valid heads
 * parse the same however they are split, hostile heads get their 4xx/5xx,
 * and no input throws.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_HEAD_LIMITS,
  parseRequestHead,
  type RequestHead,
} from "../../../lib/net/http1/head.ts";
import { ChunkedDecoder } from "../../../lib/net/http1/chunked.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function parsed(s: string): RequestHead {
  const h = parseRequestHead(enc(s));
  assert.ok(h !== undefined && !("status" in h), `${s}: ${JSON.stringify(h)}`);
  return h;
}

function refused(s: string): number {
  const h = parseRequestHead(enc(s));
  assert.ok(h !== undefined && "status" in h, `${JSON.stringify(s)} parsed`);
  return h.status;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9._~%/-]{0,60}$/);

/** A valid request head with its fields. */
const validHead = fc.record({
  method: fc.constantFrom("GET", "POST", "HEAD", "OPTIONS", "PUT"),
  target: path,
  fields: fc.array(fc.tuple(token, value), { maxLength: 10 }).map((fs) =>
    fs.filter(([n]) =>
      !["host", "content-length", "transfer-encoding", "expect", "connection"]
        .includes(n.toLowerCase())
    )
  ),
  length: fc.nat(100_000),
});

Deno.test("HTTP/1.1 head: a valid head parses the same split at every byte", () => {
  fc.assert(
    fc.property(validHead, ({ method, target, fields, length }) => {
      const text = `${method} ${target} HTTP/1.1\r\nHost: h:1\r\n` +
        fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
        `Content-Length: ${length}\r\n\r\nBODY`;
      const bytes = enc(text);
      const whole = parsed(text);
      assert.equal(whole.method, method);
      assert.equal(whole.target, target);
      assert.equal(whole.host, "h:1");
      assert.equal(whole.contentLength, length);
      assert.equal(whole.size, bytes.length - 4);
      assert.equal(whole.fields.length, fields.length + 2);
      for (let i = 0; i < whole.size; i++) {
        assert.equal(parseRequestHead(bytes.subarray(0, i)), undefined);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("HTTP/1.1 head: random bytes never throw and give a head, an error or a wait", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const h = parseRequestHead(bytes);
      if (h !== undefined && "status" in h) {
        assert.ok([400, 414, 431, 501, 505].includes(h.status));
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("HTTP/1.1 head: what smuggles or breaks framing is refused", () => {
  const host = "Host: h\r\n";
  const cases: [string, number][] = [
    [`GET / HTTP/1.1\r\n\r\n`, 400], // no Host
    [`GET / HTTP/1.1\r\n${host}Host: g\r\n\r\n`, 400],
    [
      `POST / HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
      400,
    ],
    [
      `POST / HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`,
      400,
    ],
    [`POST / HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`, 400],
    [`POST / HTTP/1.1\r\n${host}Content-Length: 0x10\r\n\r\n`, 400],
    [`POST / HTTP/1.1\r\n${host}Content-Length: 1,1\r\n\r\n`, 400],
    [`POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
    [`POST / HTTP/1.1\r\n${host}Transfer-Encoding: identity\r\n\r\n`, 501],
    [`POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${host}X: a\r\n folded\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${host}X : a\r\n\r\n`, 400],
    [`GET / HTTP/1.1\n${host}\n`, 400],
    [`GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n`, 400],
    [`GET / HTTP/1.1\r\n${host}X: a\x00b\r\n\r\n`, 400],
    [`GET  / HTTP/1.1\r\n${host}\r\n`, 400],
    [`GET / HTTP/2.0\r\n${host}\r\n`, 505],
    [`GET / HTTP/1.2\r\n${host}\r\n`, 505],
    [`GET / HTTP/1.1x\r\n${host}\r\n`, 400],
    [`GET / HTTP/1.\r\n${host}\r\n`, 400],
    [`GET / http/1.1\r\n${host}\r\n`, 400],
    [`GET / HTTP/1.1 \r\n${host}\r\n`, 400],
    [`G\x01T / HTTP/1.1\r\n${host}\r\n`, 400],
    [`GET / HTTP/1.1\r\n${host}Expect: 200-ok\r\n\r\n`, 400],
    [`GET /${"a".repeat(9000)} HTTP/1.1\r\n${host}\r\n`, 414],
    [`GET / HTTP/1.1\r\n${host}X: ${"a".repeat(17000)}\r\n\r\n`, 431],
    [`GET / HTTP/1.1\r\n${host}${"X: 1\r\n".repeat(101)}\r\n`, 431],
  ];
  for (const [text, status] of cases) {
    assert.equal(refused(text), status, JSON.stringify(text.slice(0, 80)));
  }
  // Too long without an end: refused before the end arrives.
  assert.equal(refused(`GET /${"a".repeat(9000)}`), 414);
  assert.equal(refused(`GET / HTTP/1.1\r\nX: ${"a".repeat(17000)}`), 431);
});

Deno.test("HTTP/1.1 head: connection handling, HTTP/1.0, Expect, empty lines before", () => {
  const a = parsed("\r\nGET /a?b=1 HTTP/1.0\r\n\r\n");
  assert.equal(a.minor, 0);
  assert.equal(a.close, true);
  assert.equal(a.host, undefined);
  assert.equal(a.target, "/a?b=1");
  const b = parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  assert.equal(b.close, false);
  const c = parsed("GET / HTTP/1.1\r\nHost: h\r\nConnection: x, close\r\n\r\n");
  assert.equal(c.close, true);
  const d = parsed(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n" +
      "Expect: 100-Continue\r\n\r\n",
  );
  assert.equal(d.chunked, true);
  assert.equal(d.expectContinue, true);
  assert.equal(d.close, false);
  const e = parsed("GET / HTTP/1.1\r\nHost: h\r\nX-Tab:\tv \t\r\n\r\n");
  assert.deepEqual(e.fields[1], ["x-tab", "v"]);
  assert.equal(DEFAULT_HEAD_LIMITS.maxFields, 100);
});

Deno.test("HTTP/1.1 head: field values and targets come back one character per byte, obs-text included", () => {
  const obsValue = fc.array(
    fc.oneof(
      fc.integer({ min: 0x21, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
    ),
    { minLength: 1, maxLength: 5000 },
  );
  fc.assert(
    fc.property(obsValue, path, (bytes, target) => {
      const head = Uint8Array.from([
        ...enc(`GET ${target} HTTP/1.1\r\nHost: h\r\nX-Any: `),
        ...bytes,
        ...enc("\r\n\r\n"),
      ]);
      const h = parseRequestHead(head);
      assert.ok(h !== undefined && !("status" in h));
      assert.equal(h.target, target);
      assert.equal(h.minor, 1);
      assert.deepEqual(h.fields[1], ["x-any", String.fromCharCode(...bytes)]);
    }),
  );
});

/** `body` chunk-coded in pieces of the given sizes. */
function chunkCoded(body: Uint8Array, sizes: number[]): Uint8Array {
  let out = "";
  // One char per byte (TextDecoder's latin1 is windows-1252, not this).
  const dec = { decode: (b: Uint8Array) => String.fromCharCode(...b) };
  let at = 0;
  for (const size of sizes) {
    const n = Math.min(size, body.length - at);
    if (n <= 0) break;
    out += `${n.toString(16)};ext=1\r\n${
      dec.decode(body.subarray(at, at + n))
    }\r\n`;
    at += n;
  }
  if (at < body.length) {
    out += `${(body.length - at).toString(16)}\r\n${
      dec.decode(body.subarray(at))
    }\r\n`;
  }
  out += "0\r\nTrailer: x\r\n\r\nNEXT";
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

Deno.test("HTTP/1.1 chunked: any body decodes the same split at every byte, and stops at its end", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 50 }),
      (body, sizes, step) => {
        const wire = chunkCoded(body, sizes);
        const d = new ChunkedDecoder(1000);
        let used = 0;
        let done = false;
        for (let at = 0; at < wire.length && !done; at += step) {
          const r = d.push(wire.subarray(at, Math.min(at + step, wire.length)));
          assert.ok(!("status" in r), JSON.stringify(r));
          used = at + r.used;
          done = r.done;
        }
        assert.ok(done);
        assert.equal(new TextDecoder().decode(wire.subarray(used)), "NEXT");
        const got = new Uint8Array(d.size);
        let k = 0;
        for (const p of d.parts) {
          got.set(p, k);
          k += p.length;
        }
        assert.deepEqual(got, body);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("HTTP/1.1 chunked: broken or oversized codings are refused", () => {
  const push = (s: string, max = 100) => new ChunkedDecoder(max).push(enc(s));
  assert.deepEqual(push("zz\r\n"), {
    status: 400,
    reason: "invalid chunk size",
  });
  assert.equal((push("3\r\nabcd\r\n") as { status: number }).status, 400);
  assert.equal((push("3\nabc\r\n") as { status: number }).status, 400);
  assert.equal((push("65\r\n") as { status: number }).status, 413);
  assert.equal(
    (push("fffffffffffffffff\r\n", 1e9) as { status: number }).status,
    413,
  );
  assert.equal(
    (push(`1;${"x".repeat(5000)}\r\n`) as { status: number }).status,
    400,
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      new ChunkedDecoder(100).push(bytes);
    }),
    { numRuns: 1000 },
  );
});
