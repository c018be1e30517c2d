import assert from "node:assert/strict";
import { RtspHeaders } from "../../lib/rtsp/message.ts";
import {
  baseUrl,
  matchPath,
  resolveControl,
  rtspPath,
  sameResource,
} from "../../lib/rtsp/url.ts";

// RFC 2326 §C.1.1, as ffmpeg and live555 build SETUP URLs
const CONTROLS: [string, string, string | undefined, string][] = [
  [
    "a relative control after a trailing slash",
    "rtsp://h:554/live/cam/",
    "trackID=0",
    "rtsp://h:554/live/cam/trackID=0",
  ],
  [
    "ffmpeg: a relative control without a trailing slash",
    "rtsp://127.0.0.1:8561/live/cam",
    "streamid=0",
    "rtsp://127.0.0.1:8561/live/cam/streamid=0",
  ],
  ["the aggregate *", "rtsp://h/live/cam/", "*", "rtsp://h/live/cam/"],
  ["no control", "rtsp://h/live/cam", undefined, "rtsp://h/live/cam"],
  [
    "an absolute control",
    "rtsp://h/live/cam/",
    "rtsp://10.0.0.9:554/media/video1/video",
    "rtsp://10.0.0.9:554/media/video1/video",
  ],
  ["an absolute control in capitals", "rtsp://h/", "RTSP://h/x", "RTSP://h/x"],
  [
    "Dahua: a base with a query and a trailing slash",
    "rtsp://192.168.0.141:554/cam/realmonitor?channel=1&subtype=0/",
    "trackID=0",
    "rtsp://192.168.0.141:554/cam/realmonitor?channel=1&subtype=0/trackID=0",
  ],
  [
    "Dahua playback: an absolute control with a token query",
    "rtsp://10.0.0.2/cam/playback?channel=1&starttime=2024_01_01_00_00_00/",
    "rtsp://10.0.0.2/cam/playback?channel=1&starttime=2024_01_01_00_00_00&token=6a7f&trackID=0",
    "rtsp://10.0.0.2/cam/playback?channel=1&starttime=2024_01_01_00_00_00&token=6a7f&trackID=0",
  ],
  [
    "a query-only control",
    "rtsp://h/cam/playback/",
    "?token=1&trackID=0",
    "rtsp://h/cam/playback?token=1&trackID=0",
  ],
  [
    "an absolute path",
    "rtsp://user:pw@h:8554/live/cam/",
    "/other/trackID=1",
    "rtsp://user:pw@h:8554/other/trackID=1",
  ],
];
for (const [name, base, control, url] of CONTROLS) {
  Deno.test(`resolveControl: ${name}`, () => {
    assert.equal(resolveControl(base, control), url);
  });
}

Deno.test("baseUrl takes Content-Base, then Content-Location, then the request URL", () => {
  assert.equal(
    baseUrl(
      new RtspHeaders({
        "Content-Base": "rtsp://h/a/",
        "Content-Location": "rtsp://h/b",
      }),
      "rtsp://h/c",
    ),
    "rtsp://h/a/",
  );
  assert.equal(
    baseUrl(
      new RtspHeaders({ "content-location": "rtsp://h/b" }),
      "rtsp://h/c",
    ),
    "rtsp://h/b",
  );
  assert.equal(baseUrl(new RtspHeaders(), "rtsp://h/c"), "rtsp://h/c");
});

const MATCHES: [string, string, string, string | undefined][] = [
  ["the path itself", "rtsp://h:8554/live/cam", "live/cam", ""],
  [
    "VLC: the base URL with a trailing slash",
    "rtsp://h:8554/live/cam/",
    "live/cam",
    "",
  ],
  [
    "a track below it",
    "rtsp://h:8554/live/cam/trackID=0",
    "live/cam",
    "trackID=0",
  ],
  [
    "Bosch BVMS: a relative path",
    "/live/cam/trackID=1",
    "live/cam",
    "trackID=1",
  ],
  ["a path without leading slash", "live/cam", "/live/cam/", ""],
  ["a query string", "rtsp://h/live/cam?tcp", "live/cam", ""],
  ["user info and IPv6", "rtsp://u:p@[::1]:8554/live/cam", "live/cam", ""],
  ["doubled slashes", "rtsp://h//live//cam//", "live/cam", ""],
  ["percent-encoding", "rtsp://h/live/%63am", "live/cam", ""],
  [
    "another path sharing a prefix",
    "rtsp://h/live/camera",
    "live/cam",
    undefined,
  ],
  ["a parent path", "rtsp://h/live", "live/cam", undefined],
  ["*", "*", "live/cam", undefined],
  ["broken percent-encoding", "rtsp://h/live/%E0%A4%A", "live/cam", undefined],
  ["anything under the root path", "rtsp://h/trackID=0", "", "trackID=0"],
];
for (const [name, url, path, rest] of MATCHES) {
  Deno.test(`matchPath: ${name}`, () => {
    assert.equal(matchPath(url, path), rest);
  });
}

Deno.test("rtspPath and sameResource ignore scheme, authority, query and slashes", () => {
  assert.equal(
    rtspPath("rtsp://h:554/cam/realmonitor?channel=1&subtype=0"),
    "cam/realmonitor",
  );
  assert.equal(rtspPath("rtsps://h/live/cam/#x"), "live/cam");
  assert.equal(rtspPath("*"), undefined);
  assert.ok(
    sameResource(
      "rtsp://127.0.0.1:8554/live/cam/",
      "rtsp://localhost:8554/live/cam",
    ),
  );
  assert.ok(!sameResource("rtsp://h/live/cam", "rtsp://h/live/other"));
  assert.ok(!sameResource("*", "*"));
});

// RFC 3986 §3.3: dot-segments are refused as sent, never resolved into another path
const REFUSED_URLS: [string, string][] = [
  ["a parent segment", "rtsp://h:8554/live/../../etc/passwd"],
  ["an encoded parent segment", "rtsp://h/live/%2e%2e/cam"],
  ["a double-encoded slash", "rtsp://h/live/..%252fcam"],
  ["a backslash", "rtsp://h/live\\..\\cam"],
  ["an encoded NUL", "rtsp://h/live/cam%00"],
  ["a relative path with a parent segment (Bosch BVMS shape)", "/live/../cam"],
];
for (const [name, url] of REFUSED_URLS) {
  Deno.test(`rtspPath refuses ${name}`, () => {
    assert.equal(rtspPath(url), undefined);
    assert.equal(matchPath(url, "cam"), undefined);
    assert.ok(!sameResource(url, "rtsp://h/cam"));
  });
}

Deno.test("rtspPath gives the root as an empty path", () => {
  assert.equal(rtspPath("rtsp://h:8554/"), "");
  assert.equal(rtspPath("rtsp://h:8554"), "");
  assert.ok(sameResource("rtsp://h:8554/", "rtsp://h:8554"));
});
