import assert from "node:assert/strict";
import { Hub, HubError } from "../../lib/hub/hub.ts";
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

Deno.test("Hub wait can be aborted by the reader", async () => {
  const timers = new FakeTimers();
  const hub = new Hub({ timers });
  const ac = new AbortController();
  const waiting = hub.waitForStream("live/a", { signal: ac.signal });
  ac.abort(new Error("gone"));
  await assert.rejects(waiting, /gone/);
  assert.equal(timers.pending, 0);
});

Deno.test("Hub lets a second publisher take over and keeps the stream and its readers", () => {
  const hub = new Hub({ timers: new FakeTimers() });
  let takenOver = 0;
  const first = hub.publish("live/a", { onTakenOver: () => takenOver++ });
  const stream = first.stream;
  const out = stream.output("test", () => new RecordingOutput());
  const second = hub.publish("live/a");
  assert.equal(takenOver, 1);
  assert.equal(first.active, false);
  assert.equal(second.stream, stream);
  assert.equal(out.events.includes("end"), false);
  first.writeFrame(video(0, true)); // ignored: no longer the publisher
  assert.equal(out.frames.length, 0);
});

Deno.test("Hub refuses a second publisher when override is off", () => {
  const hub = new Hub({ timers: new FakeTimers(), overridePublisher: false });
  hub.publish("live/a");
  assert.throws(
    () => hub.publish("live/a"),
    (e) => e instanceof HubError && e.code === "busy",
  );
  assert.doesNotThrow(() => hub.publish("live/b"), "other paths are free");
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
  const hub = new Hub({ timers: new FakeTimers() });
  const p1 = hub.publish("live/a");
  p1.setTrack(H264);
  p1.setTrack(AAC);
  const out = p1.stream.output("test", () => new RecordingOutput());
  p1.writeFrame(video(90000, true)); // 1 s
  p1.writeFrame(audio(48000)); // 1 s
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
