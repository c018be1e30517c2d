/**
 * Stream paths over HTTP are read from the request target as the client
 * sent it, never from a URL that resolved its dot-segments.
 */
import assert from "node:assert/strict";
import { requestPath } from "../../../lib/server/http/request_path.ts";
import { rawHttp } from "../../_util/http_raw.ts";
import { startTestSluice } from "../../_util/sluice.ts";

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
/** Far below the publisher wait, which a path that got through would sit in. */
const AT_ONCE_MS = 1000;

Deno.test("requestPath keeps the target as sent, without origin and query", () => {
  assert.equal(
    requestPath("http://h:8080/live/../../etc/passwd.flv?user=u"),
    "/live/../../etc/passwd.flv",
  );
  assert.equal(
    requestPath("http://h/live/%2e%2e/x.flv#f"),
    "/live/%2e%2e/x.flv",
  );
  assert.equal(requestPath("http://[::1]:8080//live//x.flv"), "//live//x.flv");
  assert.equal(requestPath("http://h"), "");
});

Deno.test(
  "HTTP-FLV of a path with dot-segments gets 400 at once, read from the raw request target",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "10s" });
    for (const bad of BAD) {
      const r = await rawHttp(
        s.sluice.httpPort!,
        `GET /${bad}.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        5000,
      );
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.ok(r.elapsedMs < AT_ONCE_MS, `${bad} at once`);
    }
    // new URL() would have made this /etc/passwd.flv, a path like any other
    const r = await rawHttp(
      s.sluice.httpPort!,
      "GET /live/../../etc/passwd.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert.equal(r.status, 400);
    assert.equal(s.sluice.hub.streams().length, 0);
  },
);
