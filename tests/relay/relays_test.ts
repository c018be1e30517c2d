/**
 * The relay loop without sockets: connections that fail before they touch
 * the network (a push whose path has no stream yet, a source URL that does
 * not parse), on a fake clock, show the backoff, the states, the on-demand
 * start and stop, and close. Relays that connect run in
 * tests/interop/relay_test.ts.
 */
import assert from "node:assert/strict";
import { type RelayPathConfig, Relays } from "../../lib/relay/mod.ts";
import { FakeClock, FakeHub, RecordingLog } from "./_fake.ts";

/** Fails in RtmpClient.connect, before any socket: the URL has no app. */
const BAD_SOURCE = "rtmp://camera.invalid";

function relays(
  paths: Record<string, RelayPathConfig>,
  options: { backoffMs?: number; maxBackoffMs?: number } = {},
): { relays: Relays; hub: FakeHub; log: RecordingLog } {
  const hub = new FakeHub();
  const log = new RecordingLog();
  return { relays: new Relays({ hub, paths, log, ...options }), hub, log };
}

Deno.test("Relays retries a failing push with a backoff that doubles up to maxBackoffMs", async () => {
  using clock = new FakeClock();
  const { relays: r, hub } = relays(
    { "live/a": { push: ["rtsp://127.0.0.1:8554/b"] } },
    { backoffMs: 500, maxBackoffMs: 3000 },
  );
  hub.publishers.add("live/a"); // a publisher, but no stream yet: every try fails
  r.start();
  await clock.advance(1000); // the first tick sees the publisher
  await clock.advance(500 + 1000 + 2000 + 3000 + 3000);
  assert.deepEqual(clock.timeoutDelays, [500, 1000, 2000, 3000, 3000, 3000]);
  const [state, ...rest] = r.states();
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...state, since: undefined }, {
    path: "live/a",
    kind: "push",
    url: "rtsp://127.0.0.1:8554/b",
    status: "retrying",
    lastError: "the path has no stream",
    since: undefined,
    attempts: 6,
  });
  assert.equal(state!.since, clock.now, "since is the last failure");
  r.close();
});

