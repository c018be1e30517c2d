import assert from "node:assert/strict";
import { GopCache } from "../../lib/hub/gop_cache.ts";

/** Pushes `[item, keyframe, size]` triples. */
function fill(
  cache: GopCache<string>,
  items: [string, boolean, number][],
): void {
  for (const [item, key, size] of items) cache.push(item, key, size);
}

Deno.test("GopCache keeps nothing before the first keyframe", () => {
  const cache = new GopCache<string>();
  fill(cache, [["p1", false, 10], ["p2", false, 10]]);
  assert.deepEqual(cache.items, []);
  assert.equal(cache.bytes, 0);
});

Deno.test("GopCache keeps the open GOP from its keyframe, with its bytes", () => {
  const cache = new GopCache<string>();
  fill(cache, [
    ["p0", false, 5],
    ["i1", true, 100],
    ["p1", false, 10],
    ["a1", false, 3],
  ]);
  assert.deepEqual(cache.items, ["i1", "p1", "a1"]);
  assert.equal(cache.bytes, 113);
});

Deno.test("GopCache: a keyframe starts a new GOP and frees the old one", () => {
  const cache = new GopCache<string>();
  fill(cache, [["i1", true, 100], ["p1", false, 10], ["i2", true, 80]]);
  assert.deepEqual(cache.items, ["i2"]);
  assert.equal(cache.bytes, 80);
  cache.push("p2", false, 7);
  assert.deepEqual(cache.items, ["i2", "p2"]);
  assert.equal(cache.bytes, 87);
});

Deno.test("GopCache drops a GOP that grows past maxBytes until the next keyframe", () => {
  const cache = new GopCache<string>({ maxBytes: 100 });
  fill(cache, [["i1", true, 60], ["p1", false, 40]]); // exactly the bound: kept
  assert.deepEqual(cache.items, ["i1", "p1"]);
  assert.equal(cache.bytes, 100);
  cache.push("p2", false, 1); // one byte over: the whole GOP goes
  assert.deepEqual(cache.items, []);
  assert.equal(cache.bytes, 0);
  // The rest of that GOP is not cached either: a reader could not decode it.
  fill(cache, [["p3", false, 1], ["p4", false, 1]]);
  assert.deepEqual(cache.items, []);
  cache.push("i2", true, 50);
  assert.deepEqual(cache.items, ["i2"]);
  assert.equal(cache.bytes, 50);
});

Deno.test("GopCache keeps nothing of a keyframe bigger than maxBytes", () => {
  // A camera that sends one huge keyframe and then only P-frames cannot grow memory.
  const cache = new GopCache<string>({ maxBytes: 100 });
  cache.push("i1", true, 101);
  cache.push("p1", false, 1);
  assert.deepEqual(cache.items, []);
  assert.equal(cache.bytes, 0);
});

Deno.test("GopCache maxBytes defaults to 32 MiB", () => {
  const cache = new GopCache<string>();
  cache.push("i1", true, 32 * 1024 * 1024);
  assert.equal(cache.items.length, 1);
  cache.push("p1", false, 1);
  assert.equal(cache.items.length, 0);
});

Deno.test("GopCache clear forgets everything until the next keyframe", () => {
  const cache = new GopCache<string>();
  fill(cache, [["i1", true, 10], ["p1", false, 10]]);
  cache.clear();
  assert.deepEqual(cache.items, []);
  assert.equal(cache.bytes, 0);
  cache.push("p2", false, 10); // a new publisher's first frames before its keyframe
  assert.deepEqual(cache.items, []);
  cache.push("i2", true, 10);
  assert.deepEqual(cache.items, ["i2"]);
});
