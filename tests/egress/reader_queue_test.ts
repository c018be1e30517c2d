import assert from "node:assert/strict";
import { PACKET_KIND } from "../../lib/egress/packet.ts";
import { ReaderQueue } from "../../lib/egress/reader_queue.ts";

const bytes = (n: number) => new Uint8Array(n);

Deno.test("ReaderQueue hands over everything queued in one take", () => {
  let ready = 0;
  const q = new ReaderQueue({ maxBytes: 100, onReady: () => ready++ });
  q.offer({ bytes: bytes(10), kind: PACKET_KIND.KEY });
  q.offer({ bytes: bytes(20), kind: PACKET_KIND.DELTA });
  assert.equal(ready, 1, "onReady fires once per empty-to-non-empty change");
  assert.equal(q.bytes, 30);
  assert.deepEqual(q.take().map((b) => b.length), [10, 20]);
  assert.equal(q.bytes, 0);
  q.offer({ bytes: bytes(5), kind: PACKET_KIND.DELTA });
  assert.equal(ready, 2);
});

Deno.test("ReaderQueue over budget skips to the next keyframe", () => {
  const q = new ReaderQueue({ maxBytes: 100 });
  q.offer({ bytes: bytes(60), kind: PACKET_KIND.KEY });
  assert.equal(q.offer({ bytes: bytes(60), kind: PACKET_KIND.DELTA }), false);
  assert.equal(q.skipping, true);
  q.take(); // the writer catches up
  assert.equal(
    q.offer({ bytes: bytes(10), kind: PACKET_KIND.DELTA }),
    false,
    "no delta until a keyframe",
  );
  assert.equal(q.offer({ bytes: bytes(10), kind: PACKET_KIND.KEY }), true);
  assert.equal(q.offer({ bytes: bytes(10), kind: PACKET_KIND.DELTA }), true);
  assert.equal(q.skipping, false);
  assert.equal(q.dropped, 2);
  assert.equal(q.skips, 1);
});

Deno.test("ReaderQueue never drops control packets", () => {
  const q = new ReaderQueue({ maxBytes: 10 });
  q.offer({ bytes: bytes(50), kind: PACKET_KIND.CONTROL });
  assert.equal(q.offer({ bytes: bytes(5), kind: PACKET_KIND.KEY }), false);
  assert.equal(q.offer({ bytes: bytes(5), kind: PACKET_KIND.CONTROL }), true);
  assert.equal(q.bytes, 55);
});

Deno.test("ReaderQueue keeps reports while skipping but, unlike control packets, lets them wait for the batch", () => {
  const urgent: boolean[] = [];
  const q = new ReaderQueue({ maxBytes: 100, onReady: (u) => urgent.push(u) });
  q.offer({ bytes: bytes(8), kind: PACKET_KIND.REPORT });
  assert.deepEqual(urgent, [false], "the first packet asks for the next batch");
  q.offer({ bytes: bytes(8), kind: PACKET_KIND.CONTROL });
  assert.deepEqual(urgent, [false, true]);
  q.offer({ bytes: bytes(90), kind: PACKET_KIND.DELTA }); // over budget: skipping
  assert.equal(q.skipping, true);
  assert.equal(q.offer({ bytes: bytes(8), kind: PACKET_KIND.REPORT }), true);
  assert.equal(q.mediaPackets, 0, "reports are not media");
  assert.deepEqual(q.take().map((b) => b.length), [8, 8, 8]);
});

Deno.test("ReaderQueue stays bounded however much a stuck reader is offered", () => {
  const q = new ReaderQueue({ maxBytes: 64 * 1024 });
  for (let i = 0; i < 10_000; i++) {
    q.offer({
      bytes: bytes(1400),
      kind: i % 50 === 0 ? PACKET_KIND.KEY : PACKET_KIND.DELTA,
    });
  }
  assert.ok(q.bytes <= 64 * 1024);
  assert.ok(q.dropped > 9_900);
});

Deno.test("ReaderQueue after close refuses packets and frees its queue", () => {
  const q = new ReaderQueue();
  q.offer({ bytes: bytes(5), kind: PACKET_KIND.KEY });
  q.close();
  assert.equal(q.bytes, 0);
  assert.equal(q.offer({ bytes: bytes(5), kind: PACKET_KIND.CONTROL }), false);
});

Deno.test("ReaderQueue puts a reader's prefix right before the shared packet and counts it", () => {
  const q = new ReaderQueue({ maxBytes: 100 });
  const shared = bytes(10);
  assert.equal(
    q.offer({ bytes: shared, kind: PACKET_KIND.KEY }, bytes(4)),
    true,
  );
  assert.equal(q.bytes, 14);
  const [prefix, packet] = q.take();
  assert.equal(prefix!.length, 4);
  assert.equal(packet, shared, "the packet itself is not copied");
  assert.equal(
    q.offer({ bytes: bytes(97), kind: PACKET_KIND.DELTA }, bytes(4)),
    false,
    "prefix counts against the budget",
  );
});

