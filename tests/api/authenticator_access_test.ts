/**
 * The API, the metrics and playback decided by the authenticator: users
 * with the `api`, `metrics` or `playback` permission, the loopback-only rule
 * while no user has one, a path's read credentials for its playback, and
 * every protocol's refusals counted in `/metrics`.
 */
import assert from "node:assert/strict";
import { rawHttp } from "../_util/http_raw.ts";
import { startTestSluice } from "../_util/sluice.ts";

const basic = (user: string, pass: string) => ({
  Authorization: `Basic ${btoa(`${user}:${pass}`)}`,
});

async function get(
  port: number | undefined,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; challenge: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return {
    status: res.status,
    body: await res.text(),
    challenge: res.headers.get("WWW-Authenticate"),
  };
}

Deno.test("without users the API and metrics answer loopback clients", async () => {
  await using s = startTestSluice();
  assert.equal((await get(s.sluice.httpPort, "/api/v1/paths")).status, 200);
  assert.equal((await get(s.sluice.httpPort, "/metrics")).status, 200);
});

Deno.test("a user with the api permission is asked for; metrics stay loopback-only while no user has that one", async () => {
  await using s = startTestSluice({
    users: [
      { user: "admin", pass: "s3cret", permissions: [{ action: "api" }] },
      { user: "viewer", pass: "v", permissions: [{ action: "read" }] },
    ],
  });
  const port = s.sluice.httpPort;
  const none = await get(port, "/api/v1/paths");
  assert.equal(none.status, 401);
  assert.match(none.challenge ?? "", /^Basic realm=/);
  assert.equal(
    (await get(port, "/api/v1/paths", basic("admin", "wrong"))).status,
    401,
  );
  assert.equal(
    (await get(port, "/api/v1/paths", basic("viewer", "v"))).status,
    401,
  );
  assert.equal(
    (await get(port, "/api/v1/paths", basic("admin", "s3cret"))).status,
    200,
  );
  // Nobody has "metrics": the loopback rule, Host check included.
  assert.equal((await get(port, "/metrics")).status, 200);
  const rebound = await rawHttp(
    port!,
    "GET /metrics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
  );
  assert.equal(rebound.status, 403);
  // The three API refusals are counted once each, as protocol "api".
  const text = (await get(port, "/metrics")).body;
  assert.match(text, /sluice_auth_failures_total\{protocol="api"\} 3\b/);
});

Deno.test("an HTTP-FLV refusal is counted in sluice_auth_failures_total", async () => {
  await using s = startTestSluice({
    users: [{ user: "viewer", pass: "v", permissions: [{ action: "read" }] }],
  });
  const port = s.sluice.httpPort;
  const res = await get(port, "/cam.flv");
  assert.equal(res.status, 401);
  const text = (await get(port, "/metrics")).body;
  assert.match(text, /sluice_auth_failures_total\{protocol="http"\} 1\b/);
});

Deno.test("playback asks for the playback permission, or the path's read credentials", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using s = startTestSluice({
      recordPath: `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`,
      users: [
        { user: "viewer", pass: "v", permissions: [{ action: "read" }] },
        { user: "archive", pass: "a", permissions: [{ action: "playback" }] },
      ],
      paths: { cam: {}, lobby: { readUser: "guest", readPass: "welcome" } },
    });
    const port = s.sluice.httpPort;
    const list = (path: string, headers?: Record<string, string>) =>
      get(port, `/playback/list?path=${path}`, headers).then((r) => r.status);
    assert.equal(await list("cam"), 401);
    assert.equal(await list("cam", basic("viewer", "v")), 401);
    // Allowed: 404 says there is no recording yet.
    assert.equal(await list("cam", basic("archive", "a")), 404);
    assert.equal(await list("lobby", basic("guest", "welcome")), 404);
    assert.equal(await list("lobby", basic("guest", "wrong")), 401);
    const got = await get(
      port,
      `/playback/get?path=cam&start=0&duration=1`,
      basic("viewer", "v"),
    );
    assert.equal(got.status, 401);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an address with repeated failed API logins gets 429 as a problem", async () => {
  await using s = startTestSluice({
    users: [{
      user: "admin",
      pass: "s3cret",
      permissions: [{ action: "api" }],
    }],
  });
  const port = s.sluice.httpPort;
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    statuses.push(
      (await get(port, "/api/v1/paths", basic("admin", "wrong"))).status,
    );
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  // Blocked: even the right password waits.
  const blocked = await get(port, "/api/v1/paths", basic("admin", "s3cret"));
  assert.equal(blocked.status, 429);
  assert.match(JSON.parse(blocked.body).detail, /Too many failed logins/);
});
