import assert from "node:assert/strict";
import { PACKET_KIND } from "../../lib/egress/packet.ts";
import { ReaderLag } from "../../lib/egress/reader_lag.ts";
import { ReaderQueue } from "../../lib/egress/reader_queue.ts";
import { Stream } from "../../lib/hub/stream.ts";

const delta = (n: number) => ({
  bytes: new Uint8Array(n),
  kind: PACKET_KIND.DELTA,
});

Deno.test("ReaderLag counts a queue's drops once, on the stream and its protocol", () => {
  const q = new ReaderQueue({ maxBytes: 10 });
  const stream = new Stream("live/a");
  const lag = new ReaderLag(q, { protocol: "rtmp", writeTimeoutMs: 1000 });
  q.offer(delta(8));
  q.offer(delta(8)); // over budget: skipping starts, dropped
  q.offer(delta(1)); // dropped while skipping
  assert.deepEqual(lag.check(0, 0, stream), { drop: false, firstSkip: true });
  assert.equal(stream.stats.readerDrops, 2);
  assert.deepEqual(stream.stats.byProtocol.rtmp, {
    readerDrops: 2,
    readersDropped: 0,
  });
  // Nothing new: nothing counted again.
  assert.deepEqual(lag.check(10, 0, stream), { drop: false, firstSkip: false });
  assert.equal(stream.stats.readerDrops, 2);
});

Deno.test("ReaderLag drops a reader that keeps skipping longer than the write timeout", () => {
  const q = new ReaderQueue({ maxBytes: 10 });
  const stream = new Stream("live/a");
  const lag = new ReaderLag(q, { protocol: "flv", writeTimeoutMs: 1000 });
  q.offer(delta(8));
  q.offer(delta(8));
  assert.equal(lag.check(5000, 0, stream).drop, false); // skipping from now on
  assert.equal(lag.check(5900, 0, stream).drop, false);
  assert.deepEqual(lag.check(6001, 0, stream), { drop: true, behindMs: 1001 });
  assert.equal(stream.stats.readersDropped, 1);
  assert.equal(stream.stats.byProtocol.flv?.readersDropped, 1);
});

Deno.test("ReaderLag drops a reader whose writes stall longer than the write timeout", () => {
  const q = new ReaderQueue();
  const lag = new ReaderLag(q, { protocol: "rtsp", writeTimeoutMs: 1000 });
  assert.equal(lag.check(0, 999).drop, false);
  assert.deepEqual(lag.check(0, 1500), { drop: true, behindMs: 1500 });
});

Deno.test("ReaderLag forgets the skip once the queue has caught up at a keyframe", () => {
  const q = new ReaderQueue({ maxBytes: 10 });
  const lag = new ReaderLag(q, { protocol: "rtmp", writeTimeoutMs: 1000 });
  q.offer(delta(8));
  q.offer(delta(8));
  lag.check(0, 0);
  q.take();
  q.offer({ bytes: new Uint8Array(1), kind: PACKET_KIND.KEY });
  assert.equal(q.skipping, false);
  assert.equal(lag.check(900, 0).drop, false);
  q.offer(delta(8));
  q.offer(delta(8)); // skipping again, the clock starts anew
  assert.equal(lag.check(1500, 0).drop, false);
  assert.equal(lag.check(2400, 0).drop, false);
});

Deno.test("ReaderLag watches every queue of a reader (RTSP over UDP: one per track)", () => {
  const video = new ReaderQueue({ maxBytes: 10 });
  const audio = new ReaderQueue({ maxBytes: 10 });
  const stream = new Stream("live/a");
  const lag = new ReaderLag([video, audio], {
    protocol: "rtsp",
    writeTimeoutMs: 100,
  });
  audio.offer(delta(8));
  audio.offer(delta(8));
  assert.equal(lag.check(0, 0, stream).drop, false);
  assert.equal(stream.stats.byProtocol.rtsp?.readerDrops, 1);
  assert.equal(lag.check(101, 0, stream).drop, true);
});
