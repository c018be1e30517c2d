import assert from "node:assert/strict";
import {
  RecordIndex,
  type SegmentEntry,
} from "../../lib/record/record_index.ts";
import { parseTime } from "../../lib/server/http/playback.ts";
import { parseRange } from "../../lib/server/http/playback_get.ts";

function seg(startMs: number, durationMs: number): SegmentEntry {
  return {
    path: "live/a",
    file: `/r/${startMs}.mp4`,
    format: "fmp4",
    startMs,
    durationMs,
    open: false,
  };
}

Deno.test("RecordIndex merges segments that meet and keeps gaps", () => {
  const index = new RecordIndex();
  // Added out of order: kept in start order.
  for (
    const s of [
      seg(8000, 4000),
      seg(0, 4000),
      seg(4000, 4000),
      seg(20000, 2000),
      seg(12500, 1000),
    ]
  ) {
    index.add(s);
  }
  assert.deepEqual(index.timespans("live/a"), [
    { startMs: 0, durationMs: 13500 }, // 12000 → 12500 is within the tolerance
    { startMs: 20000, durationMs: 2000 },
  ]);
  assert.deepEqual(index.timespans("live/a", 3000, 21000), [
    { startMs: 3000, durationMs: 10500 },
    { startMs: 20000, durationMs: 1000 },
  ]);
  assert.deepEqual(index.segments("live/a", 3000, 5000).map((s) => s.startMs), [
    0,
    4000,
  ]);
  assert.deepEqual(index.timespans("live/b"), []);
  index.remove(index.segments("live/a", 4000, 4001)[0]!);
  assert.equal(index.timespans("live/a").length, 3);
});

Deno.test("parseTime reads RFC 3339 and epoch seconds, nothing else", () => {
  assert.equal(parseTime("2026-12-04T09:00:00Z"), Date.UTC(2026, 11, 4, 9));
  assert.equal(
    parseTime("2026-12-04T10:00:00.5+01:00"),
    Date.UTC(2026, 11, 4, 9) + 500,
  );
  assert.equal(
    parseTime("2026-12-04T10:00:00 01:00"),
    Date.UTC(2026, 11, 4, 9),
  ); // "+" read as a space
  assert.equal(parseTime("1764838800"), 1764838800000);
  for (const bad of ["", "yesterday", "2026-12-04", "NaN", "-5", "1e309"]) {
    assert.equal(parseTime(bad), undefined, bad);
  }
});

Deno.test("parseRange: one bytes range within the size, 416 past the end", () => {
  assert.equal(parseRange(null, 100), undefined);
  assert.deepEqual(parseRange("bytes=0-9", 100), [0, 9]);
  assert.deepEqual(parseRange("bytes=90-", 100), [90, 99]);
  assert.deepEqual(parseRange("bytes=90-500", 100), [90, 99]);
  assert.deepEqual(parseRange("bytes=-10", 100), [90, 99]);
  assert.deepEqual(parseRange("bytes=-1000", 100), [0, 99]);
  assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 100), "unsatisfiable");
  assert.equal(parseRange("bytes=5-1", 100), undefined);
  assert.equal(parseRange("bytes=0-1,5-6", 100), undefined);
  assert.equal(parseRange("items=0-1", 100), undefined);
  assert.equal(parseRange("bytes=-", 100), undefined);
});
