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

/** A socket whose writes resolve when `release()` is called. */
function slowSink() {
  const writes: Uint8Array[] = [];
  const pending: (() => void)[] = [];
  return {
    writes,
    write(p: Uint8Array): Promise<number> {
      writes.push(p);
      return new Promise((r) => pending.push(() => r(p.length)));
    },
    release(): void {
      for (const r of pending.splice(0)) r();
    },
  };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

Deno.test("BatchWriter writes a long batch outside the tick in pieces: long packets as they are, short ones joined up to maxWriteSize", async () => {
  const conn = sink();
  const frame = bytes(300, 1); // a quarter of maxWriteSize or more: written as it is
  let queue = [
    bytes(50, 2),
    bytes(50, 3),
    frame,
    bytes(50, 4),
    bytes(60, 5),
    ...Array.from({ length: 10 }, (_, i) => bytes(90, 10 + i)),
  ];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!, {
    maxWriteSize: 400,
  });
  w.kick();
  await w.drained();
  assert.deepEqual(
    conn.writes.map((p) => p.length),
    [100, 300, 380, 360, 270],
  );
  assert.equal(conn.writes[1], frame, "the long packet is not copied");
  assert.deepEqual(
    conn.writes[0],
    new Uint8Array([...bytes(50, 2), ...bytes(50, 3)]),
  );
  assert.equal(w.writes, 5);
  assert.equal(w.bytesOut, 1410);
});

Deno.test("BatchWriter joins a long batch whole in the tick, once for every reader in step", async () => {
  const batcher = new WriteBatcher(5);
  const gop = Array.from({ length: 8 }, (_, i) => bytes(100, i));
  const readers = Array.from({ length: 2 }, () => {
    const conn = sink();
    let queue: Uint8Array[] = [];
    const writer = new BatchWriter(conn, () => [queue, queue = []][0]!, {
      batcher,
      maxWriteSize: 200,
    });
    queue.push(...gop);
    writer.kick(false);
    return { conn, writer };
  });
  await new Promise((r) => setTimeout(r, 30));
  for (const r of readers) assert.equal(r.conn.writes.length, 1);
  assert.equal(readers[0]!.conn.writes[0]!.length, 800);
  assert.equal(readers[0]!.conn.writes[0], readers[1]!.conn.writes[0]);
  batcher.close();
});

Deno.test("BatchWriter finishes a batch the socket takes in parts, in order", async () => {
  const got: number[] = [];
  const conn = {
    write(p: Uint8Array): Promise<number> {
      const n = Math.min(3, p.length);
      got.push(...p.subarray(0, n));
      return Promise.resolve(n);
    },
  };
  let queue = [new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6, 7, 8])];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!);
  w.kick();
  await w.drained();
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(w.writes, 1, "one batch, however many calls the socket needed");
});

Deno.test("BatchWriter.drained waits for the write in flight, and stalledMs counts from its start", async () => {
  const conn = slowSink();
  let now = 1000;
  let queue = [bytes(10, 1)];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!, {
    now: () => now,
  });
  w.kick();
  let drained = false;
  const done = w.drained().then(() => drained = true);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(conn.writes.length, 1);
  now += 250;
  assert.equal(w.stalledMs(), 250);
  assert.equal(drained, false);
  queue.push(bytes(5, 2));
  w.kick(); // urgent: goes out right after the write in flight
  conn.release();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(conn.writes.length, 2);
  assert.equal(drained, false);
  conn.release();
  await done;
  assert.equal(w.stalledMs(), 0);
});

Deno.test("BatchWriter reports a failed write once, then writes nothing more", async () => {
  let calls = 0;
  const conn = {
    write(): Promise<number> {
      calls++;
      return Promise.reject(new Error("Connection reset"));
    },
  };
  const errors: unknown[] = [];
  let queue = [bytes(10, 1)];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!, {
    onError: (e) => errors.push(e),
  });
  w.kick();
  await w.drained();
  queue.push(bytes(10, 2));
  w.kick();
  w.flush();
  await w.drained();
  assert.equal(calls, 1);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /Connection reset/);
});

