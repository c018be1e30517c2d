/**
 * A batch that several readers write in one tick goes out from a memory
 * file of the tick (sendfile(2)) from its second reader on: every reader
 * gets the very bytes, and the tick's files are closed when it ends.
 */
import assert from "node:assert/strict";
import { ownSocketPair, readExactly } from "../_util/own_socket.ts";
import { BatchWriter, WriteBatcher } from "../../lib/net/batch_writer.ts";
import { loadNative } from "../../lib/net/_libc.ts";

const ignore = loadNative() === null;

/** Descriptors of this process open on the tick's memory files. */
function tickFileFds(): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (
        Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(
          "/memfd:sluice-tick",
        )
      ) n++;
    } catch {
      // closed while listed
    }
  }
  return n;
}

Deno.test({
  name:
    "WriteBatcher: readers of one batch past the first send it from the tick's file; every reader gets the same bytes",
  ignore,
  async fn() {
    const batcher = new WriteBatcher(5);
    const pairs = await Promise.all([
      ownSocketPair(),
      ownSocketPair(),
      ownSocketPair(),
    ]);
    // a few MiB: a socket may take part of it, the rest then goes as bytes
    const batch = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < batch.length; i++) {
      batch[i] = (i * 131 + (i >> 9)) & 0xff;
    }
    const fromFile = [0, 0, 0];
    try {
      const writers = pairs.map(({ server }, i) => {
        let queued: Uint8Array[] = [batch];
        const conn = {
          write: (p: Uint8Array) => server.write(p),
          tryWrite: (p: Uint8Array) => server.tryWrite!(p),
          trySendFile: (fd: number, offset: number, length: number) => {
            const n = server.trySendFile!(fd, offset, length);
            if (n > 0) fromFile[i] = fromFile[i]! + n;
            return n;
          },
        };
        return new BatchWriter(conn, () => {
          const out = queued;
          queued = [];
          return out;
        }, { batcher });
      });
      for (const w of writers) w.kick(false);
      const got = await Promise.all(
        pairs.map(({ client }) => readExactly(client, batch.length)),
      );
      for (const g of got) {
        assert.ok(
          g.length === batch.length && g.every((b, i) => b === batch[i]),
        );
      }
      assert.equal(fromFile[0], 0, "the first reader sends the bytes");
      assert.ok(fromFile[1]! > 0 && fromFile[2]! > 0, JSON.stringify(fromFile));
      await Promise.all(writers.map((w) => w.drained()));
      assert.equal(tickFileFds(), 0, "the tick's files are closed");
    } finally {
      batcher.close();
      for (const { server, client } of pairs) {
        server.close();
        client.close();
      }
    }
  },
});

Deno.test({
  name:
    "WriteBatcher: a batch one reader writes, or a short one, makes no file",
  ignore,
  async fn() {
    const batcher = new WriteBatcher(5);
    const pairs = await Promise.all([ownSocketPair(), ownSocketPair()]);
    let files = 0;
    try {
      const batches = [
        new Uint8Array(64 * 1024).fill(1),
        new Uint8Array(100).fill(2),
      ];
      const writers = pairs.map(({ server }, i) => {
        // the first reader writes a batch of its own, both write the short one
        let queued: Uint8Array[] = i === 0 ? [batches[0]!] : [batches[1]!];
        return new BatchWriter({
          write: (p: Uint8Array) => server.write(p),
          tryWrite: (p: Uint8Array) => server.tryWrite!(p),
          trySendFile: (fd: number, o: number, n: number) => {
            files++;
            return server.trySendFile!(fd, o, n);
          },
        }, () => {
          const out = queued;
          queued = [];
          return out;
        }, { batcher });
      });
      for (const w of writers) w.kick(false);
      const [a, b] = await Promise.all([
        readExactly(pairs[0]!.client, 64 * 1024),
        readExactly(pairs[1]!.client, 100),
      ]);
      assert.equal(a.length, 64 * 1024);
      assert.equal(b.length, 100);
      assert.equal(files, 0);
    } finally {
      batcher.close();
      for (const { server, client } of pairs) {
        server.close();
        client.close();
      }
    }
  },
});
