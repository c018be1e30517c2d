import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../lib/config/mod.ts";

function problemsOf(input: unknown): readonly string[] {
  try {
    parseConfig(input);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail("accepted");
}

Deno.test("parseConfig reads users, webhooks and the auth keys", () => {
  const c = parseConfig({
    users: [{
      user: "cam",
      pass: "pw",
      ips: ["10.0.0.0/8", "::1"],
      permissions: [{ action: "publish", path: "~^live/" }, { action: "api" }],
    }],
    webhooks: [{ url: "https://h/x", events: ["read.start"], secret: "k" }],
    authHTTPAddress: "http://127.0.0.1:9000/auth",
    authJWTJWKS: '{"keys":[]}',
    logFormat: "json",
  });
  assert.equal(c.users?.[0]?.permissions[1]?.action, "api");
  assert.equal(c.webhooks[0]?.events?.[0], "read.start");
  assert.equal(c.logFormat, "json");
  assert.equal(parseConfig({}).users, undefined, "absent: the defaults apply");
});

Deno.test("parseConfig names every wrong user, webhook and auth field", () => {
  assert.deepEqual(
    problemsOf({
      users: [{
        user: "",
        passHash: "md5:x",
        ips: ["10.0.0.0/33"],
        permissions: [{ action: "watch", path: "~(" }],
      }],
      webhooks: [{ url: "nope", events: ["x"] }],
      authHTTPAddress: "ftp://x",
      authJWTJWKS: "{bad",
      logFormat: "xml",
    }),
    [
      'Invalid config logFormat "xml": expected one of "text", "json"',
      'Invalid config authHTTPAddress "ftp://x": expected an http(s) URL',
      'Invalid config authJWTJWKS "{bad": expected an http(s) URL or a JWKS such as {"keys": […]}',
      'Invalid config users["0"].user "": expected a user name',
      'Invalid config users["0"].passHash "md5:x": expected "$argon2id$v=19$m=…,t=…,p=…$salt$hash" or "sha256:<salt>:<64 hex digits>"',
      'Invalid config users["0"].ips["0"] "10.0.0.0/33": expected an IP address or CIDR range',
      'Invalid config users["0"].permissions["0"].action "watch": expected one of "publish", "read", "playback", "api", "metrics"',
      'Invalid config users["0"].permissions["0"].path "~(": expected a valid regular expression after ~',
      'Invalid config webhooks["0"].url "nope": expected an http(s) URL',
      'Invalid config webhooks["0"].events["0"] "x": expected one of "publish.start", "publish.stop", "read.start", "read.stop", "relay.state", "segment.complete"',
    ],
  );
});
