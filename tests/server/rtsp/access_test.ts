import assert from "node:assert/strict";
import fc from "fast-check";
import { Authenticator } from "../../../lib/auth/authenticator.ts";
import { RtspAuthenticator } from "../../../lib/auth/credentials.ts";
import { parseConfig } from "../../../lib/config/mod.ts";
import { createLogger } from "../../../lib/log.ts";
import { RtspHeaders, type RtspRequest } from "../../../lib/rtsp/message.ts";
import {
  authorize,
  pathOf,
  queryLast,
} from "../../../lib/server/rtsp/access.ts";
import type { ServerContext } from "../../../lib/server/rtsp/context.ts";

const CASES: [string, string][] = [
  ["rtsp://h/live/a?jwt=T/trackID=0", "rtsp://h/live/a/trackID=0?jwt=T"],
  ["rtsp://h/live/a?jwt=T/", "rtsp://h/live/a/?jwt=T"],
  ["rtsp://h/live/a?jwt=T", "rtsp://h/live/a?jwt=T"],
  ["rtsp://h/live/a/trackID=1", "rtsp://h/live/a/trackID=1"],
];
for (const [url, expected] of CASES) {
  Deno.test(`queryLast: ffmpeg's ${url}`, () => {
    assert.equal(queryLast(url), expected);
  });
}

Deno.test("queryLast keeps every character and leaves no slash after the query", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (url) => {
      const out = queryLast(url);
      assert.equal([...out].sort().join(""), [...url].sort().join(""));
      const q = out.indexOf("?");
      if (q >= 0 && url.slice(url.indexOf("?")).includes("/")) {
        assert.ok(!out.slice(q).includes("/"), out);
      }
    }),
    { numRuns: 2000 },
  );
  assert.equal(pathOf("rtsp://h/live/a?jwt=T/trackID=0"), "live/a/trackID=0");
});

Deno.test("authorize answers any Authorization value with 401 or an RtspError, and allows the right one", async () => {
  const config = parseConfig({
    users: [{ user: "v", pass: "p", permissions: [{ action: "read" }] }],
  });
  const server = {
    config,
    auth: new RtspAuthenticator(),
    authenticator: new Authenticator(config, {
      limiter: { maxFailures: 1e9 },
    }),
  } as unknown as ServerContext;
  const conn = {
    log: createLogger({ level: "error", write: () => {} }),
    remoteHostname: "10.0.0.1",
  };
  const req = (value?: string): RtspRequest => ({
    kind: "request",
    method: "DESCRIBE",
    url: "rtsp://h/live/a",
    headers: new RtspHeaders(
      value === undefined ? [] : [["Authorization", value]],
    ),
    body: new Uint8Array(0),
  } as unknown as RtspRequest);
  assert.equal(
    await authorize(
      server,
      conn,
      req(`Basic ${btoa("v:p")}`),
      "live/a",
      "read",
    ),
    "v",
  );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 120 }),
        fc.string({ maxLength: 100 }).map((s) => `Digest ${s}`),
        fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
      ),
      async (value) => {
        try {
          await authorize(server, conn, req(value), "live/a", "read");
          assert.fail(`allowed ${JSON.stringify(value)}`);
        } catch (e) {
          const name = (e as Error).name;
          assert.ok(
            (name === "Refusal" && (e as { status: number }).status === 401) ||
              name === "RtspError",
            `${name}: ${(e as Error).message}`,
          );
        }
      },
    ),
    { numRuns: 500 },
  );
});
