/** `server.ts` as users run it: configuration errors, and a clean shutdown on signals. */
import assert from "node:assert/strict";
import { RtmpClient } from "../../lib/client/rtmp.ts";

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

function run(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      SERVER,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

Deno.test("server.ts refuses a wrong value naming the field, the value and what was expected", async () => {
  const out = await run(["--rtmp-address", "nope", "--log-level", "loud"])
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2);
  assert.match(stderr, /Invalid config rtmpAddress "nope": expected host:port/);
  assert.match(stderr, /Invalid config logLevel "loud"/);
});

Deno.test("server.ts --help lists the flags with their defaults", async () => {
  const out = await run(["--help"]).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /--rtmp-address.*:1935/);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`server.ts ends sessions and exits 0 on ${signal}`, async () => {
    const child = run([
      ...["--rtmp-address", "127.0.0.1:0", "--rtsp-address", "127.0.0.1:0"],
      ...["--rtp-address", "127.0.0.1:0", "--rtcp-address", "127.0.0.1:0"],
      ...["--http-address", "127.0.0.1:0"],
    ]);
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let log = "";
    let port = 0;
    while (port === 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited early:\n${log}`);
      log += value;
      const m = /RTMP listening address=[\d.]+:(\d+)/.exec(log);
      if (m) port = Number(m[1]);
    }
    const client = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live/x`);
    await client.publish();
    child.kill(signal);
    const status = await child.status;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
    }
    assert.equal(status.code, 0, log);
    assert.match(log, new RegExp(`shutting down signal=${signal}`));
    const messages = client.messages();
    assert.equal((await messages.next()).done, true, "the session was closed");
    client.close();
    await child.stdout.cancel();
  });
}
