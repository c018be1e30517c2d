import assert from "node:assert/strict";
import {
  checkQueryCredentials,
  constantTimeEqual,
  requiredCredentials,
  RtspAuthenticator,
} from "../../lib/auth/credentials.ts";
import {
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../lib/rtsp/headers/auth.ts";
import { RtspHeaders } from "../../lib/rtsp/message.ts";

const URL_ = "rtsp://127.0.0.1:8554/live/cam";

function digestFor(
  auth: RtspAuthenticator,
  password: string,
  nowHeaders?: RtspHeaders,
) {
  const denied = auth.check({
    method: "DESCRIBE",
    url: URL_,
    headers: nowHeaders ?? new RtspHeaders(),
  }, { user: "u", pass: "p" });
  assert.equal(denied.ok, false);
  const challenge = parseWwwAuthenticate(
    denied.ok ? "" : denied.challenges[0]!,
  )[0]!;
  assert.equal(challenge.scheme, "Digest");
  const creds = digestAuthorization(challenge, {
    username: "u",
    password,
    method: "DESCRIBE",
    uri: URL_,
  });
  return new RtspHeaders({ Authorization: stringifyAuthorization(creds) });
}

Deno.test("RtspAuthenticator accepts a fresh Digest answer and refuses a wrong password", () => {
  const auth = new RtspAuthenticator();
  assert.deepEqual(
    auth.check(
      { method: "DESCRIBE", url: URL_, headers: digestFor(auth, "p") },
      { user: "u", pass: "p" },
    ),
    { ok: true },
  );
  const wrong = auth.check({
    method: "DESCRIBE",
    url: URL_,
    headers: digestFor(auth, "x"),
  }, { user: "u", pass: "p" });
  assert.equal(wrong.ok, false);
});

Deno.test("RtspAuthenticator answers an expired nonce with stale=true", () => {
  let now = 0;
  const auth = new RtspAuthenticator({ nonceTtlMs: 1000, now: () => now });
  const headers = digestFor(auth, "p");
  now = 5000;
  const r = auth.check({ method: "DESCRIBE", url: URL_, headers }, {
    user: "u",
    pass: "p",
  });
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.challenges[0]!, /stale=(true|TRUE)/);
});

Deno.test("RtspAuthenticator refuses a Digest answer for another resource", () => {
  const auth = new RtspAuthenticator();
  const headers = digestFor(auth, "p");
  const r = auth.check({
    method: "DESCRIBE",
    url: "rtsp://127.0.0.1:8554/live/other",
    headers,
  }, { user: "u", pass: "p" });
  assert.equal(r.ok, false);
});

Deno.test("RtspAuthenticator remembers a bounded number of nonces", () => {
  const auth = new RtspAuthenticator({ maxNonces: 2 });
  const first = digestFor(auth, "p");
  digestFor(auth, "p");
  digestFor(auth, "p"); // evicts the first nonce
  const r = auth.check({ method: "DESCRIBE", url: URL_, headers: first }, {
    user: "u",
    pass: "p",
  });
  assert.equal(r.ok, false);
});

Deno.test("requiredCredentials reads per path and per action", () => {
  const paths = {
    "live/a": { readUser: "r", readPass: "1" },
    "live/b": { publishUser: "p", publishPass: "2" },
  };
  assert.deepEqual(requiredCredentials(paths, "live/a", "read"), {
    user: "r",
    pass: "1",
  });
  assert.equal(requiredCredentials(paths, "live/a", "publish"), undefined);
  assert.deepEqual(requiredCredentials(paths, "live/b", "publish"), {
    user: "p",
    pass: "2",
  });
  assert.equal(requiredCredentials(paths, "live/c", "read"), undefined);
});

Deno.test("checkQueryCredentials and constantTimeEqual", () => {
  assert.equal(
    checkQueryCredentials("user=a&pass=b", { user: "a", pass: "b" }),
    true,
  );
  assert.equal(
    checkQueryCredentials("user=a&pass=bb", { user: "a", pass: "b" }),
    false,
  );
  assert.equal(checkQueryCredentials("", { user: "a", pass: "b" }), false);
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("ab", "abc"), false);
  assert.equal(constantTimeEqual("", ""), true);
});
