/**
 * The REST API against plain sources: access, paging, problems, sessions,
 * configuration; every answer is validated against the OpenAPI description.
 */
import assert from "node:assert/strict";
import { createApi } from "../../lib/api/routes.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/config/load.ts";
import type { Config } from "../../lib/config/schema.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { createLogger } from "../../lib/log.ts";
import type { SessionInfo } from "../../lib/server/session_info.ts";
import { ApiClient, validated } from "../_util/openapi_check.ts";

const log = createLogger({ level: "error", write: () => {} });

function addr(hostname: string): Deno.NetAddr {
  return { transport: "tcp", hostname, port: 40000 };
}

function setup(options: {
  remote?: string;
  reload?: (c: Config) => void;
  config?: Config;
} = {}) {
  const hub = new Hub();
  let config = options.config ?? parseConfig({
    paths: {
      "live/secret": { readUser: "u", readPass: "hunter2" },
      "cam": { source: "rtsp://admin:pw@10.0.0.9/stream" },
    },
  });
  const sessions: SessionInfo[] = [];
  const kicked: string[] = [];
  const api = createApi({
    log,
    hub,
    servers: () => [{
      sessionList: () => sessions,
      kick: (id) => {
        const i = sessions.findIndex((s) => s.id === id);
        if (i < 0) return false;
        kicked.push(id);
        sessions.splice(i, 1);
        return true;
      },
      drainClosed: () => [],
    }],
    relays: () => [],
    config: () => config,
    reload: options.reload &&
      ((c) => {
        options.reload!(c);
        config = c;
      }),
  });
  const remote = addr(options.remote ?? "127.0.0.1");
  const client = new ApiClient(
    "http://sluice.test",
    (req) => {
      req.headers.set("Host", "localhost:8080");
      return api.routes.fetch(req, { remote });
    },
  );
  /** A request from `from` with a loopback `Host`, not validated. */
  const raw = (path: string, from: string, host = "127.0.0.1:8080") =>
    api.routes.fetch(
      new Request(`http://x${path}`, { headers: { Host: host } }),
      { remote: addr(from) },
    );
  return {
    hub,
    api,
    client,
    raw,
    sessions,
    kicked,
    [Symbol.dispose]: api.close,
  };
}

Deno.test("API answers loopback clients and refuses others with 403 problem+json", async () => {
  for (const host of ["127.0.0.1", "::1", "::ffff:127.0.0.2"]) {
    using s = setup({ remote: host });
    assert.equal((await s.client.get("/api/v1/paths")).status, 200, host);
  }
  using s = setup({ remote: "192.0.2.7" });
  const r = await s.client.get("/api/v1/paths");
  assert.equal(r.status, 403);
  assert.equal(r.headers.get("Content-Type"), "application/problem+json");
  assert.match(r.body.detail, /loopback/);
  const m = await s.raw("/metrics", "192.0.2.7");
  assert.equal(m.status, 403);
  const text = await s.api.metrics.text();
  assert.match(text, /sluice_auth_failures_total\{protocol="api"\} 1/);
  assert.match(text, /sluice_auth_failures_total\{protocol="metrics"\} 1/);
});

Deno.test("API refuses a loopback request for another host name (DNS rebinding)", async () => {
  using s = setup();
  for (
    const host of ["localhost", "127.0.0.1:8080", "[::1]:8080", "a.localhost"]
  ) {
    assert.equal((await s.raw("/api/v1/paths", "127.0.0.1", host)).status, 200);
  }
  for (const host of ["attacker.example:8080", "127.0.0.1.nip.io", "[::2]"]) {
    const r = await s.raw("/api/v1/paths", "127.0.0.1", host);
    assert.equal(r.status, 403, host);
    assert.match((await r.json()).detail, /not Host/);
  }
});

Deno.test("API lists live and configured paths with paging and a total", async () => {
  using s = setup();
  for (let i = 0; i < 5; i++) s.hub.publish(`live/p${i}`);
  const all = await s.client.get("/api/v1/paths?limit=1000");
  assert.equal(all.body.total, 7); // 5 live + 2 configured
  assert.deepEqual(
    all.body.items.map((p: { name: string }) => p.name),
    [
      "cam",
      "live/p0",
      "live/p1",
      "live/p2",
      "live/p3",
      "live/p4",
      "live/secret",
    ],
  );
  const page = await s.client.get("/api/v1/paths?offset=2&limit=2");
  assert.deepEqual(page.body.items.map((p: { name: string }) => p.name), [
    "live/p1",
    "live/p2",
  ]);
  assert.equal(page.body.total, 7);
  assert.equal(page.body.items[0].ready, true);
  const bad = await s.client.get("/api/v1/paths?limit=5000");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, "limit");
  assert.equal(bad.body.value, "5000");
  assert.match(bad.body.expected, /1 to 1000/);
  assert.equal((await s.client.get("/api/v1/paths?offset=-1")).status, 400);
});

