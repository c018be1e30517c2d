import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cutVodSpans,
  MAX_VOD_SEGMENTS,
  renderVodPlaylist,
} from "../../lib/vod/hls_index.ts";

Deno.test("cutVodSpans: 1 s GOPs, 1 s target: one segment per GOP to the file's end", () => {
  const spans = cutVodSpans([0, 1, 2, 3, 4, 5], 6, 1);
  assert.deepEqual(spans.map((s) => [s.start, s.end]), [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 6],
  ]);
});

Deno.test("cutVodSpans: GOPs shorter than the target are joined, longer ones stay whole", () => {
  assert.deepEqual(
    cutVodSpans([0, 0.5, 1, 1.5, 2, 2.5], 3, 1).map((s) => s.start),
    [0, 1, 2],
  );
  assert.deepEqual(
    cutVodSpans([0, 4, 10], 12, 2).map((s) => [s.start, s.end]),
    [[0, 4], [4, 10], [10, 12]],
  );
});

Deno.test("cutVodSpans: audio only is cut every target duration", () => {
  assert.deepEqual(
    cutVodSpans([], 2.5, 1).map((s) => [s.start, s.end]),
    [[0, 1], [1, 2], [2, 2.5]],
  );
  assert.deepEqual(cutVodSpans([], 0, 1), [{ start: 0, end: 0 }]);
});

Deno.test("cutVodSpans: any index gives contiguous keyframe-aligned spans, bounded in count", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -5, max: 5000, noNaN: true }), {
        maxLength: 300,
      }),
      fc.oneof(
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.constantFrom(NaN, Infinity, -1),
      ),
      fc.double({ min: -1, max: 20, noNaN: true }),
      (raw, duration, target) => {
        const keys = [...raw].sort((a, b) => a - b);
        const spans = cutVodSpans(keys, duration, target);
        assert.ok(spans.length >= 1 && spans.length <= MAX_VOD_SEGMENTS + 1);
        const d = Number.isFinite(duration) ? Math.max(0, duration) : 0;
        const usable = keys.filter((k) => k >= 0 && k < d - 1e-6);
        for (const [i, s] of spans.entries()) {
          assert.ok(s.end >= s.start && Number.isFinite(s.end));
          if (i > 0) assert.equal(s.start, spans[i - 1]!.end);
          if (usable.length > 0) assert.ok(keys.includes(s.start));
          if (i < spans.length - 1 && target > 0) {
            assert.ok(s.end - s.start >= target - 1e-6);
          }
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("cutVodSpans: a huge file with a tiny target stays within the segment bound", () => {
  assert.ok(cutVodSpans([], 1e7, 0.001).length <= MAX_VOD_SEGMENTS + 1);
});

Deno.test("renderVodPlaylist: RFC 8216 VOD playlist with map, target duration and end", () => {
  const text = renderVodPlaylist({
    spans: cutVodSpans([0, 2, 4.5], 6, 2),
    uri: (i) => `t_${i}.mp4`,
    mapUri: "t_init.mp4",
  });
  assert.equal(
    text,
    [
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      "#EXT-X-TARGETDURATION:3",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXT-X-PLAYLIST-TYPE:VOD",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-MAP:URI="t_init.mp4"',
      "#EXTINF:2.0,",
      "t_0.mp4",
      "#EXTINF:2.5,",
      "t_1.mp4",
      "#EXTINF:1.5,",
      "t_2.mp4",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n"),
  );
  const ts = renderVodPlaylist({
    spans: [{ start: 0, end: 1 }],
    uri: () => "a.ts",
  });
  assert.match(ts, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.doesNotMatch(ts, /EXT-X-MAP/);
});
