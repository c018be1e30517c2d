import assert from "node:assert/strict";
import { readLoop } from "../../lib/net/read_loop.ts";

/**
 * A connection that delivers `wire` in reads of at most the buffer's size,
 * `null` at the end, and records the size of every buffer it was given.
 */
function fakeConn(wire: Uint8Array[]) {
  const sizes: number[] = [];
  const rest = wire.slice();
  return {
    sizes,
    read(p: Uint8Array): Promise<number | null> {
      sizes.push(p.length);
      const next = rest.shift();
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(p.length, next.length);
      p.set(next.subarray(0, n));
      if (n < next.length) rest.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

const bytes = (n: number, fill = 0) => new Uint8Array(n).fill(fill);

Deno.test("readLoop hands every read on as its own copy, which later reads leave alone", async () => {
  const conn = fakeConn([bytes(3, 1), bytes(3, 2)]);
  const chunks: Uint8Array[] = [];
  await readLoop(conn, (chunk) => void chunks.push(chunk), { minSize: 8 });
  assert.deepEqual(chunks, [bytes(3, 1), bytes(3, 2)]);
  assert.equal(
    chunks[0]!.buffer.byteLength,
    3,
    "a copy of exactly what was read",
  );
  assert.deepEqual(conn.sizes, [8, 8, 8], "one buffer, reused");
});

Deno.test("readLoop doubles the buffer while reads fill it, up to maxSize", async () => {
  const conn = fakeConn([bytes(1000, 7)]);
  let total = 0;
  await readLoop(conn, (chunk) => void (total += chunk.length), {
    minSize: 64,
    maxSize: 256,
  });
  assert.equal(total, 1000);
  assert.deepEqual(conn.sizes, [64, 128, 256, 256, 256, 256, 128]);
});

Deno.test("readLoop halves the buffer after reads that use a quarter of it or less", async () => {
  const conn = fakeConn([bytes(1024), bytes(10), bytes(10), bytes(10)]);
  await readLoop(conn, () => {}, { minSize: 256, maxSize: 1024 });
  assert.deepEqual(conn.sizes, [256, 512, 1024, 512, 256, 256, 256]);
});

Deno.test("readLoop stops when onData returns false", async () => {
  const conn = fakeConn([bytes(1), bytes(1), bytes(1)]);
  let reads = 0;
  await readLoop(conn, () => ++reads < 2);
  assert.equal(reads, 2);
  assert.equal(conn.sizes.length, 2);
});

Deno.test("readLoop rejects with the error of a failed read or of onData", async () => {
  const failing = { read: () => Promise.reject(new Error("Connection reset")) };
  await assert.rejects(readLoop(failing, () => {}), /Connection reset/);
  const throwing = {
    read(): Promise<number | null> {
      throw new Error("Bad resource");
    },
  };
  await assert.rejects(readLoop(throwing, () => {}), /Bad resource/);
  await assert.rejects(
    readLoop(fakeConn([bytes(1)]), () => {
      throw new RangeError("Cannot parse");
    }),
    RangeError,
  );
});

Deno.test("readLoop refuses buffer sizes that are not positive integers", () => {
  assert.throws(
    () => readLoop(fakeConn([]), () => {}, { minSize: 0 }),
    RangeError,
  );
  assert.throws(
    () => readLoop(fakeConn([]), () => {}, { minSize: 1.5 }),
    RangeError,
  );
});
