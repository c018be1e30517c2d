import assert from "node:assert/strict";
import { HandOver } from "../../lib/egress/tick.ts";

function tick(intervalMs = 100) {
  const tasks: { run(): void }[] = [];
  return {
    intervalMs,
    tasks,
    defer: (t: { run(): void }) => void tasks.push(t),
  };
}

Deno.test("HandOver defers once until the tick runs, then again for what comes after", () => {
  const t = tick();
  let handed = 0;
  const h = new HandOver(t, () => {
    handed++;
    h.handedOver();
  });
  assert.equal(h.waits, true);
  assert.equal(h.pending(10), false);
  assert.equal(h.pending(10), false);
  assert.equal(t.tasks.length, 1, "one task per tick");
  t.tasks.shift()!.run();
  assert.equal(handed, 1);
  h.pending(10);
  assert.equal(t.tasks.length, 1, "the next packet defers again");
});

Deno.test("HandOver says to hand over at a quarter of the smallest budget, counting from the last hand-over", () => {
  const t = tick();
  const h = new HandOver(t, () => {});
  assert.equal(h.pending(1 << 20), false, "no reader: no budget to guard");
  h.handedOver();
  h.joined(8000);
  h.joined(4000);
  h.joined(16000);
  assert.equal(h.pending(600), false);
  assert.equal(h.pending(399), false);
  assert.equal(h.pending(1), true, "1000 bytes: a quarter of 4000");
  h.handedOver();
  assert.equal(h.pending(999), false);
  assert.equal(t.tasks.length, 1, "an early hand-over leaves the tick's task");
});

Deno.test("HandOver without a tick, or on a tick of 0 ms, keeps nothing waiting", () => {
  assert.equal(new HandOver(undefined, () => {}).waits, false);
  assert.equal(new HandOver(tick(0), () => {}).waits, false);
});
