import assert from "node:assert/strict";
import fc from "fast-check";
import { parseRtmpUrl, rtmpPath } from "../../lib/rtmp/url.ts";

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

const URLS: [string, string, Partial<ReturnType<typeof parseRtmpUrl>>][] = [
  ["rtmp:// on the default port", "rtmp://h/live/cam1", {
    hostname: "h",
    port: 1935,
    secure: false,
    app: "live",
    name: "cam1",
    tcUrl: "rtmp://h/live",
  }],
  ["rtmps:// on 443 as ffmpeg and GStreamer assume", "rtmps://h/live/cam1", {
    port: 443,
    secure: true,
    tcUrl: "rtmps://h/live",
  }],
  ["rtmps:// on Sluice's port", "rtmps://127.0.0.1:1936/live/x?k=1", {
    hostname: "127.0.0.1",
    port: 1936,
    secure: true,
    name: "x?k=1",
    tcUrl: "rtmps://127.0.0.1:1936/live",
  }],
  ["IPv6", "rtmps://[::1]:1936/a/b", { hostname: "::1", secure: true }],
];
for (const [name, url, want] of URLS) {
  Deno.test(`parseRtmpUrl: ${name}`, () => {
    const u = parseRtmpUrl(url);
    for (const [k, v] of Object.entries(want)) {
      assert.equal(u[k as keyof typeof u], v, k);
    }
  });
}

Deno.test("parseRtmpUrl refuses other schemes and ports past 65535", () => {
  for (const url of ["http://h/a/b", "rtmpt://h/a/b", "rtmps://h:70000/a/b"]) {
    assert.throws(() => parseRtmpUrl(url), TypeError, url);
  }
});

Deno.test("parseRtmpUrl gives a URL or a TypeError for any string", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.webUrl().map((u) => u.replace(/^\w+/, "rtmps"))),
      (text) => {
        try {
          const u = parseRtmpUrl(text);
          assert.ok(u.port >= 1 && u.port <= 65535);
          assert.equal(u.secure, text.startsWith("rtmps:"));
        } catch (e) {
          assert.ok(e instanceof TypeError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});
