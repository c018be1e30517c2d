import assert from "node:assert/strict";
import { Recorder } from "../../lib/record/recorder.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { createLogger } from "../../lib/log.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { readFmp4 } from "../../lib/record/fmp4_read.ts";
import { aacTrack, h264Track } from "../mp4/_tracks.ts";
import type { SegmentCompleteEvent } from "../../lib/events/events.ts";

const HOUR = 3_600_000;

/** A Recorder on a temporary folder, with a clock the test sets. */
async function setup(overrides: Record<string, unknown> = {}) {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const completed: SegmentCompleteEvent[] = [];
  let now = Date.UTC(2026, 11, 4, 12);
  const recorder = new Recorder({
    config: parseConfig({
      record: true,
      recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
      recordSegmentDuration: "2s",
      recordPartDuration: "500ms",
      ...overrides,
    }),
    log: createLogger({ write: (l) => void lines.push(l) }),
    now: () => now,
    onSegmentComplete: (segment) => void completed.push(segment),
  });
  return {
    dir,
    recorder,
    lines,
    completed,
    setNow: (ms: number) => void (now = ms),
    now: () => now,
    [Symbol.asyncDispose]: async () => {
      await recorder.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Publishes `seconds` of 25 fps H.264 + AAC on `path` through a hub that records. */
async function record(r: Recorder, path: string, seconds: number) {
  const hub = new Hub({ onPublish: (s, o) => r.onPublish(s, o.record) });
  const video = h264Track("h264_1920x1080.h264", 0);
  const p = hub.publish(path);
  p.setTracks([video, aacTrack(1)]);
  for (let i = 0; i < seconds * 25; i++) {
    const unit = new Uint8Array(100).fill(i & 0xff);
    unit[0] = i % 25 === 0 ? 0x65 : 0x41;
    p.writeFrame({
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600,
      keyframe: i % 25 === 0,
      units: [unit],
    });
    p.writeFrame({
      trackId: 1,
      dts: i * 1920,
      pts: i * 1920,
      keyframe: true,
      units: [new Uint8Array(30)],
    });
  }
  p.close();
  hub.close();
  await r.settled();
}

Deno.test("Recorder writes segments, logs each one complete, and a new start indexes them from the folder", async () => {
  await using t = await setup();
  await record(t.recorder, "live/a", 5);
  const written = t.recorder.index.segments("live/a");
  assert.equal(written.length, 3);
  assert.equal(t.lines.filter((l) => l.includes("segment complete")).length, 3);
  assert.deepEqual(written.map((s) => s.durationMs), [2000, 2000, 1000]);
  assert.equal(t.recorder.stats.segmentsCompleted, 3);
  // Each closed segment is a segment.complete event with its file and size.
  assert.deepEqual(
    t.completed.map((e) => [e.path, e.file, e.durationMs]).sort(),
    written.map((s) => ["live/a", s.file, s.durationMs]).sort(),
  );
  for (const e of t.completed) {
    assert.equal(e.bytes, (await Deno.stat(e.file)).size);
    assert.equal(Date.parse(e.start) > 0, true);
  }

  const again = new Recorder({
    config: parseConfig({
      recordPath: `${t.dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
      recordDeleteAfter: 0,
    }),
    log: createLogger({ write: () => {} }),
  });
  await again.start();
  const found = again.index.segments("live/a");
  assert.deepEqual(
    found.map((s) => [s.file, s.startMs, s.durationMs]),
    written.map((s) => [s.file, s.startMs, s.durationMs]),
  );
  assert.deepEqual(again.index.timespans("live/a"), [{
    startMs: written[0]!.startMs,
    durationMs: 5000,
  }]);
  await again.close();
});

Deno.test("Recorder deletes segments older than recordDeleteAfter and keeps the rest", async () => {
  await using t = await setup({ recordDeleteAfter: "1h" });
  t.setNow(Date.UTC(2026, 11, 4, 9));
  await record(t.recorder, "live/old", 3);
  t.setNow(Date.UTC(2026, 11, 4, 12));
  await record(t.recorder, "live/new", 3);
  const old = t.recorder.index.segments("live/old").map((s) => s.file);
  assert.equal(old.length, 2);
  t.setNow(Date.UTC(2026, 11, 4, 12) + HOUR / 2);
  await t.recorder.deleteOld();
  assert.equal(t.recorder.index.segments("live/old").length, 0);
  assert.equal(t.recorder.index.segments("live/new").length, 2);
  for (const f of old) await assert.rejects(Deno.stat(f), Deno.errors.NotFound);
  assert.equal(t.recorder.stats.segmentsDeleted, 2);
});

Deno.test("Recorder records nothing for a path that does not record and was not asked to", async () => {
  await using t = await setup({
    record: false,
    paths: { "live/on": { record: true } },
  });
  await record(t.recorder, "live/off", 3);
  assert.equal(t.recorder.index.segments("live/off").length, 0);
  await record(t.recorder, "live/on", 3);
  assert.equal(t.recorder.index.segments("live/on").length, 2);
});

Deno.test("Recorder: a frame stamped hours off never becomes a sample hours long", async () => {
  await using t = await setup({ recordSegmentDuration: "1h" });
  const hub = new Hub({
    onPublish: (s, o) => t.recorder.onPublish(s, o.record),
  });
  const p = hub.publish("live/jump");
  p.setTracks([h264Track("h264_1920x1080.h264", 0)]);
  for (let i = 0; i < 75; i++) {
    // Frame 40 comes stamped three hours later, then the clock goes on as before.
    const dts = i * 3600 + (i === 40 ? 3 * 3600 * 90000 : 0);
    const unit = new Uint8Array(50).fill(1);
    unit[0] = i % 25 === 0 ? 0x65 : 0x41;
    p.writeFrame({
      trackId: 0,
      dts,
      pts: dts,
      keyframe: i % 25 === 0,
      units: [unit],
    });
  }
  p.close();
  hub.close();
  await t.recorder.settled();
  const [seg] = t.recorder.index.segments("live/jump");
  assert.ok(seg !== undefined);
  assert.ok(seg.durationMs < 4000, `${seg.durationMs} ms`);
  using f = await Deno.open(seg.file);
  const { samples } = await readFmp4(f);
  assert.equal(samples.length, 75);
  const longest = Math.max(...samples.map((s) => s.duration));
  assert.ok(longest <= 2 * 3600, `longest sample ${longest / 90} ms`);
});

for (const recordFsync of ["part", 3] as const) {
  Deno.test(`Recorder with recordFsync ${recordFsync} writes the same complete segments`, async () => {
    await using t = await setup({ recordFsync });
    await record(t.recorder, "live/sync", 3);
    const segs = t.recorder.index.segments("live/sync");
    assert.deepEqual(segs.map((s) => s.durationMs), [2000, 1000]);
    for (const s of segs) {
      using f = await Deno.open(s.file);
      const { samples } = await readFmp4(f);
      assert.equal(
        samples.filter((x) => x.trackId === 1).length,
        s.durationMs / 40,
      );
    }
  });
}
