/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host, or with a Host that is
 * too long or not a host, gets 400, on every route, before anything else.
 * Raw TCP against the real server: what a client really gets back.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { requireHost } from "../../../lib/server/http/require_host.ts";
import { rawHttp } from "../../_util/http_raw.ts";
import { startTestSluice } from "../../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const request = (target: string, ...headers: string[]) =>
  [`GET ${target} HTTP/1.1`, ...headers, "Connection: close", "", ""].join(
    "\r\n",
  );

const CASES: [string, string, number][] = [
  ["an HTTP/1.1 request without Host", request("/x"), 400],
  ["an HTTP/1.0 request without Host", "GET /x HTTP/1.0\r\n\r\n", 400],
  ["an empty Host", request("/x", "Host: "), 400],
  ["a Host of 256 bytes", request("/x", `Host: ${"a".repeat(256)}`), 400],
  ["a Host with a space", request("/x", "Host: a b"), 400],
  ["a Host with a slash and user info", request("/x", "Host: a/b@c"), 400],
  ["a Host with a non-ASCII name", request("/x", "Host: café.example"), 400],
  ["a Host with a bad port", request("/x", "Host: a:80x"), 400],
  // Deno.serve answers this one itself, before the middleware
  ["two Host lines", request("/x", "Host: a", "Host: b"), 400],
  ["HTTP-FLV without Host", request("/live/x.flv"), 400],
  [
    "a CORS preflight without Host",
    "OPTIONS /live/x.flv HTTP/1.1\r\nOrigin: http://o\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n",
    400,
  ],
  // accepted: the route's own answer
  ["a name and port", request("/x", "Host: media.example:8080"), 404],
  ["a Host of 255 bytes", request("/x", `Host: ${"a".repeat(255)}`), 404],
  ["an IPv4 address", request("/x", "Host: 127.0.0.1"), 404],
  ["an IPv6 literal", request("/x", "Host: [::1]:8080"), 404],
  ["an HTTP/1.0 request with Host", "GET /x HTTP/1.0\r\nHost: a\r\n\r\n", 404],
];

Deno.test(
  "HTTP server: Host is checked on every route, over raw TCP",
  opts,
  async () => {
    // long enough that an HTTP-FLV request that got past the check would still be waiting
    await using s = startTestSluice({ playWaitTimeout: "10s" }, "debug");
    const port = s.sluice.httpPort!;
    for (const [name, req, status] of CASES) {
      const r = await rawHttp(port, req, 5000);
      assert.equal(r.status, status, `${name}: ${r.text}`);
      assert.ok(
        r.elapsedMs < 1000,
        `${name}: answered at once (${r.elapsedMs} ms)`,
      );
    }
    assert.ok(s.logs.some((l) => l.includes("missing or invalid Host")));
  },
);

Deno.test("requireHost takes maxLength and tells onRefused what Host it refused", async () => {
  const refused: (string | undefined)[] = [];
  const app = new Hono();
  app.use(
    "*",
    requireHost({ maxLength: 8, onRefused: (h) => refused.push(h) }),
  );
  app.get("*", (c) => c.text("ok"));
  const get = (host?: string) =>
    app.request("/x", { headers: host === undefined ? {} : { Host: host } });
  assert.equal((await get("12345678")).status, 200);
  assert.equal((await get("123456789")).status, 400);
  assert.equal((await get()).status, 400);
  assert.deepEqual(refused, ["123456789", undefined]);
  assert.equal(requireHost().name, "requireHost");
});