Deno.test("Relays backs off 1 s, then up to 30 s by default", async () => {
  using clock = new FakeClock();
  const { relays: r, hub } = relays({ "live/a": { push: ["rtmp://h/app/b"] } });
  hub.publishers.add("live/a");
  r.start();
  await clock.advance(1000 + 1000 + 2000 + 4000 + 8000 + 16000 + 30000);
  assert.deepEqual(
    clock.timeoutDelays,
    [1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  r.close();
});

Deno.test("Relays logs each connect at info and each failure at warn", async () => {
  using clock = new FakeClock();
  const { relays: r, hub, log } = relays({
    "live/a": { push: ["rtmp://user:secret@h/app/b"] },
  });
  hub.publishers.add("live/a");
  r.start();
  await clock.advance(1000);
  assert.deepEqual(log.lines(), [
    "info push relay connecting",
    "warn push relay failed",
  ]);
  assert.deepEqual(log.events[1]!.fields, {
    path: "live/a",
    url: "rtmp://h/app/b",
    status: "retrying",
    error: "the path has no stream",
  });
  assert.equal(
    r.states()[0]!.url,
    "rtmp://h/app/b",
    "credentials are left out",
  );
  r.close();
});

Deno.test("Relays pushes while the path has a publisher, to every URL, and stops when it goes", async () => {
  using clock = new FakeClock();
  const { relays: r, hub } = relays({
    "live/a": { push: ["rtsp://h/1", "rtmp://h/app/2"] },
    "live/quiet": { push: ["rtsp://h/3"] },
  });
  r.start();
  await clock.advance(3000);
  assert.deepEqual(r.states(), [], "no publisher: no push");
  hub.publishers.add("live/a");
  await clock.advance(1000);
  assert.deepEqual(r.states().map((s) => [s.url, s.status]), [
    ["rtsp://h/1", "retrying"],
    ["rtmp://h/app/2", "retrying"],
  ]);
  hub.publishers.delete("live/a");
  await clock.advance(1000);
  assert.deepEqual(r.states(), []);
  assert.equal(
    clock.pending,
    1,
    "the backoff timers are cleared; the tick stays",
  );
  const tries = clock.timeoutDelays.length;
  await clock.advance(60_000);
  assert.equal(
    clock.timeoutDelays.length,
    tries,
    "a stopped push never tries again",
  );
  hub.publishers.add("live/a");
  await clock.advance(1000);
  assert.deepEqual(
    r.states().map((s) => s.attempts),
    [1, 1],
    "a new publisher, new pushes",
  );
  r.close();
});

Deno.test("Relays retries an always-on pull from start() on, with the client's error", async () => {
  using clock = new FakeClock();
  const { relays: r, log } = relays({
    "live/cam": { source: BAD_SOURCE },
    "live/lazy": { source: BAD_SOURCE, sourceOnDemand: true },
  });
  r.start();
  await clock.advance(0);
  const [state, ...rest] = r.states();
  assert.equal(rest.length, 0, "the on-demand source waits for a reader");
  assert.equal(state!.kind, "pull");
  assert.equal(state!.status, "retrying");
  assert.match(state!.lastError!, /^Cannot parse RTMP URL/);
  assert.deepEqual(log.lines(), [
    "info pull relay connecting",
    "warn pull relay failed",
  ]);
  await clock.advance(1000 + 2000);
  assert.equal(r.states()[0]!.attempts, 3);
  await clock.advance(60_000);
  assert.equal(
    r.states()[0]!.status,
    "retrying",
    "an always-on pull never stops",
  );
  r.close();
});

Deno.test("Relays starts an on-demand pull once for a waiting reader", async () => {
  using clock = new FakeClock();
  const { relays: r, log } = relays({
    "live/cam": { source: BAD_SOURCE, sourceOnDemand: true },
    "live/plain": {},
  });
  r.start();
  r.onDemand("live/plain");
  r.onDemand("live/unknown");
  assert.deepEqual(r.states(), []);
  r.onDemand("live/cam");
  r.onDemand("live/cam");
  await clock.advance(0);
  assert.deepEqual(r.states().map((s) => [s.path, s.attempts]), [[
    "live/cam",
    1,
  ]]);
  assert.equal(log.lines()[0], "info starting on-demand source");
  assert.deepEqual(log.events[0]!.fields, { path: "live/cam" });
  r.close();
});

Deno.test("Relays stops an on-demand pull after sourceOnDemandCloseAfter without readers", async () => {
  using clock = new FakeClock();
  const { relays: r, hub, log } = relays({
    "live/cam": {
      source: BAD_SOURCE,
      sourceOnDemand: true,
      sourceOnDemandCloseAfter: 5000,
    },
  });
  hub.readers.set("live/cam", 2);
  r.start();
  r.onDemand("live/cam");
  await clock.advance(20_000);
  assert.equal(r.states().length, 1, "readers keep it");
  hub.readers.set("live/cam", 0);
  await clock.advance(1000); // the first tick without readers starts the count
  await clock.advance(5000);
  assert.equal(r.states().length, 1, "not yet: 5 s, not more");
  await clock.advance(1000);
  assert.deepEqual(r.states(), []);
  assert.equal(
    log.lines().at(-1),
    "info stopping on-demand source: no readers",
  );
  assert.equal(clock.pending, 1, "its backoff timer is cleared");
  r.onDemand("live/cam");
  await clock.advance(0);
  assert.deepEqual(
    r.states().map((s) => s.attempts),
    [1],
    "a new reader starts it again",
  );
  r.close();
});

Deno.test("Relays stops an unread on-demand pull after 10 s by default", async () => {
  using clock = new FakeClock();
  const { relays: r } = relays({
    "live/cam": { source: BAD_SOURCE, sourceOnDemand: true },
  });
  r.start();
  r.onDemand("live/cam"); // the reader gave up before the path had a stream
  await clock.advance(10_000);
  assert.equal(r.states().length, 1);
  await clock.advance(1000);
  assert.deepEqual(r.states(), []);
  r.close();
});

Deno.test("Relays.close stops every relay, its timers and later on-demand starts", async () => {
  using clock = new FakeClock();
  const { relays: r, hub } = relays({
    "live/cam": { source: BAD_SOURCE },
    "live/lazy": { source: BAD_SOURCE, sourceOnDemand: true },
    "live/a": { push: ["rtsp://h/1"] },
  });
  hub.publishers.add("live/a");
  r.start();
  await clock.advance(1000);
  assert.equal(r.states().length, 2);
  r.close();
  assert.deepEqual(r.states(), []);
  assert.equal(clock.pending, 0);
  r.onDemand("live/lazy");
  await clock.advance(60_000);
  assert.deepEqual(r.states(), []);
  assert.equal(clock.pending, 0);
});

Deno.test("Relays keeps credentials out of an error that quotes the URL", async () => {
  using clock = new FakeClock();
  const { relays: r, log } = relays({
    "cam/a": { source: "rtmp://admin:s3cret@h" }, // no app: fails before connecting
  });
  r.start();
  await clock.advance(1000);
  const state = r.states()[0]!;
  assert.ok(state.lastError !== undefined, "the pull failed");
  assert.doesNotMatch(state.lastError, /s3cret|admin/);
  assert.match(state.lastError, /rtmp:\/\/h/);
  for (const e of log.events) {
    assert.doesNotMatch(JSON.stringify(e.fields), /s3cret/);
  }
  r.close();
});
