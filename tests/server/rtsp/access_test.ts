import assert from "node:assert/strict";
import fc from "fast-check";
import { pathOf, queryLast } from "../../../lib/server/rtsp/access.ts";

const CASES: [string, string][] = [
  ["rtsp://h/live/a?jwt=T/trackID=0", "rtsp://h/live/a/trackID=0?jwt=T"],
  ["rtsp://h/live/a?jwt=T/", "rtsp://h/live/a/?jwt=T"],
  ["rtsp://h/live/a?jwt=T", "rtsp://h/live/a?jwt=T"],
  ["rtsp://h/live/a/trackID=1", "rtsp://h/live/a/trackID=1"],
];
for (const [url, expected] of CASES) {
  Deno.test(`queryLast: ffmpeg's ${url}`, () => {
    assert.equal(queryLast(url), expected);
  });
}

Deno.test("queryLast keeps every character and leaves no slash after the query", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (url) => {
      const out = queryLast(url);
      assert.equal([...out].sort().join(""), [...url].sort().join(""));
      const q = out.indexOf("?");
      if (q >= 0 && url.slice(url.indexOf("?")).includes("/")) {
        assert.ok(!out.slice(q).includes("/"), out);
      }
    }),
    { numRuns: 2000 },
  );
  assert.equal(pathOf("rtsp://h/live/a?jwt=T/trackID=0"), "live/a/trackID=0");
});
