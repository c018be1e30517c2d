import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MAX_DROPOUT,
  ReorderBuffer,
  ReorderBufferStream,
} from "../../lib/rtp/reorder.ts";
import type { RtpPacket } from "../../lib/rtp/packet.ts";
import { collect } from "../_util/bytes.ts";

function packet(sequenceNumber: number): RtpPacket {
  return {
    padding: 0,
    marker: false,
    payloadType: 96,
    sequenceNumber: sequenceNumber & 0xffff,
    timestamp: 0,
    ssrc: 1,
    csrcs: [],
    payload: new Uint8Array(0),
  };
}

/** Pushes packets with the given sequence numbers; returns the sequence numbers emitted. */
function run(buffer: ReorderBuffer, seqs: number[], end = false): number[] {
  const out = collect<RtpPacket>();
  for (const s of seqs) buffer.push(packet(s), out);
  if (end) buffer.end(out);
  return out.items.map((p) => p.sequenceNumber);
}

Deno.test("ReorderBuffer passes packets in order straight through", () => {
  const buffer = new ReorderBuffer();
  assert.deepEqual(run(buffer, [10, 11, 12]), [10, 11, 12]);
  assert.equal(buffer.size, 0);
});

Deno.test("ReorderBuffer puts swapped packets back in order across the 16-bit wrap", () => {
  const buffer = new ReorderBuffer();
  assert.deepEqual(run(buffer, [65534, 0, 65535, 2, 1]), [
    65534,
    65535,
    0,
    1,
    2,
  ]);
  assert.equal(buffer.lost, 0);
});

Deno.test("ReorderBuffer drops duplicates, held or already emitted", () => {
  const buffer = new ReorderBuffer();
  assert.deepEqual(run(buffer, [1, 3, 3, 2, 2, 1]), [1, 2, 3]);
  assert.equal(buffer.duplicates, 1);
  assert.equal(buffer.late, 2);
});

Deno.test("ReorderBuffer gives up on a gap when maxPackets are held", () => {
  const losses: [number, number][] = [];
  const buffer = new ReorderBuffer({
    maxPackets: 4,
    onLoss: (n, next) => losses.push([n, next]),
  });
  assert.deepEqual(run(buffer, [1, 3, 4, 5]), [1]); // 2 missing, 3 held
  assert.deepEqual(run(buffer, [6]), [3, 4, 5, 6]); // 6 is 5 ahead of 2: the gap is given up
  assert.equal(buffer.lost, 1);
  assert.deepEqual(losses, [[1, 3]]);
  assert.deepEqual(run(buffer, [2]), []); // too late now
  assert.equal(buffer.late, 1);
});

Deno.test("ReorderBuffer gives up on a gap once the oldest held packet waited maxDelayMs", () => {
  const buffer = new ReorderBuffer({ maxDelayMs: 50 });
  const out = collect<RtpPacket>();
  buffer.tick(1000, out);
  buffer.push(packet(1), out);
  buffer.push(packet(3), out);
  buffer.tick(1030, out);
  buffer.push(packet(5), out);
  buffer.tick(1049, out);
  assert.deepEqual(out.items.map((p) => p.sequenceNumber), [1]);
  buffer.tick(1050, out); // 3 waited 50 ms; 5 only 20 ms, so 4 still has time
  assert.deepEqual(out.items.map((p) => p.sequenceNumber), [1, 3]);
  buffer.tick(1080, out);
  assert.deepEqual(out.items.map((p) => p.sequenceNumber), [1, 3, 5]);
  assert.equal(buffer.lost, 2);
});

Deno.test("ReorderBuffer counts a gap longer than the buffer as lost at once", () => {
  const buffer = new ReorderBuffer({ maxPackets: 8 });
  assert.deepEqual(run(buffer, [1, 500, 501]), [1, 500, 501]);
  assert.equal(buffer.lost, 498);
});

Deno.test("ReorderBuffer ignores one stray packet far away", () => {
  const buffer = new ReorderBuffer();
  assert.deepEqual(run(buffer, [100, 101, 40000, 102, 103]), [
    100,
    101,
    102,
    103,
  ]);
  assert.equal(buffer.resyncs, 0);
  assert.equal(buffer.lost, 0);
});

