/**
 * Paths with dot-segments, encoded slashes, backslashes or NUL, as RTSP
 * and RTMP clients send them (HTTP: tests/server/http/request_path_test.ts): refused at once (400, or RTMP's
 * invalid-name status), never normalised into another path and never left
 * waiting for a publisher.
 */
import assert from "node:assert/strict";
import { RtmpClient, RtmpStatusError } from "../../lib/client/rtmp.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** What attackers send; each would land on `etc/passwd` (or another path) if it were resolved. */
const BAD = [
  "live/../../etc/passwd",
  "live/%2e%2e/%2e%2e/etc/passwd",
  "live/%252e%252e/etc",
  "live/..%252fetc",
  "live/..%2fetc",
  "live\\..\\etc",
  "live/%5c..%5cetc",
  "live/cam%00",
  "live/./cam",
];

/** Fails the test if an answer took longer than a publisher wait could explain away. */
const AT_ONCE_MS = 1000;

Deno.test(
  "RTSP DESCRIBE and ANNOUNCE of a path with dot-segments get 400 at once",
  opts,
  async () => {
    // a long wait: a request that slipped through would hang, not 404
    await using s = startTestSluice({ playWaitTimeout: "10s" });
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    for (const bad of BAD) {
      const url = `rtsp://127.0.0.1:${s.sluice.rtspPort}/${bad}`;
      for (const method of ["DESCRIBE", "ANNOUNCE"]) {
        const started = Date.now();
        const r = await c.request(
          method,
          url,
          method === "ANNOUNCE" ? { "Content-Type": "application/sdp" } : {},
          method === "ANNOUNCE"
            ? "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
            : "",
        );
        assert.equal(r.status, 400, `${method} ${bad}`);
        assert.ok(
          Date.now() - started < AT_ONCE_MS,
          `${method} ${bad} at once`,
        );
      }
    }
    c.close();
    assert.equal(s.sluice.hub.streams().length, 0);
  },
);

Deno.test(
  "RTMP play and publish of a name with dot-segments get the invalid-name status at once",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "10s" }, "debug");
    for (const bad of BAD) {
      const name = bad.slice("live/".length);
      for (const action of ["play", "publish"] as const) {
        const c = await RtmpClient.connect(s.rtmpUrl("live/x"));
        const started = Date.now();
        await assert.rejects(
          action === "play" ? c.play(name) : c.publish(name),
          (e) =>
            e instanceof RtmpStatusError &&
            e.code === (action === "play"
                ? "NetStream.Play.StreamNotFound"
                : "NetStream.Publish.BadName"),
          `${action} ${name}`,
        );
        assert.ok(
          Date.now() - started < AT_ONCE_MS,
          `${action} ${name} at once`,
        );
        c.close();
      }
    }
    assert.ok(s.logs.some((l) => l.includes("invalid stream name")));
    assert.equal(s.sluice.hub.streams().length, 0);
  },
);