Deno.test("API answers one path, 404 problem for an unknown one", async () => {
  using s = setup();
  s.hub.publish("live/a/b");
  const r = await s.client.get("/api/v1/paths/live/a/b");
  assert.equal(r.status, 200);
  assert.equal(r.body.name, "live/a/b");
  assert.equal(r.body.ready, true);
  const missing = await s.client.get("/api/v1/paths/none");
  assert.equal(missing.status, 404);
  assert.match(missing.body.detail, /No path "none"/);
  const inspect = await s.client.get("/api/v1/paths/none/inspect");
  assert.equal(inspect.status, 404);
  const other = await s.raw("/api/v1/nothing", "127.0.0.1");
  assert.equal(other.status, 404);
  assert.equal(other.headers.get("Content-Type"), "application/problem+json");
});

Deno.test("API lists sessions and DELETE kicks one", async () => {
  using s = setup();
  s.sessions.push({
    id: "rtmp-1",
    protocol: "rtmp",
    remoteAddress: "127.0.0.1:5000",
    path: "live/x",
    role: "publisher",
    state: "publishing",
    since: Date.now(),
    bytesIn: 100,
    bytesOut: 10,
    packetsOut: 1,
    firstFrameMs: undefined,
  });
  const list = await s.client.get("/api/v1/sessions");
  assert.equal(list.body.total, 1);
  assert.equal(list.body.items[0].id, "rtmp-1");
  assert.equal((await s.client.get("/api/v1/sessions/rtmp-1")).status, 200);
  const del = await s.client.request("DELETE", "/api/v1/sessions/rtmp-1");
  assert.equal(del.status, 204);
  assert.deepEqual(s.kicked, ["rtmp-1"]);
  assert.equal(
    (await s.client.request("DELETE", "/api/v1/sessions/rtmp-1")).status,
    404,
  );
});

Deno.test("API shows the configuration with secrets hidden", async () => {
  using s = setup();
  const r = await s.client.get("/api/v1/config");
  assert.equal(r.status, 200);
  assert.equal(r.body.paths["live/secret"].readPass, "********");
  assert.equal(r.body.paths["live/secret"].readUser, "u");
  assert.equal(
    r.body.paths.cam.source,
    "rtsp://admin:********@10.0.0.9/stream",
  );
  assert.ok(!JSON.stringify(r.body).includes("hunter2"));
  assert.equal(r.body.api, true);
});

Deno.test("PATCH /api/v1/config validates with the config schema", async () => {
  const applied: Config[] = [];
  using s = setup({ reload: (c) => applied.push(c) });
  const patch = (body: string, type = "application/merge-patch+json") =>
    s.client.request("PATCH", "/api/v1/config", {
      body,
      headers: { "Content-Type": type },
    });
  assert.equal((await patch("{}", "text/plain")).status, 415);
  assert.equal((await patch("{nope")).status, 400);
  const big = await patch(`{"x":"${"a".repeat(2 << 20)}"}`);
  assert.equal(big.status, 413);
  const bad = await patch(JSON.stringify({ readTimeout: "soon", rtmp: 3 }));
  assert.equal(bad.status, 422);
  assert.equal(bad.body.errors.length, 2);
  assert.equal(bad.body.field, "readTimeout");
  assert.equal(bad.body.value, "soon");
  assert.match(bad.body.expected, /duration/);
  assert.equal(applied.length, 0);
  const good = await patch(JSON.stringify({
    readTimeout: "20s",
    paths: { "live/new": {}, "live/secret": { readPass: "********" } },
  }));
  assert.equal(good.status, 200, JSON.stringify(good.body));
  assert.equal(applied.length, 1);
  assert.equal(applied[0]!.readTimeout, 20000);
  assert.ok("live/new" in applied[0]!.paths);
  // a hidden secret sent back keeps its value
  assert.equal(applied[0]!.paths["live/secret"]!.readPass, "hunter2");
});

Deno.test("PATCH /api/v1/config answers 501 without hot reload, 409 when reload refuses", async () => {
  {
    using s = setup();
    const r = await s.client.request("PATCH", "/api/v1/config", {
      body: '{"readTimeout":"20s"}',
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(r.status, 501);
    assert.match(r.body.detail, /hot reload is not available/);
  }
  using s = setup({
    reload: () => {
      throw new ConfigError(["Cannot bind :1935"]);
    },
  });
  const r = await s.client.request("PATCH", "/api/v1/config", {
    body: '{"readTimeout":"20s"}',
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(r.status, 409);
});

Deno.test("API serves its OpenAPI description and reference page without a CDN", async () => {
  using s = setup();
  const r = await s.raw("/api/v1/openapi.json", "127.0.0.1");
  const doc = await r.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.ok(doc.paths["/api/v1/paths/{name}/inspect"]);
  const page = await s.raw("/api/v1/docs", "127.0.0.1");
  const html = await page.text();
  assert.match(html, /<script src="docs\/reference.js">/);
  assert.doesNotMatch(html, /https?:\/\//);
  const js = await s.raw("/api/v1/docs/reference.js", "127.0.0.1");
  assert.equal(js.status, 200);
  assert.match(await js.text(), /openapi\.json/);
  assert.ok(validated.count > 0);
});
