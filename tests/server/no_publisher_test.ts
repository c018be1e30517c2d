/**
 * A path that no publisher and no source can ever come to is answered
 * "not found" at once instead of after playWaitTimeout.
 */
import assert from "node:assert/strict";
import { rawHttp } from "../_util/http_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "With RTMP and RTSP off, HTTP-FLV of a path without a source is 404 at once; a path with one waits",
  opts,
  async () => {
    await using s = startTestSluice({
      rtmp: false,
      rtsp: false,
      playWaitTimeout: "1s",
      paths: {
        // nothing listens there: the pull keeps retrying, the reader waits its second
        "cam/pulled": {
          source: "rtsp://127.0.0.1:9/cam",
          sourceOnDemand: true,
        },
      },
    });
    const get = (path: string) =>
      rawHttp(
        s.sluice.httpPort!,
        `GET /${path}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
    const none = await get("live/none");
    assert.equal(none.status, 404);
    assert.ok(none.elapsedMs < 500, `at once (${none.elapsedMs} ms)`);
    const pulled = await get("cam/pulled");
    assert.equal(pulled.status, 404);
    assert.ok(pulled.elapsedMs >= 900, `waited (${pulled.elapsedMs} ms)`);
  },
);
