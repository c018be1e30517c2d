import assert from "node:assert/strict";
import { rescale, TimestampRepair, Unwrapper32 } from "../../lib/media/time.ts";

Deno.test("Unwrapper32 keeps counting across the 2^32 wrap", () => {
  const u = new Unwrapper32();
  assert.equal(u.unwrap(0xfffffff0), 0xfffffff0);
  assert.equal(u.unwrap(0x00000010), 0x100000010);
  assert.equal(u.unwrap(0x00000008), 0x100000008); // a small step back stays small
});

Deno.test("rescale converts milliseconds to 90 kHz ticks", () => {
  assert.equal(rescale(40, 1000, 90000), 3600);
  assert.equal(rescale(3600, 90000, 1000), 40);
});

Deno.test("TimestampRepair absorbs a backwards step and a jump of hours", () => {
  const r = new TimestampRepair(1000);
  assert.deepEqual([0, 40, 80].map((t) => r.dts(t)), [0, 40, 80]);
  assert.equal(r.dts(20), 120); // backwards: one step after the last output
  assert.equal(r.dts(60), 160);
  assert.equal(r.dts(60 + 3 * 3600_000), 200); // a frame stamped hours off
  assert.equal(r.dts(60 + 3 * 3600_000 + 40), 240);
  assert.equal(r.repairs, 2);
});

Deno.test("TimestampRepair continues after rebase with one step", () => {
  const r = new TimestampRepair(1000);
  r.dts(1000);
  r.dts(1040);
  r.rebase();
  assert.equal(r.dts(0), 1080);
  assert.equal(r.dts(40), 1120);
});
