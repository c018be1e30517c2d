import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import {
  Authenticator,
  type AuthRequest,
} from "../../lib/auth/authenticator.ts";
import {
  argon2Worker,
  hashPassword,
  verifyPasswordHash,
} from "../../lib/auth/password.ts";
import { parseConfig } from "../../lib/config/mod.ts";
import { createLogger } from "../../lib/log.ts";

function req(over: Partial<AuthRequest>): AuthRequest {
  return {
    action: "read",
    path: "live/a",
    protocol: "rtsp",
    ip: "10.0.0.1",
    ...over,
  };
}

async function allowed(auth: Authenticator, over: Partial<AuthRequest>) {
  return (await auth.authorize(req(over))).ok;
}

Deno.test("Authenticator without users lets anyone publish and read, the API from loopback only", async () => {
  const auth = new Authenticator(parseConfig({}));
  assert.ok(await allowed(auth, { action: "publish" }));
  assert.ok(await allowed(auth, { action: "read" }));
  assert.ok(await allowed(auth, { action: "api", path: "", ip: "127.0.0.1" }));
  assert.ok(await allowed(auth, { action: "metrics", path: "", ip: "::1" }));
  assert.ok(!await allowed(auth, { action: "api", path: "", ip: "10.0.0.1" }));
});

Deno.test("Authenticator: permissions per action on exact and ~regex paths, per IP range", async () => {
  const auth = new Authenticator(parseConfig({
    users: [
      { user: "any", permissions: [{ action: "read", path: "~^public/" }] },
      {
        user: "cam",
        pass: "pw",
        ips: ["10.0.0.0/8", "fd00::/8"],
        permissions: [{ action: "publish", path: "~^live/.*" }],
      },
      { user: "ops", pass: "ops", permissions: [{ action: "api" }] },
    ],
  }));
  assert.ok(
    await allowed(auth, { path: "public/x" }),
    "anonymous read of public/",
  );
  assert.ok(!await allowed(auth, { path: "live/a" }), "not of live/");
  const cam = { user: "cam", pass: "pw", action: "publish" as const };
  assert.ok(await allowed(auth, { ...cam }));
  assert.ok(await allowed(auth, { ...cam, ip: "fd00::5" }));
  assert.ok(!await allowed(auth, { ...cam, ip: "192.168.0.1" }), "outside ips");
  assert.ok(!await allowed(auth, { ...cam, pass: "PW" }), "wrong password");
  assert.ok(
    !await allowed(auth, { ...cam, path: "other/a" }),
    "path not matched",
  );
  assert.ok(!await allowed(auth, { ...cam, action: "read" }), "no read");
  assert.ok(
    await allowed(auth, {
      user: "ops",
      pass: "ops",
      action: "api",
      path: "",
      ip: "10.9.9.9",
    }),
  );
  assert.ok(
    !await allowed(auth, { action: "api", path: "", ip: "127.0.0.1" }),
    "an api user exists: no loopback pass",
  );
  assert.ok(
    !await allowed(auth, { action: "metrics", path: "", ip: "10.0.0.1" }),
  );
  assert.ok(
    await allowed(auth, { action: "metrics", path: "", ip: "127.0.0.1" }),
    "nobody has metrics: loopback",
  );
});

Deno.test("Authenticator: readUser/publishUser of a path still work, beside users", async () => {
  const auth = new Authenticator(parseConfig({
    paths: { "live/a": { readUser: "v", readPass: "s" } },
  }));
  assert.ok(await allowed(auth, { user: "v", pass: "s" }));
  assert.ok(
    !await allowed(auth, {}),
    "anonymous may not read a path with credentials",
  );
  assert.ok(!await allowed(auth, { user: "v", pass: "x" }));
  assert.ok(
    await allowed(auth, { action: "publish" }),
    "publishing has no credentials here",
  );
  assert.ok(await allowed(auth, { path: "live/b" }));
});

