import assert from "node:assert/strict";
import { BatchWriter } from "../../lib/net/batch_writer.ts";
import { BodySink } from "../../lib/net/body_sink.ts";

Deno.test("BodySink: a write resolves only once the body has taken its bytes", async () => {
  const sink = new BodySink(() => {});
  let resolved = false;
  const written = sink.write(new Uint8Array([1, 2, 3])).then((n) => {
    resolved = true;
    return n;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(resolved, false, "nobody read the body yet");
  const reader = sink.body.getReader();
  const { value } = await reader.read();
  assert.deepEqual(value, new Uint8Array([1, 2, 3]));
  const next = reader.read(); // asks for more: the bytes were taken
  assert.equal(await written, 3);
  sink.close();
  assert.equal((await next).done, true);
});

Deno.test("BodySink: a BatchWriter writes a reader's queue through it and sees it stall", async () => {
  const sink = new BodySink(() => {});
  let now = 0;
  const parts = [new Uint8Array([1]), new Uint8Array([2, 3])];
  const writer = new BatchWriter(sink, () => parts.splice(0), {
    now: () => now,
  });
  writer.kick(true);
  await new Promise((r) => setTimeout(r, 5));
  now = 5000;
  assert.equal(writer.stalledMs(), 5000, "the body was not read");
  const reader = sink.body.getReader();
  assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2, 3]));
  const next = reader.read();
  await writer.drained();
  assert.equal(writer.stalledMs(), 0);
  sink.close();
  assert.equal((await next).done, true);
});

Deno.test("BodySink: a client that goes away fails the next write and calls onCancel once", async () => {
  let cancelled = 0;
  const sink = new BodySink(() => cancelled++);
  await sink.body.cancel();
  assert.equal(cancelled, 1);
  await assert.rejects(sink.write(new Uint8Array(1)), /body has ended/);
});
