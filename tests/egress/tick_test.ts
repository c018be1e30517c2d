import assert from "node:assert/strict";
import { HandOver } from "../../lib/egress/tick.ts";
import { manualTick } from "../_util/manual_tick.ts";

Deno.test("HandOver keeps items until the tick, deferred once per tick, then hands them over oldest first", () => {
  const tick = manualTick();
  const handed: number[][] = [];
  const h = new HandOver<number>(tick, (items) => handed.push([...items]));
  assert.equal(h.waits, true);
  h.add(1, 10);
  h.add(2, 10);
  assert.equal(tick.waiting, 1, "one task per tick");
  assert.deepEqual(handed, []);
  tick.run();
  assert.deepEqual(handed, [[1, 2]]);
  h.add(3, 10);
  assert.equal(tick.waiting, 1, "the next item defers again");
  h.flush();
  assert.deepEqual(handed, [[1, 2], [3]], "flush hands over at once");
  tick.run();
  assert.equal(handed.length, 2, "nothing twice, nothing empty");
});

Deno.test("HandOver hands over at once at a quarter of the smallest reader's budget, counting from the last hand-over", () => {
  const tick = manualTick();
  const handed: string[][] = [];
  const h = new HandOver<string>(tick, (items) => handed.push([...items]));
  h.add("alone", 1 << 20);
  assert.equal(handed.length, 0, "no reader: no budget to guard");
  h.flush();
  for (const b of [8000, 4000, 16000]) h.joined(b);
  h.add("a", 600);
  h.add("b", 399);
  assert.equal(handed.length, 1);
  h.add("c", 1); // 1000 bytes: a quarter of 4000
  assert.deepEqual(handed[1], ["a", "b", "c"]);
  h.add("d", 999);
  assert.equal(handed.length, 2);
  assert.equal(tick.waiting, 1, "an early hand-over leaves the tick's task");
  tick.run();
  assert.deepEqual(handed[2], ["d"]);
});

Deno.test("HandOver without a tick, or on a tick of 0 ms, keeps nothing waiting", () => {
  assert.equal(new HandOver(undefined, () => {}).waits, false);
  assert.equal(new HandOver(manualTick(0), () => {}).waits, false);
});
