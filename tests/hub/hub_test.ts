import assert from "node:assert/strict";
import { Hub, HubError, type HubOptions } from "../../lib/hub/hub.ts";
import {
  AAC,
  audio,
  FakeTimers,
  H264,
  RecordingOutput,
  video,
} from "./_fake.ts";

Deno.test("Hub resolves a waiting reader when the publisher arrives", async () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers });
  const waiting = hub.waitForStream("live/a");
  hub.publish("live/a");
  const stream = await waiting;
  assert.equal(stream.path, "live/a");
  assert.equal(timers.pending, 0, "the wait timer is cleared");
});

Deno.test("Hub rejects a reader with not-found after the wait timeout", async () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers, playWaitTimeoutMs: 3000 });
  const waiting = hub.waitForStream("live/none");
  timers.advance(2999);
  let settled = false;
  waiting.catch(() => {}).finally(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false);
  timers.advance(1);
  await assert.rejects(
    waiting,
    (e) => e instanceof HubError && e.code === "not-found",
  );
});

Deno.test("Hub rejects a waiting reader after 3 s by default, inside the 5 s clients wait", async () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers });
  let settledAt: number | undefined;
  const waiting = hub.waitForStream("live/none");
  waiting.catch(() => settledAt = timers.now);
  timers.advance(2999);
  await Promise.resolve();
  assert.equal(settledAt, undefined);
  timers.advance(1);
  await assert.rejects(waiting, HubError);
  assert.equal(settledAt, 3000);
});

Deno.test("Hub answers not-found at once for a path nothing can publish, and waits for one that can", async () => {
  const timers = new FakeTimers();
  const asked: string[] = [];
  const hub = new Hub({
    timers,
    canPublish: (path) => path === "cam/pulled",
    onDemand: (path) => asked.push(path),
  });
  await assert.rejects(
    hub.waitForStream("live/none"),
    (e) =>
      e instanceof HubError && e.code === "not-found" &&
      /nothing can publish it/.test(e.message),
  );
  assert.equal(timers.pending, 0, "no wait was started");
  assert.deepEqual(asked, [], "no on-demand source was asked for");
  const waiting = hub.waitForStream("cam/pulled");
  assert.equal(timers.pending, 1);
  hub.publish("cam/pulled");
  assert.equal((await waiting).path, "cam/pulled");
});

Deno.test("Hub wait can be aborted by the reader", async () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers });
  const ac = new AbortController();
  const waiting = hub.waitForStream("live/a", { signal: ac.signal });
  ac.abort(new Error("gone"));
  await assert.rejects(waiting, /gone/);
  assert.equal(timers.pending, 0);
});

/** A hub on a manual clock: its timers and its idea of now are the same. */
function clocked(options: HubOptions = {}): { hub: Hub; timers: FakeTimers } {
  const timers = new FakeTimers();
  return {
    hub: new Hub({ timers, now: () => timers.now, ...options }),
    timers,
  };
}

Deno.test("Hub lets a reconnecting encoder take over its half-open connection at once, keeping the stream and its readers", () => {
  const { hub, timers } = clocked();
  let takenOver = 0;
  const first = hub.publish("live/a", { onTakenOver: () => takenOver++ });
  first.setTrack(H264);
  first.writeFrame(video(0, true));
  const stream = first.stream;
  const out = stream.output("test", () => new RecordingOutput());
  out.frames.length = 0;
  timers.advance(2000); // the network dropped: nothing more from the first connection
  const second = hub.publish("live/a");
  assert.equal(takenOver, 1);
  assert.equal(first.active, false);
  assert.equal(second.stream, stream);
  assert.equal(out.events.includes("end"), false);
  first.writeFrame(video(0, true)); // ignored: no longer the publisher
  assert.equal(out.frames.length, 0);
});

Deno.test("Hub refuses a second publisher when override is off, even of an idle path and authenticated", () => {
  const { hub, timers } = clocked({ overridePublisher: false });
  hub.publish("live/a");
  timers.advance(60_000);
  assert.throws(
    () => hub.publish("live/a", { authenticated: true }),
    (e) => e instanceof HubError && e.code === "busy",
  );
  assert.doesNotThrow(() => hub.publish("live/b"), "other paths are free");
});

Deno.test("Hub (auto, the default) refuses an anonymous newcomer while the publisher sends", () => {
  const { hub, timers } = clocked();
  const first = hub.publish("live/a");
  first.setTrack(H264);
  for (let t = 0; t < 10; t++) {
    first.writeFrame(video(t * 3600, t === 0));
    timers.advance(40);
  }
  timers.advance(1999 - 40); // the last frame was 1999 ms ago
  assert.throws(
    () => hub.publish("live/a"),
    (e) =>
      e instanceof HubError && e.code === "busy" &&
      /another publisher is sending on it/.test(e.message),
  );
  assert.equal(first.active, true, "the publisher keeps the path");
  assert.equal(hub.stream("live/a"), first.stream);
  timers.advance(1);
  assert.doesNotThrow(
    () => hub.publish("live/a"),
    "after 2 s it counts as gone",
  );
  assert.equal(first.active, false);
});

