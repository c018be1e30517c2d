import assert from "node:assert/strict";
import { listenFd } from "../../lib/net/fd_listener.ts";
import { loadNative } from "../../lib/net/_libc.ts";
import { Poller } from "../../lib/net/_poller.ts";
import { readLoop } from "../../lib/net/read_loop.ts";
import { writeAll } from "../../lib/net/tcp.ts";

const ffi = Deno.build.os === "linux" &&
  Deno.permissions.querySync({ name: "ffi" }).state === "granted";

/** Whether this kernel lets every process make an io_uring ring. */
function ringsAllowed(): boolean {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/io_uring_disabled")
      .trim() === "0";
  } catch {
    return true; // kernels before the switch allow them
  }
}

async function until(what: string, test: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !test(); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(test(), what);
}

/**
 * `clients` Deno clients send `pieces` pieces each to sockets of `poller`,
 * interleaved and a moment apart; what each accepted socket reads is what
 * its client sent, whole and in order. Returns the listener, still open.
 */
async function traffic(poller: Poller, clients: number, pieces: number) {
  const accepted: Promise<number[]>[] = [];
  const listener = listenFd({
    hostname: "127.0.0.1",
    port: 0,
    poller,
    onConnection(conn) {
      const got: number[] = [];
      accepted.push(
        readLoop(conn, (chunk) => void got.push(...chunk)).then(() => {
          conn.close();
          return got;
        }),
      );
    },
  });
  assert.ok(listener !== null);
  const conns = await Promise.all(
    Array.from(
      { length: clients },
      () => Deno.connect({ hostname: "127.0.0.1", port: listener.port }),
    ),
  );
  await until("every client is accepted", () => accepted.length === clients);
  const sent: number[][] = conns.map(() => []);
  for (let p = 0; p < pieces; p++) {
    for (let c = 0; c < clients; c++) {
      const piece = new Uint8Array(1 + ((p * 7 + c) % 300)).fill(
        (p + c) & 0xff,
      );
      sent[c]!.push(...piece);
      await writeAll(conns[c]!, piece);
    }
    if (p % 5 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  for (const c of conns) await c.closeWrite();
  const got = await Promise.all(accepted);
  for (const c of conns) c.close();
  // accepted in connect order is not promised: match by content
  const key = (b: number[]) => b.join(",");
  assert.deepEqual(got.map(key).sort(), sent.map(key).sort());
  return listener;
}

Deno.test({
  name:
    "poller: once its ring is open the kernel wakes the JavaScript thread, every byte of many sockets arrives in order, and the last socket's leaving closes the ring",
  ignore: !ffi,
  async fn() {
    const poller = new Poller(loadNative()!);
    assert.equal(poller.wakesBy, "thread", "no ring before a socket");
    for (let round = 0; round < 2; round++) {
      const listener = listenFd({
        hostname: "127.0.0.1",
        port: 0,
        poller,
        onConnection: (c) => c.close(),
      })!;
      if (ringsAllowed()) {
        await until("the ring opens", () => poller.wakesBy === "ring");
      }
      (await traffic(poller, 20, 40)).close();
      if (ringsAllowed()) assert.equal(poller.wakesBy, "ring");
      listener.close();
      await poller.settled();
      assert.equal(poller.size, 0);
      assert.equal(poller.wakesBy, "thread", "the ring closed with the set");
    }
  },
});

Deno.test({
  name:
    "poller: without a ring, a wait on a blocking thread serves the same traffic",
  ignore: !ffi,
  async fn() {
    const poller = new Poller(loadNative()!, { ring: false });
    const listener = await traffic(poller, 20, 40);
    assert.equal(poller.wakesBy, "thread");
    listener.close();
    await poller.settled();
  },
});
