import assert from "node:assert/strict";
import { createLogger, LOG_LEVELS, type LoggerOptions } from "../lib/log.ts";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678); // 2025-01-02T03:04:05.678Z

/** A logger writing into `lines` with a fixed clock. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    now: () => T0,
    write: (l) => void lines.push(l),
    ...options,
  });
  return { logger, lines };
}

Deno.test("createLogger writes time, level, context, message and fields on one line", () => {
  const { logger, lines } = capture();
  logger.child("rtmp#12 127.0.0.1:51514").info("publishing", {
    path: "live/cam1",
    tracks: 2,
  });
  assert.deepEqual(lines, [
    "2025-01-02T03:04:05.678Z INFO  [rtmp#12 127.0.0.1:51514] publishing path=live/cam1 tracks=2",
  ]);
});

Deno.test("createLogger leaves out the brackets when there is no context", () => {
  const { logger, lines } = capture();
  logger.warn("listening");
  assert.deepEqual(lines, ["2025-01-02T03:04:05.678Z WARN  listening"]);
});

Deno.test("createLogger writes only events at or above its level", () => {
  const { logger, lines } = capture({ level: "warn" });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  assert.deepEqual(lines.map((l) => l.split(" ").slice(1).join(" ")), [
    "WARN  w",
    "ERROR e",
  ]);
});

Deno.test("createLogger defaults to info", () => {
  const { logger, lines } = capture({ level: undefined });
  logger.debug("hidden");
  logger.info("shown");
  assert.equal(logger.level, "info");
  assert.equal(lines.length, 1);
});

Deno.test("Logger.enabled follows the level order", () => {
  for (const level of LOG_LEVELS) {
    const { logger } = capture({ level });
    const expected = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
    assert.deepEqual(
      LOG_LEVELS.filter((l) => logger.enabled(l)),
      expected,
      level,
    );
  }
});

Deno.test("Logger.child nests contexts and keeps the level and writer", () => {
  const { logger, lines } = capture({ level: "debug" });
  const session = logger.child("rtsp#3").child("live/cam1");
  session.debug("setup", { track: 0 });
  assert.equal(session.level, "debug");
  assert.deepEqual(lines, [
    "2025-01-02T03:04:05.678Z DEBUG [rtsp#3 live/cam1] setup track=0",
  ]);
});

Deno.test("Logger quotes field values that would split the line", () => {
  const { logger, lines } = capture();
  logger.info("closed", {
    reason: "read timeout",
    empty: "",
    eq: "a=b",
    quote: 'say "hi"',
    ok: true,
    bytes: 1024n,
    none: null,
    skipped: undefined,
    error: new Error("Cannot parse chunk: bad type"),
    nested: { a: 1 },
    payload: new Uint8Array(5),
  });
  assert.equal(
    lines[0],
    '2025-01-02T03:04:05.678Z INFO  closed reason="read timeout" empty="" eq="a=b" ' +
      'quote="say \\"hi\\"" ok=true bytes=1024 none=null ' +
      'error="Cannot parse chunk: bad type" nested="{\\"a\\":1}" payload="<5 bytes>"',
  );
});

Deno.test("Logger escapes newlines so a peer cannot forge a line", () => {
  const { logger, lines } = capture();
  logger.child("rtmp#1\nfake").warn("stream\nINFO forged", { name: "a\nb" });
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /\n/);
  assert.equal(
    lines[0],
    '2025-01-02T03:04:05.678Z WARN  [rtmp#1\\nfake] stream\\nINFO forged name="a\\nb"',
  );
});

Deno.test("Logger does not touch the clock or fields when the level is off", () => {
  let clockReads = 0;
  const logger = createLogger({
    level: "info",
    now: () => ++clockReads,
    write: () => {},
  });
  const fields = {
    get costly(): string {
      throw new Error("fields were read");
    },
  };
  for (let i = 0; i < 1000; i++) logger.debug("packet", fields);
  assert.equal(clockReads, 0);
});

Deno.test("createLogger rejects an unknown level", () => {
  // @ts-expect-error: not a level
  assert.throws(() => createLogger({ level: "trace" }), RangeError);
});

Deno.test("createLogger writes to stderr by default", async () => {
  const script = 'import { createLogger } from "./lib/log.ts";' +
    'createLogger().child("test").error("to stderr", { n: 1 });';
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  assert.equal(stdout.length, 0);
  assert.match(
    err,
    /^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR \[test\] to stderr n=1\n$/,
  );
});

Deno.test("createLogger with format json writes one parseable object per line", () => {
  const lines: string[] = [];
  const log = createLogger({
    format: "json",
    write: (l) => lines.push(l),
    now: () => 0,
  }).child("rtmp#1");
  log.info("publishing\nnow", {
    path: "live/a",
    n: 3,
    big: 5n,
    err: new Error("boom"),
    bytes: new Uint8Array(4),
    skip: undefined,
  });
  log.debug("not written");
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    msg: "publishing\nnow",
    scope: "rtmp#1",
    fields: {
      path: "live/a",
      n: 3,
      big: "5",
      err: "boom",
      bytes: "<4 bytes>",
    },
  });
});