Deno.test("ReaderQueue asks for an urgent write once it is past half its budget", () => {
  const calls: boolean[] = [];
  const q = new ReaderQueue({
    maxBytes: 100,
    onReady: (urgent) => calls.push(urgent),
  });
  q.offer({ bytes: bytes(30), kind: PACKET_KIND.DELTA });
  q.offer({ bytes: bytes(30), kind: PACKET_KIND.DELTA });
  assert.deepEqual(
    calls,
    [false, true],
    "first media waits for the tick; past 50 bytes it goes now",
  );
});

Deno.test("ReaderQueue drain hands out its arrays in turn, intact until the drain after next", () => {
  const q = new ReaderQueue();
  const p = Array.from({ length: 6 }, (_, i) => new Uint8Array([i]));
  const offer = (b: Uint8Array) =>
    q.offer({ bytes: b, kind: PACKET_KIND.DELTA });
  offer(p[0]!);
  offer(p[1]!);
  const first = q.drain();
  const a = first.parts;
  assert.equal(first.count, 2);
  offer(p[2]!);
  // the writer still holds the first batch while the queue fills the other array
  assert.deepEqual(a.slice(0, 2), [p[0], p[1]]);
  const second = q.drain();
  const b = second.parts;
  assert.notEqual(b, a, "the queue filled the other array");
  assert.deepEqual([second.count, b[0]], [1, p[2]]);
  offer(p[3]!);
  offer(p[4]!);
  offer(p[5]!);
  const third = q.drain();
  assert.equal(
    third.parts,
    a,
    "the first array came back once its writer was done",
  );
  assert.deepEqual(third.parts.slice(0, third.count), [p[3], p[4], p[5]]);
  assert.deepEqual(q.drain().count, 0);
  assert.equal(b[0], undefined, "a reclaimed array keeps no packet alive");
});

Deno.test("ReaderQueue drain drops an array a GOP burst grew, and take copies", () => {
  const q = new ReaderQueue();
  for (let i = 0; i < 300; i++) {
    q.offer({ bytes: bytes(1), kind: PACKET_KIND.DELTA });
  }
  const burst = q.drain().parts;
  q.drain();
  q.offer({ bytes: bytes(2), kind: PACKET_KIND.DELTA });
  const next = q.drain();
  assert.notEqual(next.parts, burst);
  assert.ok(next.parts.length < 300);
  q.offer({ bytes: bytes(3), kind: PACKET_KIND.DELTA });
  const copy = q.take();
  q.offer({ bytes: bytes(4), kind: PACKET_KIND.DELTA });
  q.drain();
  q.drain();
  assert.deepEqual(copy.map((x) => x.length), [3], "take's array is its own");
});

Deno.test("ReaderQueue takes a run as one part, counted as its packets, or refuses it whole", () => {
  const urgent: boolean[] = [];
  const q = new ReaderQueue({ maxBytes: 100, onReady: (u) => urgent.push(u) });
  const packets = [
    { bytes: bytes(10), kind: PACKET_KIND.KEY },
    { bytes: bytes(20), kind: PACKET_KIND.DELTA },
  ];
  assert.equal(q.offerRun(packets, bytes(30)), true);
  assert.equal(q.mediaPackets, 2);
  assert.ok(q.firstMediaMs !== undefined);
  assert.deepEqual(urgent, [false], "the first part waits for the tick");
  assert.equal(q.offerRun(packets, bytes(30)), true);
  assert.deepEqual(urgent, [false, true], "past half the budget: now");
  assert.deepEqual(q.take().map((b) => b.length), [30, 30]);

  // over the budget: nothing queued, the packets go one by one
  q.offer({ bytes: bytes(80), kind: PACKET_KIND.KEY });
  assert.equal(q.offerRun(packets, bytes(30)), false);
  assert.equal(q.bytes, 80);
  assert.equal(q.dropped, 0, "a refused run drops nothing by itself");
  // behind (skipping to a keyframe): refused even where it would fit
  assert.equal(q.offer({ bytes: bytes(30), kind: PACKET_KIND.DELTA }), false);
  q.take();
  assert.equal(q.skipping, true);
  assert.equal(q.offerRun(packets, bytes(30)), false);
  q.close();
  assert.equal(q.offerRun(packets, bytes(30)), false);
  assert.equal(q.mediaPackets, 5);
});
