import assert from "node:assert/strict";
import { rtmpPath } from "../../lib/rtmp/url.ts";

const PATHS: [string, string, string, string | undefined][] = [
  ["ffmpeg and OBS: app and stream key", "live", "cam1", "live/cam1"],
  ["a query with credentials", "live", "cam1?user=u&pass=p", "live/cam1"],
  ["a query on the app (from the tcUrl)", "live?user=u", "cam1", "live/cam1"],
  ["an app instance", "live/inst", "cam1", "live/inst/cam1"],
  [
    "a percent-encoded name, as over RTSP and HTTP",
    "live",
    "caf%C3%A9",
    "live/café",
  ],
  ["an empty name", "live", "", undefined],
  ["a name of slashes", "live", "//", undefined],
  ["a parent segment in the name", "live", "../../etc/passwd", undefined],
  ["a parent segment as the app", "..", "cam1", undefined],
  ["an encoded parent segment", "live", "%2e%2e/cam1", undefined],
  ["a double-encoded slash", "live", "..%252fcam1", undefined],
  ["a backslash", "live", "..\\cam1", undefined],
  ["a NUL", "live", "cam1\0", undefined],
  ["an encoded NUL", "live", "cam1%00", undefined],
];
for (const [name, app, stream, path] of PATHS) {
  Deno.test(`rtmpPath: ${name}`, () => {
    assert.equal(rtmpPath(app, stream), path);
  });
}