Deno.test("Authenticator: argon2id and salted sha256 passHash, Digest refused for them", async () => {
  const argon = await hashPassword("s3cret");
  const sha = await hashPassword("s3cret", { algorithm: "sha256" });
  assert.match(argon, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.match(sha, /^sha256:[0-9a-f]{32}:[0-9a-f]{64}$/);
  assert.ok(await verifyPasswordHash("s3cret", argon));
  assert.ok(!await verifyPasswordHash("s3creT", sha));
  assert.ok(!await verifyPasswordHash("s3cret", "$argon2id$garbage"));
  const auth = new Authenticator(parseConfig({
    users: [
      { user: "a", passHash: argon, permissions: [{ action: "read" }] },
      { user: "b", passHash: sha, permissions: [{ action: "read" }] },
    ],
  }));
  assert.ok(!auth.digestUsable);
  assert.ok(await allowed(auth, { user: "a", pass: "s3cret" }));
  assert.ok(await allowed(auth, { user: "b", pass: "s3cret" }));
  assert.ok(!await allowed(auth, { user: "b", pass: "nope" }));
  assert.ok(
    !await allowed(auth, { user: "a", digest: () => true }),
    "a hash cannot check Digest",
  );
  const plain = new Authenticator(parseConfig({
    users: [{ user: "c", pass: "p", permissions: [{ action: "read" }] }],
  }));
  assert.ok(plain.digestUsable);
  assert.ok(await allowed(plain, { user: "c", digest: (p) => p === "p" }));
});

Deno.test("Authenticator blocks an address after repeated failures, others keep going", async () => {
  let now = 1_000_000;
  const auth = new Authenticator(
    parseConfig({
      users: [{ user: "u", pass: "p", permissions: [{ action: "read" }] }],
    }),
    { limiter: { maxFailures: 3, blockMs: 5000, now: () => now } },
  );
  for (let i = 0; i < 3; i++) {
    assert.ok(!await allowed(auth, { user: "u", pass: "bad" }));
  }
  const d = await auth.authorize(req({ user: "u", pass: "p" }));
  assert.ok(!d.ok && d.limited, "the right password is refused while blocked");
  assert.ok(await allowed(auth, { user: "u", pass: "p", ip: "10.0.0.2" }));
  // Asking without credentials (the first RTSP request) is no failure.
  for (let i = 0; i < 10; i++) {
    assert.ok(!await allowed(auth, { ip: "10.0.0.3" }));
  }
  assert.ok(await allowed(auth, { user: "u", pass: "p", ip: "10.0.0.3" }));
  now += 5001;
  assert.ok(
    await allowed(auth, { user: "u", pass: "p" }),
    "unblocked after blockMs",
  );
});

Deno.test("FailureLimiter keeps at most maxAddresses addresses", async () => {
  const auth = new Authenticator(
    parseConfig({
      users: [{ user: "u", pass: "p", permissions: [{ action: "read" }] }],
    }),
    { limiter: { maxAddresses: 100 } },
  );
  for (let i = 0; i < 1000; i++) {
    await auth.authorize(
      req({ user: "u", pass: "x", ip: `10.0.${i >> 8}.${i & 255}` }),
    );
  }
  assert.equal(auth.limiter.size, 100);
});

/** An auth endpoint: answers by `user`, hangs for `hang`, garbage for `junk`. */
function endpoint() {
  const bodies: Record<string, unknown>[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (r) => {
      const body = await r.json();
      bodies.push(body);
      if (body.user === "hang") {
        await new Promise((res) => setTimeout(res, 1200));
      }
      if (body.user === "junk") return new Response("<html>", { status: 302 });
      return new Response(null, {
        status: body.user === "good" && body.password === "pw" ? 200 : 401,
      });
    },
  );
  return { server, bodies, url: `http://127.0.0.1:${server.addr.port}/auth` };
}

Deno.test("Authenticator asks authHTTPAddress, caches its answer, and denies a hanging one without stalling others", async () => {
  const e = endpoint();
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (l) => lines.push(l) });
  const auth = new Authenticator(
    parseConfig({ authHTTPAddress: e.url }),
    { log, external: { timeoutMs: 500, cacheMs: 60_000 } },
  );
  try {
    const good = { user: "good", pass: "pw", query: "a=1", protocol: "rtmp" };
    assert.ok(await allowed(auth, good));
    assert.deepEqual(e.bodies[0], {
      user: "good",
      password: "pw",
      token: "",
      ip: "10.0.0.1",
      action: "read",
      path: "live/a",
      protocol: "rtmp",
      id: "",
      query: "a=1",
    });
    assert.ok(await allowed(auth, good));
    assert.equal(e.bodies.length, 1, "the second answer came from the cache");
    assert.ok(!await allowed(auth, { user: "good", pass: "no" }));
    const t0 = Date.now();
    const hanging = auth.authorize(req({ user: "hang", ip: "10.0.0.7" }));
    // Meanwhile other clients are answered at once.
    assert.ok(
      await allowed(auth, { user: "good", pass: "pw", path: "live/b" }),
    );
    assert.ok(
      Date.now() - t0 < 400,
      "another check did not wait for the hanging one",
    );
    const d = await hanging;
    assert.ok(!d.ok);
    assert.ok(Date.now() - t0 >= 450 && Date.now() - t0 < 2000);
    assert.ok(
      lines.some((l) => l.includes("did not answer within 500 ms")),
      lines.join("\n"),
    );
    assert.ok(
      !await allowed(auth, { user: "junk", ip: "10.0.0.8" }),
      "a 302 with garbage denies",
    );
    assert.ok(
      !auth.digestUsable,
      "the endpoint needs the password: Basic only",
    );
  } finally {
    await e.server.shutdown();
  }
  const dead = new Authenticator(parseConfig({ authHTTPAddress: e.url }));
  assert.ok(
    !await allowed(dead, { user: "good", pass: "pw" }),
    "an endpoint that is gone denies",
  );
});

