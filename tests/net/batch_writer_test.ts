import assert from "node:assert/strict";
import { BatchWriter, WriteBatcher } from "../../lib/net/batch_writer.ts";

/** A socket that records what it is given. */
function sink() {
  const writes: Uint8Array[] = [];
  return {
    writes,
    write: (p: Uint8Array) => (writes.push(p), Promise.resolve(p.length)),
  };
}

Deno.test("BatchWriter writes everything queued in one turn as one write", async () => {
  const conn = sink();
  let queue: Uint8Array[] = [];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!);
  queue.push(new Uint8Array([1]), new Uint8Array([2, 3]));
  w.kick();
  queue.push(new Uint8Array([4]));
  w.kick();
  await w.drained();
  assert.deepEqual(conn.writes, [new Uint8Array([1, 2, 3, 4])]);
});

Deno.test("WriteBatcher holds media for its tick, then joins each distinct batch once for all readers", async () => {
  const batcher = new WriteBatcher(20);
  const a = new Uint8Array([1, 2]);
  const b = new Uint8Array([3]);
  const readers = Array.from({ length: 3 }, () => {
    const conn = sink();
    let queue: Uint8Array[] = [];
    const writer = new BatchWriter(conn, () => [queue, queue = []][0]!, {
      batcher,
    });
    return { conn, writer, push: (...p: Uint8Array[]) => queue.push(...p) };
  });
  for (const r of readers) {
    r.push(a, b);
    r.writer.kick(false);
  }
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(readers[0]!.conn.writes.length, 0, "media waits for the tick");
  await new Promise((r) => setTimeout(r, 40));
  for (const r of readers) {
    assert.deepEqual(r.conn.writes, [new Uint8Array([1, 2, 3])]);
  }
  assert.equal(
    readers[0]!.conn.writes[0],
    readers[2]!.conn.writes[0],
    "the same bytes, joined once",
  );
  assert.equal(batcher.shared, 2);
});

Deno.test("WriteBatcher does not hold urgent data", async () => {
  const batcher = new WriteBatcher(1000);
  const conn = sink();
  let queue: Uint8Array[] = [];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!, { batcher });
  queue.push(new Uint8Array([9]));
  w.kick(true);
  await w.drained();
  assert.equal(conn.writes.length, 1);
  batcher.close();
});
