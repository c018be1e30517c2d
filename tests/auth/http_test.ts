import assert from "node:assert/strict";
import fc from "fast-check";
import { Authenticator } from "../../lib/auth/authenticator.ts";
import { authorizeRequest, httpCredentials } from "../../lib/auth/http.ts";
import { parseConfig } from "../../lib/config/mod.ts";

const auth = () =>
  new Authenticator(
    parseConfig({
      users: [{ user: "ops", pass: "p:w", permissions: [{ action: "api" }] }],
    }),
    { limiter: { maxFailures: 3 } },
  );

Deno.test("httpCredentials reads Basic, Bearer and the query", () => {
  const basic = new Request("http://h/x?user=q&pass=r", {
    headers: { Authorization: `Basic ${btoa("ops:p:w")}` },
  });
  assert.deepEqual(httpCredentials(basic), {
    user: "ops",
    pass: "p:w",
    token: undefined,
    query: "user=q&pass=r",
  });
  const bearer = new Request("http://h/x", {
    headers: { Authorization: "Bearer abc.def.ghi" },
  });
  assert.equal(httpCredentials(bearer).token, "abc.def.ghi");
  assert.equal(httpCredentials(new Request("http://h/x?jwt=t")).token, "t");
});

Deno.test("authorizeRequest: 401 with a Basic challenge, then 429 once the address is blocked", async () => {
  const a = auth();
  const input = { action: "api" as const, path: "", ip: "10.0.0.9" };
  const ok = new Request("http://h/api", {
    headers: { Authorization: `Basic ${btoa("ops:p:w")}` },
  });
  assert.equal(await authorizeRequest(a, ok, input), undefined);
  const bad = new Request("http://h/api?user=ops&pass=no");
  for (let i = 0; i < 3; i++) {
    const r = await authorizeRequest(a, bad, input);
    assert.equal(r?.status, 401);
    assert.equal(r?.headers.get("WWW-Authenticate"), 'Basic realm="Sluice"');
  }
  assert.equal((await authorizeRequest(a, ok, input))?.status, 429);
  assert.equal(
    await authorizeRequest(a, ok, { ...input, ip: "127.0.0.1" }),
    undefined,
  );
});

Deno.test("httpCredentials and authorizeRequest take any Authorization value without throwing", async () => {
  const a = auth();
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
        fc.uint8Array({ maxLength: 40 }).map((b) =>
          `Basic ${btoa(String.fromCharCode(...b))}`
        ),
      ),
      async (value) => {
        let req: Request;
        try {
          req = new Request("http://h/x", {
            headers: { Authorization: value },
          });
        } catch {
          return; // not a header value fetch accepts
        }
        httpCredentials(req);
        const r = await authorizeRequest(a, req, {
          action: "metrics",
          path: "",
          ip: "10.1.1.1",
        });
        assert.ok(r === undefined || r.status === 401 || r.status === 429);
      },
    ),
    { numRuns: 500 },
  );
});