Deno.test("BatchWriter: readers sent the same GOP after their own replies write the same joined pieces", async () => {
  const batcher = new WriteBatcher(100);
  const gop = Array.from({ length: 12 }, (_, i) => bytes(30, i));
  const readers = [bytes(20, 100), bytes(50, 101), bytes(10, 102)].map(
    (reply) => {
      const conn = sink();
      let queue = [reply, ...gop];
      const writer = new BatchWriter(conn, () => [queue, queue = []][0]!, {
        batcher,
        maxWriteSize: 160,
      });
      return { conn, writer };
    },
  );
  for (const r of readers) {
    r.writer.kick();
    await r.writer.drained();
  }
  const [a, b, c] = readers.map((r) => r.conn.writes);
  for (const w of [a!, b!, c!]) {
    assert.deepEqual(
      new Uint8Array(w.flatMap((p) => [...p])).subarray(-360),
      new Uint8Array(gop.flatMap((p) => [...p])),
    );
  }
  // Once past its replies, every later reader writes the pieces the first one joined.
  assert.equal(b!.at(-1), a!.at(-1));
  assert.equal(c!.at(-1), a!.at(-1));
  assert.equal(c!.at(-2), a!.at(-2));
  assert.deepEqual(
    [a, b, c].map((w) => w!.map((p) => p.length)),
    [[140, 150, 90], [50, 120, 150, 90], [10, 120, 150, 90]],
  );
  assert.equal(
    c!.at(-3),
    b!.at(-3),
    "the third reader falls in step with the second",
  );
  assert.equal(batcher.shared, 5);
  batcher.close();
});

Deno.test("WriteBatcher keeps joined pieces within pieceCacheSize, dropping the oldest", () => {
  const batcher = new WriteBatcher(100, { pieceCacheSize: 250 });
  const runs = Array.from(
    { length: 3 },
    (_, i) => [bytes(50, i), bytes(50, i)],
  );
  for (const run of runs) batcher.joinPiece(run, 0, run.length);
  assert.equal(
    batcher.startsPiece(runs[0]![0]!),
    false,
    "over budget: the oldest went",
  );
  assert.equal(batcher.startsPiece(runs[2]![0]!), true);
  assert.deepEqual(batcher.cachedPiece(runs[2]!, 0, 2)?.bytes, bytes(100, 2));
  assert.equal(
    batcher.cachedPiece([runs[2]![0]!, bytes(50, 9)], 0, 2),
    undefined,
  );
});

Deno.test("WriteBatcher keeps its own copy of a joined run: a queue refilling its array cannot change what matches", () => {
  const batcher = new WriteBatcher(100);
  const a = bytes(10, 1);
  const b = bytes(10, 2);
  const c = bytes(10, 3);
  const queueArray = [a, b];
  const joined = batcher.joinPiece(queueArray, 0, 2);
  queueArray[1] = c; // the queue reuses its array
  assert.equal(batcher.cachedPiece([a, c], 0, 2), undefined);
  assert.equal(batcher.cachedPiece([a, b], 0, 2)?.bytes, joined);
  batcher.close();
});

Deno.test("WriteBatcher runs deferred tasks at the tick, before the writers: what a task queues goes out in that tick, joined once", async () => {
  const batcher = new WriteBatcher(10);
  const packet = new Uint8Array([7, 8]);
  const readers = Array.from({ length: 2 }, () => {
    const conn = sink();
    let queue: Uint8Array[] = [];
    const writer = new BatchWriter(conn, () => [queue, queue = []][0]!, {
      batcher,
    });
    return { conn, writer, queue: () => queue };
  });
  let runs = 0;
  batcher.defer({
    run() {
      runs++;
      for (const r of readers) {
        r.queue().push(packet, packet);
        r.writer.kick(false);
      }
    },
  });
  assert.equal(runs, 0, "not before the tick");
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(runs, 1);
  for (const r of readers) {
    assert.deepEqual(r.conn.writes, [new Uint8Array([7, 8, 7, 8])]);
  }
  assert.equal(readers[0]!.conn.writes[0], readers[1]!.conn.writes[0]);
});

Deno.test("WriteBatcher: a task that throws still lets the writers flush; close forgets deferred tasks", async () => {
  const batcher = new WriteBatcher(5);
  const conn = sink();
  let queue = [new Uint8Array([1])];
  const w = new BatchWriter(conn, () => [queue, queue = []][0]!, { batcher });
  w.kick(false);
  const thrown = new Promise<unknown>((resolve) => {
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      globalThis.removeEventListener("error", onError);
      resolve(e.error);
    };
    globalThis.addEventListener("error", onError);
  });
  batcher.defer({
    run() {
      throw new Error("task failed");
    },
  });
  assert.equal((await thrown as Error).message, "task failed");
  await w.drained();
  assert.deepEqual(conn.writes, [new Uint8Array([1])]);
  let ran = false;
  batcher.defer({ run: () => void (ran = true) });
  batcher.close();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ran, false);
});
