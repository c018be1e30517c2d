/**
 * A socket whose input is read at the write tick (a publisher's): every byte still arrives, in order; a hang-up still ends
 * its reads at once; and a peer sending faster than a timer's worth of
 * the receive buffer puts it back to reading as input arrives.
 */
import assert from "node:assert/strict";
import { ownSocketPair } from "../_util/own_socket.ts";
import { loadNative } from "../../lib/net/_libc.ts";
import { FULL_TICKS, MAX_POLLED_BYTES } from "../../lib/net/fd_conn.ts";
import { WriteBatcher } from "../../lib/net/write_batcher.ts";

const ignore = loadNative() === null;

Deno.test({
  name:
    "pollInput: what the peer sends arrives whole and in order, a tick at a time",
  ignore,
  async fn() {
    const pair = await ownSocketPair();
    try {
      const got: number[] = [];
      let calls = 0;
      const reading = pair.server.readEach!((chunk) => {
        calls++;
        got.push(...chunk);
      });
      reading.catch(() => {}); // a failed assertion closes the pair first
      const tick = new WriteBatcher(1000);
      pair.server.pollInput!(tick);
      const sent: number[] = [];
      for (let i = 0; i < 20; i++) {
        const piece = new Uint8Array(50).fill(i);
        sent.push(...piece);
        await pair.client.write(piece); // each its own send
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 0, "nothing is read before the tick");
      const until = Date.now() + 5000;
      while (got.length < sent.length && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(got, sent);
      assert.ok(calls <= 2, `${calls} reads for 20 sends: one tick's`);
      assert.equal(
        (pair.server as { pollsInput?: boolean }).pollsInput,
        true,
      );
      pair.client.close();
      await reading; // the hang-up ends the reads
      tick.close();
    } finally {
      pair.close();
    }
  },
});

Deno.test({
  name:
    "pollInput: a peer faster than the timer is read as its input arrives again",
  ignore,
  async fn() {
    const pair = await ownSocketPair();
    try {
      let got = 0;
      const reading = pair.server.readEach!((chunk) => {
        got += chunk.length;
      });
      reading.catch(() => {}); // a failed assertion closes the pair first
      const tick = new WriteBatcher(20);
      pair.server.pollInput!(tick);
      // more than ticks in a row may take: a peer sending that fast
      const burst = new Uint8Array((FULL_TICKS + 2) * MAX_POLLED_BYTES);
      for (let at = 0; at < burst.length;) {
        at += await pair.client.write(burst.subarray(at));
      }
      const until = Date.now() + 5000;
      while (got < burst.length && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(got, burst.length);
      assert.equal((pair.server as { pollsInput?: boolean }).pollsInput, false);
      // no timer now: input is watched again, and a small send comes through
      const before = got;
      await pair.client.write(new Uint8Array(10));
      const soon = Date.now() + 5000;
      while (got === before && Date.now() < soon) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(got, before + 10);
      pair.client.close();
      await reading;
      tick.close();
    } finally {
      pair.close();
    }
  },
});

Deno.test("WriteBatcher.poll: reads run at the start of every tick, and what they defer goes in that tick", async () => {
  const tick = new WriteBatcher(10);
  const order: string[] = [];
  let n = 0;
  const stop = tick.poll(() => {
    n++;
    order.push(`read ${n}`);
    tick.defer({ run: () => void order.push(`task ${n}`) });
  });
  const until = Date.now() + 5000;
  while (n < 3 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  stop();
  const seen = n;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(n, seen, "no reads once unregistered");
  assert.deepEqual(order.slice(0, 6), [
    "read 1",
    "task 1",
    "read 2",
    "task 2",
    "read 3",
    "task 3",
  ]);
  tick.close();
});
