import assert from "node:assert/strict";
import { fileName } from "../../../lib/server/rtmp/vod_play.ts";

// What ffmpeg sends for rtmp://h/vod/<file>: it takes one URL folder as the
// application (two when there are more) and prefixes MP4 names with `mp4:`
// and strips `.flv`, as Flash Media Server wanted them.
const CASES: [string, string][] = [
  ["clip.mp4", "clip.mp4"],
  ["mp4:clip.mp4", "clip.mp4"],
  ["clip", "clip.flv"],
  ["flv:clip", "clip.flv"],
  [
    "rec/mp4:live/cam/2026-12-04_10-15-00-000000.mp4",
    "rec/live/cam/2026-12-04_10-15-00-000000.mp4",
  ],
  [
    "rec/live/cam/2026-12-04_10-15-00-000000",
    "rec/live/cam/2026-12-04_10-15-00-000000.flv",
  ],
  ["a/b/mp4:c.mp4", "a/b/mp4:c.mp4"],
];

for (const [name, file] of CASES) {
  Deno.test(`fileName reads RTMP stream name ${name}`, () => {
    assert.equal(fileName(name), file);
  });
}