Deno.test("Authenticator verifies JWTs against a JWKS URL and reads sluice_permissions", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const other = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256" };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ keys: [jwk] }),
  );
  const sign = (
    claims: Record<string, unknown>,
    key = privateKey,
    exp = "1h",
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);
  try {
    const auth = new Authenticator(
      parseConfig({
        authJWTJWKS: `http://127.0.0.1:${server.addr.port}/jwks.json`,
      }),
      { limiter: { maxFailures: 100 } },
    );
    const token = await sign({
      sluice_permissions: [{ action: "read", path: "~^live/" }],
    });
    const d = await auth.authorize(req({ token }));
    assert.deepEqual(d, { ok: true, user: "alice" });
    assert.ok(!await allowed(auth, { token, action: "publish" }));
    assert.ok(!await allowed(auth, { token, path: "other/x" }));
    const forged = await sign(
      { sluice_permissions: [{ action: "read" }] },
      other.privateKey,
    );
    assert.ok(!await allowed(auth, { token: forged }), "signed by another key");
    const expired = await sign(
      { sluice_permissions: [{ action: "read" }] },
      privateKey,
      "-1m",
    );
    assert.ok(!await allowed(auth, { token: expired }), "expired");
    assert.ok(!await allowed(auth, { token: "not.a.jwt" }));
    const mtx = await sign({
      mediamtx_permissions: [{ action: "publish", path: "live/a" }],
    });
    assert.ok(await allowed(auth, { token: mtx, action: "publish" }));
    const evil = await sign({
      sluice_permissions: [{ action: "read", path: "~(" }],
    });
    assert.ok(
      !await allowed(auth, { token: evil }),
      "a bad pattern allows nothing",
    );
    // Without a token the configured users still decide.
    assert.ok(await allowed(auth, {}));
  } finally {
    await server.shutdown();
  }
});

Deno.test("argon2id checks run off the main thread and a verified pair is remembered", async () => {
  const hash = await hashPassword("pw");
  await verifyPasswordHash("warm-up", hash); // starts the worker
  let maxLagMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 5);
    last = now;
  }, 5);
  try {
    const t0 = performance.now();
    const results = await Promise.all(
      ["pw", "no", "nope", "x"].map((p) => verifyPasswordHash(p, hash)),
    );
    const took = performance.now() - t0;
    assert.deepEqual(results, [true, false, false, false]);
    // Four checks on the main thread would block it for ~4 × 50 ms.
    assert.ok(took > 100, `four checks took ${took} ms`);
    assert.ok(maxLagMs < took / 2, `event loop lag ${maxLagMs} ms of ${took}`);
    const t1 = performance.now();
    assert.ok(await verifyPasswordHash("pw", hash));
    assert.ok(performance.now() - t1 < 20, "the verified pair is remembered");
  } finally {
    clearInterval(timer);
    argon2Worker.close();
  }
});

Deno.test("Authenticator.configure applies new users at once and keeps the failure counts", async () => {
  const auth = new Authenticator(
    parseConfig({
      users: [{ user: "a", pass: "1", permissions: [{ action: "read" }] }],
    }),
    { limiter: { maxFailures: 3 } },
  );
  assert.ok(await allowed(auth, { user: "a", pass: "1" }));
  assert.ok(!await allowed(auth, { user: "a", pass: "x", ip: "10.9.9.9" }));
  assert.ok(!await allowed(auth, { user: "a", pass: "x", ip: "10.9.9.9" }));
  auth.configure(parseConfig({
    users: [{ user: "b", pass: "2", permissions: [{ action: "read" }] }],
  }));
  assert.ok(!await allowed(auth, { user: "a", pass: "1" }), "a is gone");
  assert.ok(await allowed(auth, { user: "b", pass: "2" }));
  assert.ok(!await allowed(auth, { user: "b", pass: "x", ip: "10.9.9.9" }));
  const d = await auth.authorize(req({ user: "b", pass: "2", ip: "10.9.9.9" }));
  assert.ok(!d.ok && d.limited, "the third failure across the reload blocks");
});
