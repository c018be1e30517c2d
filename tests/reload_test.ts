/** planReload: what a new configuration changes; Sluice.reload applies it. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config/load.ts";
import { isEmptyPlan, planReload } from "../lib/reload.ts";
import { startTestSluice } from "./_util/sluice.ts";

Deno.test("planReload finds nothing to do between equal configurations", () => {
  const a = parseConfig({ paths: { cam: { push: ["rtmp://x/a/b"] } } });
  const b = parseConfig({ paths: { cam: { push: ["rtmp://x/a/b"] } } });
  assert.ok(isEmptyPlan(planReload(a, b)));
});

Deno.test("planReload restarts relays only when a relay key changed", () => {
  const old = parseConfig({
    paths: {
      creds: { source: "rtsp://a/1", readUser: "u", readPass: "p" },
      pushed: { push: ["rtmp://x/a/b"] },
      gone: { source: "rtsp://c/1" },
      plain: {},
    },
  });
  const next = parseConfig({
    paths: {
      creds: { source: "rtsp://a/1", readUser: "u", readPass: "other" },
      pushed: { push: ["rtmp://x/a/b", "rtmp://y/a/b"] },
    },
  });
  assert.deepEqual(planReload(old, next), {
    added: [],
    removed: ["gone", "plain"],
    changed: ["creds", "pushed"],
    relaysRestarted: ["pushed", "gone"],
    applied: [],
    listenersMoved: [],
    needsRestart: [],
  });
});

Deno.test("planReload applies session keys and lists listener and hub keys as needing a restart", () => {
  const old = parseConfig({});
  const next = parseConfig({
    readTimeout: "20s",
    rtmpChunkSize: 8192,
    httpAddress: ":8888",
    tlsCert: "/etc/cert.pem",
    gopCache: false,
    logLevel: "debug",
  });
  const plan = planReload(old, next);
  assert.deepEqual(plan.applied.sort(), [
    "logLevel",
    "readTimeout",
    "rtmpChunkSize",
  ]);
  assert.deepEqual(
    plan.needsRestart.sort(),
    ["gopCache", "httpAddress", "tlsCert"],
  );
});

Deno.test("Sluice.reload puts session keys and paths in force and keeps the listeners", async () => {
  await using s = startTestSluice({ paths: { a: {} } });
  const port = s.sluice.rtmpPort;
  const result = await s.sluice.reload(parseConfig({
    ...s.sluice.config,
    readTimeout: 1234,
    gopCache: false,
    paths: { b: { publishUser: "u", publishPass: "p" } },
  }));
  assert.deepEqual(result.applied, ["readTimeout"]);
  assert.deepEqual(result.needsRestart, ["gopCache"]);
  assert.equal(s.sluice.config.readTimeout, 1234);
  assert.equal(s.sluice.config.gopCache, true); // until a restart
  assert.deepEqual(Object.keys(s.sluice.config.paths), ["b"]);
  assert.equal(s.sluice.rtmpPort, port);
  assert.ok(s.logs.some((l) => l.includes("configuration reloaded")));
  assert.ok(s.logs.some((l) => /needsRestart=gopCache/.test(l)));
  await s.close();
  await assert.rejects(
    s.sluice.reload(s.sluice.config as never),
    /shutting down/,
  );
});

Deno.test("Sluice.reload puts new users and webhooks in force for the next session", async () => {
  await using s = startTestSluice({ paths: { cam: {} } });
  const ask = (user: string, pass: string) =>
    s.sluice.auth.authorize({
      action: "read",
      path: "cam",
      protocol: "rtsp",
      ip: "127.0.0.1",
      user,
      pass,
    });
  // Without users anyone may read.
  assert.equal((await ask("", "")).ok, true);
  const result = await s.sluice.reload(parseConfig({
    ...s.sluice.config,
    users: [{
      user: "viewer",
      pass: "secret",
      permissions: [{ action: "read" }],
    }],
    webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["publish.start"] }],
  }));
  assert.deepEqual(result.applied.sort(), ["users", "webhooks"]);
  assert.deepEqual(result.needsRestart, []);
  assert.equal((await ask("", "")).ok, false);
  assert.equal((await ask("viewer", "wrong")).ok, false);
  assert.equal((await ask("viewer", "secret")).ok, true);
  assert.equal(s.sluice.webhooks.stats.length, 1);
  // Taking users away again lets anyone read.
  const { users: _, ...rest } = s.sluice.config;
  const back = await s.sluice.reload(parseConfig({ ...rest, webhooks: [] }));
  assert.deepEqual(back.applied.sort(), ["users", "webhooks"]);
  assert.equal((await ask("", "")).ok, true);
  assert.equal(s.sluice.webhooks.stats.length, 0);
});

Deno.test("Sluice.reload keeps a listener whose new port is taken, and says it needs a restart", async () => {
  await using s = startTestSluice();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = s.sluice.rtmpPort;
    const result = await s.sluice.reload(parseConfig({
      ...s.sluice.config,
      rtmpAddress: `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`,
    }));
    assert.deepEqual(result.listenersMoved, []);
    assert.deepEqual(result.needsRestart, ["rtmpAddress"]);
    assert.equal(s.sluice.rtmpPort, port);
    assert.equal(s.sluice.config.rtmpAddress, "127.0.0.1:0");
    (await Deno.connect({ hostname: "127.0.0.1", port: port! })).close();
    assert.ok(s.logs.some((l) => l.includes("Cannot move rtmpAddress")));
  } finally {
    taken.close();
  }
});

Deno.test("Sluice.reload changes the log level of every logger at once", async () => {
  await using s = startTestSluice();
  const reload = (overrides: Record<string, unknown>) =>
    s.sluice.reload(parseConfig({ ...s.sluice.config, ...overrides }));
  const result = await reload({ logLevel: "warn" });
  assert.deepEqual(result.applied, ["logLevel"]);
  assert.equal(s.sluice.config.logLevel, "warn");
  // "configuration reloaded" is an info line: not written at warn.
  let before = s.logs.length;
  await reload({ readTimeout: 4321 });
  assert.deepEqual(s.logs.slice(before), []);
  before = s.logs.length;
  await reload({ logLevel: "info", readTimeout: 1234 });
  assert.equal(s.logs.slice(before).length, 1);
  assert.match(s.logs.at(-1)!, / INFO {2}\[reload\] configuration reloaded/);
});
