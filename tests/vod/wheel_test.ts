import assert from "node:assert/strict";
import { type IntervalHandle, VodWheel } from "../../lib/vod/wheel.ts";

function fakeClock() {
  let now = 0;
  let fn: (() => void) | undefined;
  let intervals = 0;
  return {
    clock: {
      now: () => now,
      setInterval: (f: () => void) => {
        fn = f;
        intervals++;
        return 1 as unknown as IntervalHandle;
      },
      clearInterval: () => {
        fn = undefined;
      },
    },
    advance(ms: number) {
      for (let i = 0; i < ms; i += 10) {
        now += 10;
        fn?.();
      }
    },
    get running() {
      return fn !== undefined;
    },
    get intervals() {
      return intervals;
    },
  };
}

Deno.test("VodWheel: one interval wakes every task at its time, then stops", () => {
  const c = fakeClock();
  const wheel = new VodWheel({ tickMs: 10, clock: c.clock });
  const woke: [number, number][] = [];
  for (let i = 0; i < 300; i++) {
    const task = { wake: (now: number) => woke.push([i, now]) };
    wheel.schedule(task, 5 + i);
  }
  assert.equal(c.intervals, 1);
  c.advance(400);
  assert.equal(woke.length, 300);
  for (const [i, now] of woke) {
    assert.ok(now >= 5 + i && now < 5 + i + 20, `task ${i} woke at ${now}`);
  }
  assert.equal(c.running, false, "no timer while nothing waits");
});

Deno.test("VodWheel: a cancelled or rescheduled task wakes once, at its last time", () => {
  const c = fakeClock();
  const wheel = new VodWheel({ clock: c.clock });
  let a = 0;
  let b = 0;
  const ta = { wake: () => a++ };
  const tb = { wake: () => b++ };
  wheel.schedule(ta, 50);
  wheel.schedule(tb, 50);
  wheel.cancel(ta);
  wheel.schedule(tb, 200);
  c.advance(100);
  assert.equal(a, 0);
  assert.equal(b, 0);
  c.advance(200);
  assert.equal(b, 1);
});

Deno.test("VodWheel: a task that throws does not stop the others", () => {
  const c = fakeClock();
  const wheel = new VodWheel({ clock: c.clock });
  let ok = 0;
  wheel.schedule({
    wake: () => {
      throw new Error("bad reader");
    },
  }, 10);
  wheel.schedule({ wake: () => ok++ }, 10);
  c.advance(50);
  assert.equal(ok, 1);
});
