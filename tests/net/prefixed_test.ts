/**
 * A connection looked at before it is handed on (the RTSP port's check for
 * an HTTP tunnel) reads its first bytes again, and keeps what the socket
 * underneath can do: send from a file, as the tick's shared batches go.
 */
import assert from "node:assert/strict";
import { ownSocketPair, readExactly } from "../_util/own_socket.ts";
import { PrefixedConn } from "../../lib/net/prefixed.ts";
import { loadNative } from "../../lib/net/_libc.ts";
import { memoryFile } from "../../lib/net/memory_files.ts";

const native = loadNative();

Deno.test("PrefixedConn reads the prefix first, then the socket", async () => {
  const bytes = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
  const conn = new PrefixedConn({
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    read: (p) => {
      const next = bytes.shift();
      if (next === undefined) return Promise.resolve(null);
      p.set(next);
      return Promise.resolve(next.length);
    },
    write: (p) => Promise.resolve(p.length),
    close() {},
  }, new Uint8Array([9, 8]));
  const got: number[] = [];
  const buf = new Uint8Array(8);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    got.push(...buf.subarray(0, n));
  }
  assert.deepEqual(got, [9, 8, 1, 2, 3, 4, 5]);
  assert.equal(conn.trySendFile, undefined, "a socket without files has none");
});

Deno.test({
  name:
    "PrefixedConn on Sluice's own socket sends from a file, as the socket does",
  ignore: native === null,
  async fn() {
    const { server, client } = await ownSocketPair();
    const content = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
    const fd = memoryFile(
      native!.libc,
      native!.errno,
      new TextEncoder().encode("prefixed-test\0"),
      content,
    );
    assert.ok(fd >= 0);
    try {
      const conn = new PrefixedConn(server, new Uint8Array([1]));
      assert.equal(typeof conn.trySendFile, "function");
      let at = 100;
      while (at < content.length) {
        const n = conn.trySendFile!(fd, at, content.length - at);
        if (n > 0) at += n;
        else await new Promise((r) => setTimeout(r, 5));
      }
      const got = await readExactly(client, content.length - 100);
      assert.deepEqual(got, content.subarray(100));
    } finally {
      native!.libc.close(fd);
      server.close();
      client.close();
    }
  },
});
