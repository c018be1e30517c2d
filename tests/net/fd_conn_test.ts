import assert from "node:assert/strict";
import fc from "fast-check";
import type { FdConn } from "../../lib/net/fd_conn.ts";
import { decodeSockaddr } from "../../lib/net/_socket_names.ts";
import { listenFd } from "../../lib/net/fd_listener.ts";
import { thePoller } from "../../lib/net/_poller.ts";
import { encodeSockaddr } from "../../lib/net/_sendmmsg.ts";
import { startMallocTrim } from "../../lib/net/malloc_trim.ts";
import { readLoop } from "../../lib/net/read_loop.ts";
import { listenTcp, writeAll } from "../../lib/net/tcp.ts";

const ffi = Deno.build.os === "linux" &&
  Deno.permissions.querySync({ name: "ffi" }).state === "granted";

/** A listener of Sluice's own sockets and the connections it accepted. */
function listen(hostname = "127.0.0.1") {
  const accepted: FdConn[] = [];
  const waiting: ((c: FdConn) => void)[] = [];
  const listener = listenFd({
    hostname,
    port: 0,
    onConnection(conn) {
      const w = waiting.shift();
      if (w !== undefined) w(conn);
      else accepted.push(conn);
    },
  });
  assert.ok(listener !== null, "FFI sockets are available with --allow-ffi");
  return {
    listener,
    next(): Promise<FdConn> {
      const c = accepted.shift();
      if (c !== undefined) return Promise.resolve(c);
      return new Promise((r) => waiting.push(r));
    },
  };
}

/** A listener, a Deno client connected to it, and the accepted end. */
async function connected() {
  const l = listen();
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: l.listener.port,
  });
  return { ...l, client, conn: await l.next() };
}

async function settle(): Promise<void> {
  await thePoller()!.settled();
}

Deno.test({
  name:
    "own sockets: bytes go both ways, the peer's end reads null, and the poller then waits no more",
  ignore: !ffi,
  async fn() {
    const { listener, client, conn } = await connected();
    assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
    assert.equal(conn.remoteAddr.port, (client.localAddr as Deno.NetAddr).port);
    await writeAll(client, new TextEncoder().encode("hello"));
    const buf = new Uint8Array(16);
    const n = await conn.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "hello");
    await writeAll(conn, new TextEncoder().encode("world"));
    const m = await client.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, m!)), "world");
    client.close();
    assert.equal(await conn.read(buf), null);
    conn.close();
    assert.throws(() => conn.close(), Deno.errors.BadResource);
    listener.close();
    await settle();
  },
});

Deno.test({
  name:
    "own sockets: a write to a full socket waits for room, and every byte arrives in order",
  ignore: !ffi,
  async fn() {
    const { listener, client, conn } = await connected();
    // far more than loopback's socket buffers hold: tryWrite runs out of room
    const total = 16 * 1024 * 1024;
    const data = new Uint8Array(total);
    for (let i = 0; i < total; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    let full = false;
    const writing = (async () => {
      let off = 0;
      while (off < total) {
        const n = conn.tryWrite(data.subarray(off));
        if (n > 0) off += n;
        else {
          full = true;
          off += await conn.write(data.subarray(off));
        }
      }
    })();
    const got = new Uint8Array(total);
    let at = 0;
    const buf = new Uint8Array(64 * 1024);
    while (at < total) {
      const n = await client.read(buf);
      assert.ok(n !== null);
      got.set(buf.subarray(0, n), at);
      at += n;
    }
    await writing;
    assert.ok(full, "the socket filled up at least once");
    assert.deepEqual(got, data);
    client.close();
    conn.close();
    listener.close();
    await settle();
  },
});

Deno.test({
  name:
    "own sockets: readEach hands on every byte in order as its own copy, and ends at the peer's close",
  ignore: !ffi,
  async fn() {
    const { listener, client, conn } = await connected();
    const chunks: Uint8Array[] = [];
    const done = readLoop(conn, (chunk) => void chunks.push(chunk));
    const sent: number[] = [];
    for (let i = 0; i < 200; i++) {
      const piece = new Uint8Array(1 + (i * 37) % 3000).fill(i & 0xff);
      sent.push(...piece);
      await writeAll(client, piece);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    client.close();
    await done;
    const got = chunks.flatMap((c) => [...c]);
    assert.equal(got.length, sent.length);
    assert.deepEqual(got, sent);
    assert.ok(
      new Set(chunks.map((c) => c.buffer)).size === chunks.length,
      "no two reads share a buffer",
    );
    conn.close();
    listener.close();
    await settle();
  },
});

Deno.test({
  name:
    "own sockets: closing rejects a pending read with BadResource, and the peer hears a FIN, not a reset",
  ignore: !ffi,
  async fn() {
    const { listener, next, client, conn } = await connected();
    const pending = conn.read(new Uint8Array(8));
    conn.close();
    await assert.rejects(pending, Deno.errors.BadResource);
    await assert.rejects(conn.read(new Uint8Array(8)), Deno.errors.BadResource);
    client.close();
    // input nobody read: closing drops it instead of answering with a reset
    const client2 = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.port,
    });
    const conn2 = await next();
    await writeAll(client2, new Uint8Array(1000));
    await new Promise((r) => setTimeout(r, 20));
    conn2.close();
    assert.equal(await client2.read(new Uint8Array(8)), null);
    client2.close();
    listener.close();
    await settle();
  },
});
Deno.test({
  name:
    "own sockets: a port in use is an error naming the address; listenTcp falls back to Deno for a host name",
  ignore: !ffi,
  async fn() {
    const { listener } = listen();
    assert.throws(
      () =>
        listenTcp({
          hostname: "127.0.0.1",
          port: listener.port,
          onConnection() {},
        }),
      /127\.0\.0\.1:\d+/,
    );
    const named = listenTcp({
      hostname: "localhost",
      port: 0,
      onConnection: (c) => c.close(),
    });
    assert.ok(named.port > 0);
    named.close();
    listener.close();
    await settle();
  },
});

