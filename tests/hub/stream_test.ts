import assert from "node:assert/strict";
import { Stream } from "../../lib/hub/stream.ts";
import { AAC, audio, H264, RecordingOutput, video } from "./_fake.ts";

Deno.test("Stream primes a new output with tracks, metadata and the GOP from the last keyframe", () => {
  const s = new Stream("live/a");
  s.beginPublisher();
  s.setTrack(H264);
  s.setTrack(AAC);
  s.setMetadata({ width: 320 });
  s.writeFrame(video(0, true));
  s.writeFrame(audio(0));
  s.writeFrame(video(3600));
  s.writeFrame(video(7200, true));
  s.writeFrame(audio(1920));
  s.writeFrame(video(10800));
  const out = s.output("test", () => new RecordingOutput());
  assert.deepEqual(out.events, [
    "tracks H264,AAC",
    "metadata width",
    "frame 0 7200 key",
    "frame 1 1920 key",
    "frame 0 10800",
  ]);
});

Deno.test("Stream keeps the GOP once: each output gets its own packets of it, encoded once", () => {
  const s = new Stream("live/a");
  s.beginPublisher();
  s.setTrack(H264);
  s.setTrack(AAC);
  let cached: (() => string[]) | undefined;
  const early = s.output<RecordingOutput>(
    "early",
    (c) => (cached = c, new RecordingOutput()),
  );
  s.writeFrame(video(0, true));
  s.writeFrame(audio(0));
  s.writeFrame(video(3600));
  // Late output: primed from the hub's frames, encoding each once.
  let lateCached: (() => string[]) | undefined;
  const late = s.output<RecordingOutput>(
    "late",
    (c) => (lateCached = c, new RecordingOutput()),
  );
  assert.deepEqual(cached!(), [
    "frame 0 0 key",
    "frame 1 0 key",
    "frame 0 3600",
  ]);
  assert.deepEqual(lateCached!(), cached!());
  assert.equal(early.frames.length, 3);
  assert.equal(late.frames.length, 3);
  // Readers joining later read the same packets; nothing is encoded again.
  assert.deepEqual(lateCached!(), cached!());
  assert.equal(late.frames.length, 3);
  // A keyframe starts a new GOP for every output at once.
  s.writeFrame(video(7200, true));
  assert.deepEqual(cached!(), ["frame 0 7200 key"]);
  assert.deepEqual(lateCached!(), ["frame 0 7200 key"]);
});

Deno.test("Stream forgets an output's packets of the GOP when the output goes", () => {
  const s = new Stream("live/a");
  s.beginPublisher();
  s.setTrack(H264);
  let cached: (() => string[]) | undefined;
  const out = s.output<RecordingOutput>(
    "o",
    (c) => (cached = c, new RecordingOutput()),
  );
  s.writeFrame(video(0, true));
  assert.equal(cached!().length, 1);
  out.readers = 0;
  s.pruneOutputs();
  assert.deepEqual(cached!(), []);
});

Deno.test("Stream output is created once per key", () => {
  const s = new Stream("live/a");
  let created = 0;
  const a = s.output("rtmp", () => (created++, new RecordingOutput()));
  const b = s.output("rtmp", () => (created++, new RecordingOutput()));
  assert.equal(a, b);
  assert.equal(created, 1);
});

Deno.test("Stream drops frames until the first video keyframe of a publisher", () => {
  const s = new Stream("live/a");
  s.beginPublisher();
  s.setTrack(H264);
  s.setTrack(AAC);
  const out = s.output("test", () => new RecordingOutput());
  s.writeFrame(video(0));
  s.writeFrame(audio(0));
  s.writeFrame(video(3600, true));
  assert.deepEqual(out.frames.map((f) => f.dts), [3600]);
  assert.equal(s.stats.framesWaitingKeyframe, 2);
});

Deno.test("Stream repairs a timestamp stamped hours off", () => {
  const s = new Stream("live/a");
  s.beginPublisher();
  s.setTrack(H264);
  const out = s.output("test", () => new RecordingOutput());
  for (const dts of [0, 3600, 7200 + 90000 * 3600 * 5, 10800, 14400]) {
    s.writeFrame(video(dts, dts === 0));
  }
  const dts = out.frames.map((f) => f.dts);
  for (let i = 1; i < dts.length; i++) {
    assert.ok(dts[i]! > dts[i - 1]!, `monotonic: ${dts}`);
  }
  assert.ok(dts.at(-1)! < 90000, `no jump survives: ${dts}`);
  assert.equal(s.stats.timestampRepairs, 2);
});

Deno.test("Stream GOP cache is bounded", () => {
  const s = new Stream("live/a", { gopCacheMaxBytes: 1000 });
  s.beginPublisher();
  s.setTrack(H264);
  s.writeFrame(video(0, true, 600));
  s.writeFrame(video(3600, false, 600)); // over the bound: cache dropped
  s.writeFrame(video(7200, false, 10));
  const out = s.output("test", () => new RecordingOutput());
  assert.equal(out.frames.length, 0);
});

Deno.test("Stream without GOP cache primes nothing", () => {
  const s = new Stream("live/a", { gopCache: false });
  s.beginPublisher();
  s.setTrack(H264);
  s.writeFrame(video(0, true));
  assert.equal(s.output("test", () => new RecordingOutput()).frames.length, 0);
});

Deno.test("Stream tells outputs that mark discontinuities when a new publisher takes over", () => {
  const s = new Stream("live/p");
  s.beginPublisher();
  s.setTrack(H264);
  let publishers = 0;
  const out = Object.assign(new RecordingOutput(), {
    publisher: () => publishers++,
  });
  s.output("hls", () => out);
  s.writeFrame(video(0, true));
  s.beginPublisher();
  s.setTrack(H264);
  s.writeFrame(video(0, true));
  assert.equal(publishers, 1);
  // The new publisher's frames continue the timeline.
  const frames = out.events.filter((e) => e.startsWith("frame"));
  assert.equal(frames.length, 2);
});