Deno.test("Hub (auto) gives a publisher that has sent nothing yet the idle time from its start", () => {
  const { hub, timers } = clocked({ publisherIdleMs: 500 });
  const first = hub.publish("live/a");
  timers.advance(499);
  assert.throws(() => hub.publish("live/a"), HubError);
  timers.advance(1);
  hub.publish("live/a");
  assert.equal(first.active, false);
});

Deno.test("Hub (auto) lets a newcomer with the path's publish credentials take over a sending publisher", () => {
  const { hub } = clocked();
  let takenOver = 0;
  const first = hub.publish("live/a", { onTakenOver: () => takenOver++ });
  first.setTrack(H264);
  first.writeFrame(video(0, true));
  const second = hub.publish("live/a", { authenticated: true });
  assert.equal(takenOver, 1);
  assert.equal(first.active, false);
  assert.equal(second.active, true);
});

Deno.test("Hub with overridePublisher true lets anyone take over a sending publisher", () => {
  const { hub } = clocked({ overridePublisher: true });
  const first = hub.publish("live/a");
  first.setTrack(H264);
  first.writeFrame(video(0, true));
  hub.publish("live/a");
  assert.equal(first.active, false);
});

Deno.test("Hub takes the per-path policy of a publish over its own", () => {
  const { hub: never } = clocked({ overridePublisher: false });
  const first = never.publish("live/a");
  never.publish("live/a", { overridePublisher: true });
  assert.equal(first.active, false);
  const { hub: always } = clocked({ overridePublisher: true });
  const sending = always.publish("live/b");
  sending.setTrack(H264);
  sending.writeFrame(video(0, true));
  for (const overridePublisher of ["auto", false] as const) {
    assert.throws(
      () => always.publish("live/b", { overridePublisher }),
      HubError,
    );
  }
  assert.equal(sending.active, true);
});

Deno.test("Hub keeps readers for the grace period, then ends the stream", () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers, publisherGracePeriodMs: 5000 });
  const p = hub.publish("live/a");
  const out = p.stream.output("test", () => new RecordingOutput());
  p.close();
  timers.advance(4999);
  assert.equal(out.events.includes("end"), false);
  assert.ok(hub.stream("live/a"));
  timers.advance(1);
  assert.deepEqual(out.events.at(-1), "end");
  assert.equal(hub.stream("live/a"), undefined);
});

Deno.test("Hub: a publisher back within the grace period continues for the same readers", () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers, publisherGracePeriodMs: 5000 });
  const p1 = hub.publish("live/a");
  p1.setTrack(H264);
  const out = p1.stream.output("test", () => new RecordingOutput());
  p1.writeFrame(video(0, true));
  p1.writeFrame(video(3000));
  p1.close();
  timers.advance(2000);
  const p2 = hub.publish("live/a");
  p2.setTrack(H264);
  p2.writeFrame(video(900000)); // not a keyframe: readers continue at the next one
  p2.writeFrame(video(903000, true));
  p2.writeFrame(video(906000));
  timers.advance(10000);
  assert.equal(out.events.includes("end"), false);
  assert.deepEqual(out.frames.map((f) => f.dts), [0, 3000, 6000, 9000]);
});

Deno.test("Hub: a stream without readers ends as soon as its publisher goes", () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers });
  hub.publish("live/a").close();
  assert.equal(hub.stream("live/a"), undefined);
  assert.equal(timers.pending, 0);
});

Deno.test("Hub keeps audio and video in step across a takeover", () => {
  const { hub, timers } = clocked();
  const p1 = hub.publish("live/a");
  p1.setTrack(H264);
  p1.setTrack(AAC);
  const out = p1.stream.output("test", () => new RecordingOutput());
  p1.writeFrame(video(90000, true)); // 1 s
  p1.writeFrame(audio(48000)); // 1 s
  timers.advance(2000); // p1's connection went half-open; its encoder reconnects
  const p2 = hub.publish("live/a");
  p2.setTrack(H264);
  p2.setTrack(AAC);
  p2.writeFrame(audio(0)); // dropped: waits for a video keyframe
  p2.writeFrame(video(0, true));
  p2.writeFrame(audio(4800)); // 0.1 s after that keyframe
  const [, , v2, a2] = out.frames;
  assert.equal(out.frames.length, 4);
  const vSec = v2!.dts / 90000;
  const aSec = a2!.dts / 48000;
  assert.ok(vSec > 1 && vSec < 1.1, `video continues after 1 s, got ${vSec}`);
  assert.ok(
    Math.abs(aSec - vSec - 0.1) < 0.001,
    `audio stays 0.1 s after video, got ${aSec - vSec}`,
  );
});

Deno.test("Hub asks for an on-demand source when a reader waits, and the reader gets it", async () => {
  const timers = new FakeTimers();
  const asked: string[] = [];
  const hub: Hub = new Hub({
    timers,
    onDemand: (path) => {
      asked.push(path);
      queueMicrotask(() => hub.publish(path));
    },
  });
  const stream = await hub.waitForStream("cam/1");
  assert.deepEqual(asked, ["cam/1"]);
  assert.equal(stream.path, "cam/1");
});