Deno.test({
  name: "own sockets on IPv6 loopback name the peer as Deno does",
  ignore: !ffi,
  async fn() {
    let l;
    try {
      l = listen("::1");
    } catch {
      return; // no IPv6 on this machine
    }
    const client = await Deno.connect({
      hostname: "::1",
      port: l.listener.port,
    });
    const conn = await l.next();
    assert.equal(conn.remoteAddr.hostname, "::1");
    assert.equal(l.listener.hostname, "::1");
    client.close();
    conn.close();
    l.listener.close();
    await settle();
  },
});

Deno.test({
  name:
    "own sockets: readEach takes input that comes after a short read, and a request sent with the peer's close whole, then the end",
  ignore: !ffi,
  async fn() {
    const l = listen();
    for (let round = 0; round < 20; round++) {
      const client = await Deno.connect({
        hostname: "127.0.0.1",
        port: l.listener.port,
      });
      const conn = await l.next();
      const got: number[] = [];
      const done = readLoop(conn, (chunk) => void got.push(...chunk));
      const sent: number[] = [];
      // pieces a moment apart: each read is short, each later piece a new edge
      for (let i = 0; i < 3; i++) {
        const piece = new Uint8Array(10 + round + i).fill(i + 1);
        sent.push(...piece);
        await writeAll(client, piece);
        await new Promise((r) => setTimeout(r, 2));
      }
      // the last piece and the FIN together: one edge says both
      const last = new Uint8Array(100 + round).fill(9);
      sent.push(...last);
      await writeAll(client, last);
      await client.closeWrite();
      await done;
      assert.deepEqual(got, sent);
      conn.close();
      client.close();
    }
    l.listener.close();
    await settle();
  },
});

Deno.test("decodeSockaddr reads back what encodeSockaddr writes, for any IPv4 or IPv6 address", () => {
  const hex = (n: number) => n.toString(16);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.ipV4(),
        fc.array(fc.integer({ min: 0, max: 0xffff }), {
          minLength: 8,
          maxLength: 8,
        })
          .map((g) => g.map(hex).join(":")),
      ),
      fc.integer({ min: 0, max: 65535 }),
      (host, port) => {
        const enc = encodeSockaddr(host, port)!;
        const dec = decodeSockaddr(new Uint8Array(enc.words.buffer));
        assert.equal(dec.port, port);
        // the canonical text form names the same address
        const again = encodeSockaddr(dec.hostname, port)!;
        assert.deepEqual([...again.words], [...enc.words]);
        if (!host.includes(":")) assert.equal(dec.hostname, host);
      },
    ),
  );
  assert.equal(
    decodeSockaddr(new Uint8Array(encodeSockaddr("::", 1)!.words.buffer))
      .hostname,
    "::",
  );
  assert.equal(
    decodeSockaddr(
      new Uint8Array(encodeSockaddr("2001:db8:0:0:1:0:0:1", 1)!.words.buffer),
    ).hostname,
    "2001:db8::1:0:0:1",
  );
  assert.equal(
    decodeSockaddr(
      new Uint8Array(encodeSockaddr("::ffff:10.0.0.1", 1)!.words.buffer),
    ).hostname,
    "::ffff:10.0.0.1",
  );
});

Deno.test({
  name:
    "malloc_trim runs on its timer and stops; the heap keeps its free top between trims",
  ignore: !ffi,
  async fn() {
    const trim = startMallocTrim(5);
    assert.equal(trim.started, true);
    assert.equal(
      trim.keepsTop,
      true,
      "glibc took M_TRIM_THRESHOLD and M_TOP_PAD",
    );
    await new Promise((r) => setTimeout(r, 30));
    trim.stop();
  },
});