Deno.test("ReorderBuffer starts a new sequence after two packets agree on a big jump", () => {
  const buffer = new ReorderBuffer();
  const ahead = 102 + MAX_DROPOUT;
  // the first packet of the jump is held back until the second confirms it
  assert.deepEqual(run(buffer, [100, 101, ahead]), [100, 101]);
  assert.deepEqual(run(buffer, [ahead + 1, ahead + 2]), [
    ahead,
    ahead + 1,
    ahead + 2,
  ]);
  assert.equal(buffer.resyncs, 1);
  // a restarted sender far behind: 7 8 9 after 3104
  assert.deepEqual(run(buffer, [7, 8, 9]), [7, 8, 9]);
  assert.equal(buffer.resyncs, 2);
  assert.equal(buffer.lost, 0);
});

Deno.test("ReorderBuffer.end emits what it holds in order, counting the gaps", () => {
  const buffer = new ReorderBuffer();
  assert.deepEqual(run(buffer, [1, 4, 3, 7], true), [1, 3, 4, 7]);
  assert.equal(buffer.lost, 3);
  assert.equal(buffer.size, 0);
});

Deno.test("ReorderBuffer rejects maxPackets outside 1 to 100", () => {
  assert.throws(() => new ReorderBuffer({ maxPackets: 0 }), RangeError);
  assert.throws(() => new ReorderBuffer({ maxPackets: 101 }), RangeError);
});

Deno.test("ReorderBuffer restores any order within its window without loss (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.nat(), { maxLength: 200 }),
      fc.integer({ min: 2, max: 64 }),
      (start, count, swaps, window) => {
        // a permutation where no packet moves more than `window - 1` places
        const order = Array.from({ length: count }, (_, i) => i);
        for (let k = 0; k < swaps.length && count > 2; k++) {
          const i = 1 + swaps[k]! % (count - 1); // the first packet sets the start: it stays first
          const j = Math.min(count - 1, i + (k % (window / 2 | 0 || 1)));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const displaced = order.every((v, i) => Math.abs(v - i) < window / 2);
        fc.pre(displaced);
        const buffer = new ReorderBuffer({ maxPackets: window });
        const got = run(buffer, order.map((i) => start + i), true);
        assert.deepEqual(
          got,
          Array.from({ length: count }, (_, i) => (start + i) & 0xffff),
        );
        assert.equal(buffer.lost, 0);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("ReorderBuffer emits increasing sequence numbers and accounts for every one (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -5, max: 30 }), {
        minLength: 1,
        maxLength: 300,
      }),
      fc.integer({ min: 1, max: 100 }),
      (steps, window) => {
        const buffer = new ReorderBuffer({ maxPackets: window });
        let seq = 60000;
        const seqs = steps.map((s) => (seq = (seq + s) & 0xffff));
        const got = run(buffer, seqs, true);
        for (let i = 1; i < got.length; i++) {
          const d = (got[i]! - got[i - 1]!) & 0xffff;
          assert.ok(d > 0 && d < MAX_DROPOUT, `${got[i - 1]} then ${got[i]}`);
        }
        const span = got.length === 0
          ? 0
          : ((got[got.length - 1]! - got[0]!) & 0xffff) + 1;
        assert.equal(
          got.length + buffer.lost - lostBeforeFirst(seqs, got),
          span,
        );
      },
    ),
    { numRuns: 300 },
  );
});

/** Losses counted before the first emitted packet (the gap from the first packet pushed). */
function lostBeforeFirst(seqs: number[], got: number[]): number {
  if (got.length === 0) return 0;
  return (got[0]! - seqs[0]!) & 0xffff;
}

Deno.test("ReorderBufferStream reorders a stream", async () => {
  const got: number[] = [];
  await ReadableStream.from([1, 3, 2].map(packet)).pipeThrough(
    new ReorderBufferStream(),
  ).pipeTo(
    new WritableStream({ write: (p) => void got.push(p.sequenceNumber) }),
  );
  assert.deepEqual(got, [1, 2, 3]);
});
