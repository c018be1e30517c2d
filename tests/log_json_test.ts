/** `logFormat: json`: one JSON object per line, whatever the message and fields hold. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger } from "../lib/log.ts";
import { parseConfig } from "../lib/config/load.ts";

function jsonLogger(level: "info" | "debug" = "info") {
  const lines: string[] = [];
  const log = createLogger({
    level,
    format: "json",
    write: (line) => lines.push(line),
    now: () => 0,
  });
  return { log, lines };
}

Deno.test("Logger with format json writes time, level, msg, scope and fields", () => {
  const { log, lines } = jsonLogger();
  log.child("rtmp#12 127.0.0.1:51514").child("play").info("publishing", {
    path: "live/cam1",
    tracks: 2,
    skipped: undefined,
    error: new Error("Cannot read chunk: truncated"),
    payload: new Uint8Array(5),
    big: 12n,
  });
  log.debug("below the level");
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    msg: "publishing",
    scope: "rtmp#12 127.0.0.1:51514 play",
    fields: {
      path: "live/cam1",
      tracks: 2,
      error: "Cannot read chunk: truncated",
      payload: "<5 bytes>",
      big: "12",
    },
  });
});

Deno.test("Logger with format json keeps one object per line for any message and fields", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary" }),
      fc.string({ unit: "binary" }),
      fc.dictionary(fc.string(), fc.jsonValue()),
      (scope, msg, fields) => {
        const { log, lines } = jsonLogger();
        log.child(scope).warn(msg, fields);
        assert.equal(lines.length, 1);
        assert.ok(!lines[0]!.includes("\n"));
        const parsed = JSON.parse(lines[0]!);
        assert.equal(parsed.msg, msg);
        assert.equal(parsed.scope, scope);
        assert.equal(parsed.level, "warn");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Logger with format json survives a field with a cycle", () => {
  const { log, lines } = jsonLogger();
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  log.error("cycle", { loop, n: 3 });
  const parsed = JSON.parse(lines[0]!);
  assert.equal(parsed.msg, "cycle");
  assert.equal(parsed.fields.n, "3");
  assert.equal(typeof parsed.fields.loop, "string");
});

Deno.test("createLogger rejects an unknown format", () => {
  // @ts-expect-error: not a format
  assert.throws(() => createLogger({ format: "xml" }), RangeError);
});

Deno.test("logFormat defaults to text, accepts json, refuses anything else", () => {
  assert.equal(parseConfig({}).logFormat, "text");
  assert.equal(parseConfig({ logFormat: "json" }).logFormat, "json");
  assert.throws(() => parseConfig({ logFormat: "xml" }), /logFormat/);
});

Deno.test("server.ts with --log-format=json writes JSON lines to stderr", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "server.ts",
      "--log-format=json",
      "--rtmp-address=127.0.0.1:0",
      "--rtsp=false",
      "--http=false",
    ],
    cwd: new URL("..", import.meta.url),
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  try {
    while (!text.includes("\n") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    child.kill("SIGTERM");
  }
  // The rest, until the process exits.
  for (let i = 0; i < 1000; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await child.status;
  const lines = text.split("\n").filter((l) => l !== "");
  assert.ok(lines.length >= 1, text);
  for (const line of lines) {
    const o = JSON.parse(line);
    assert.deepEqual(Object.keys(o), [
      "time",
      "level",
      "msg",
      "scope",
      "fields",
    ]);
  }
});
