// What one access decision costs: the check every publish, play, SETUP and
// HTTP request runs (per connection, never per frame).
import { Authenticator } from "../lib/auth/authenticator.ts";
import { argon2Worker, hashPassword } from "../lib/auth/password.ts";
import { parseConfig } from "../lib/config/mod.ts";

const users = Array.from({ length: 100 }, (_, i) => ({
  user: `u${i}`,
  pass: `p${i}`,
  ips: ["10.0.0.0/8", "fd00::/8"],
  permissions: [{ action: "read" as const, path: `~^cam${i}/.*` }],
}));
const plain = new Authenticator(parseConfig({ users }), {
  limiter: { maxFailures: 1e9 },
});
const hashed = new Authenticator(
  parseConfig({
    users: [
      {
        user: "a",
        passHash: await hashPassword("pw"),
        permissions: [{ action: "read" }],
      },
      {
        user: "s",
        passHash: await hashPassword("pw", { algorithm: "sha256" }),
        permissions: [{ action: "read" }],
      },
    ],
  }),
  { limiter: { maxFailures: 1e9 } },
);
const base = { action: "read" as const, protocol: "rtsp", ip: "10.1.2.3" };

const group = "one access decision";
Deno.bench({
  group,
  name: "100 users, regex path, last user matches",
  baseline: true,
}, async () => {
  await plain.authorize({ ...base, path: "cam99/x", user: "u99", pass: "p99" });
});
Deno.bench({ group, name: "salted sha256 passHash" }, async () => {
  await hashed.authorize({ ...base, path: "a", user: "s", pass: "pw" });
});
Deno.bench({ group, name: "argon2id passHash, verified before" }, async () => {
  await hashed.authorize({ ...base, path: "a", user: "a", pass: "pw" });
});
let n = 0;
Deno.bench(
  { group, name: "argon2id passHash, wrong (worker, 19 MiB, t=2)" },
  async () => {
    await hashed.authorize({ ...base, path: "a", user: "a", pass: `x${n++}` });
  },
);

globalThis.addEventListener("unload", () => argon2Worker.close());
