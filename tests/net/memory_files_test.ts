/**
 * Shared bytes sent from memory files (sendfile(2)) on Sluice's own
 * sockets: the bytes that arrive are the bytes asked for, at any offset and
 * through a slow reader; files are bounded and close only after their last
 * send; a reader that leaves mid-send fails only that send.
 */
import assert from "node:assert/strict";
import { ownSocketPair, readExactly } from "../_util/own_socket.ts";
import { MemoryFiles } from "../../lib/net/memory_files.ts";
import { loadNative } from "../../lib/net/_libc.ts";

const native = loadNative();
/** The files of these tests, apart from those of other tests in the process. */
const NAME = `test-${crypto.randomUUID()}`;
const ignore = native === null;

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return b;
}

/** Descriptors of this process open on memory files named `name`. */
function memoryFileFds(name = NAME): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (
        Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(
          `/memfd:${name} `,
        )
      ) {
        n++;
      }
    } catch {
      // closed while listed
    }
  }
  return n;
}

Deno.test({
  name:
    "MemoryFiles: bytes asked for again go out from a file, whole and at their offset, through a slow reader",
  ignore,
  async fn() {
    const files = new MemoryFiles(native!.libc, native!.errno);
    const { server, client, close } = await ownSocketPair();
    try {
      assert.ok(server.sendFile !== undefined, "Sluice's own socket");
      const segment = pattern(3 * 1024 * 1024, 7);
      // First ask: the bytes go as they are.
      assert.equal(await files.send(server as never, segment), false);
      assert.equal(files.files, 0);
      // Second: the whole buffer is copied once and sent from the file,
      // a view of it (a part of a segment) from its own offset.
      const part = segment.subarray(1_000_003, 1_800_000);
      const [sentWhole, gotWhole] = await Promise.all([
        files.send(server as never, segment),
        readExactly(client, segment.length, 1),
      ]);
      assert.equal(sentWhole, true);
      assert.deepEqual(gotWhole, segment);
      const [sentPart, gotPart] = await Promise.all([
        files.send(server as never, part),
        readExactly(client, part.length),
      ]);
      assert.equal(sentPart, true);
      assert.deepEqual(gotPart, part);
      assert.equal(files.stats.copied, 1);
      assert.equal(files.stats.sent, 2);
      assert.equal(files.bytes, segment.length);
    } finally {
      files.clear();
      close();
    }
  },
});

Deno.test({
  name:
    "MemoryFiles: files are bounded; an evicted file closes after the send that uses it",
  ignore,
  async fn() {
    const files = new MemoryFiles(native!.libc, native!.errno, {
      maxBytes: 16 * 1024 * 1024,
      maxFiles: 2,
      name: NAME,
    });
    const slow = await ownSocketPair();
    const quick = await ownSocketPair();
    try {
      // A send to a reader that does not read yet: it waits for room.
      const big = pattern(4 * 1024 * 1024, 1);
      assert.equal(await files.send(slow.server as never, big), false);
      const pending = files.send(slow.server as never, big);
      pending.catch(() => {}); // awaited below, unless an assertion fails first
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(memoryFileFds(), 1);
      // Three more buffers push it out of the set while it is sent.
      for (let i = 0; i < 3; i++) {
        const b = pattern(100_000, 10 + i);
        assert.equal(await files.send(quick.server as never, b), false);
        const [sent, got] = await Promise.all([
          files.send(quick.server as never, b),
          readExactly(quick.client, b.length),
        ]);
        assert.equal(sent, true);
        assert.deepEqual(got, b);
        assert.ok(files.files <= 2, `${files.files} files`);
      }
      assert.equal(files.files, 2);
      assert.equal(files.bytes, 200_000);
      // Out of the set, the big file stays open for its send.
      assert.equal(memoryFileFds(), 3);
      const got = await readExactly(slow.client, big.length);
      assert.equal(await pending, true);
      assert.deepEqual(got, big);
      assert.equal(memoryFileFds(), 2);
      files.clear();
      assert.equal(files.bytes, 0);
      assert.equal(memoryFileFds(), 0);
    } finally {
      files.clear();
      slow.close();
      quick.close();
    }
  },
});

Deno.test({
  name:
    "MemoryFiles: a reader that leaves mid-send fails that send only, and its file is released",
  ignore,
  async fn() {
    const files = new MemoryFiles(native!.libc, native!.errno);
    const { server, client, close } = await ownSocketPair();
    const other = await ownSocketPair();
    try {
      const big = pattern(8 * 1024 * 1024, 3);
      await files.send(server as never, big);
      const pending = files.send(server as never, big);
      pending.catch(() => {}); // awaited below, unless an assertion fails first
      await new Promise((r) => setTimeout(r, 50));
      client.close();
      await assert.rejects(pending);
      // The same file serves another reader.
      const [sent, got] = await Promise.all([
        files.send(other.server as never, big),
        readExactly(other.client, big.length),
      ]);
      assert.equal(sent, true);
      assert.deepEqual(got, big);
      assert.equal(files.stats.copied, 1);
    } finally {
      files.clear();
      close();
      other.close();
    }
  },
});
