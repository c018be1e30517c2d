/**
 * The tunnel as a connection, without sockets: what RTSP reads is the POST
 * bodies decoded, however they are cut and however many POSTs carry them;
 * what RTSP writes goes to the GET; the GET's end is the end.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { createLogger } from "../../../lib/log.ts";
import type { StreamConn } from "../../../lib/net/tcp.ts";
import { encodeBase64 } from "../../../lib/rtsp/base64.ts";
import { TunnelConn } from "../../../lib/server/rtsp/tunnel.ts";

const ADDR: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 9 };

/** A peer's connection: reads hand out `chunks`, then the end (or wait, for a GET, until closed). */
class FakeConn implements StreamConn {
  readonly remoteAddr = ADDR;
  readonly written: Uint8Array[] = [];
  closed = false;
  readonly #chunks: Uint8Array[];
  #endless: boolean;
  #wake: (() => void) | undefined;

  constructor(chunks: Uint8Array[], endless = false) {
    this.#chunks = [...chunks];
    this.#endless = endless;
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#endless && !this.closed) {
      await new Promise<void>((r) => this.#wake = r);
    }
    if (this.closed) throw new Deno.errors.BadResource("closed");
    const c = this.#chunks.shift();
    if (c === undefined) return null;
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    this.written.push(p.slice());
    return Promise.resolve(p.length);
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  /** The peer hangs up a connection whose reads wait: they end. */
  hangUp(): void {
    this.#endless = false;
    this.#wake?.();
  }
}

function tunnel(get: FakeConn, stats = { protocolErrors: 0, tunnels: 0 }) {
  let closed = 0;
  const t = new TunnelConn(get, {
    log: createLogger({ level: "error", write: () => {} }),
    stats,
    onClose: () => closed++,
  });
  return { t, closedCount: () => closed };
}

/** `bytes` cut at the points `cuts` names. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
    .sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    parts.push(bytes.subarray(at, p));
    at = p;
  }
  parts.push(bytes.subarray(at));
  return parts.filter((p) => p.length > 0);
}

Deno.test("TunnelConn: requests of two POSTs, cut anywhere, read in any sizes, are what RTSP reads", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.integer({ min: 1, max: 200 }),
      async (requests, split, cuts, readSize) => {
        // A POST carries whole requests: the second one starts a new base64 stream.
        const at = split % (requests.length + 1);
        const bodies = [requests.slice(0, at), requests.slice(at)].map((g) =>
          concat(g.map((r) => encodeBase64(r)))
        );
        const posts = bodies.map((b) => new FakeConn(cut(b, cuts)));
        const get = new FakeConn([], true);
        const { t } = tunnel(get);
        t.attachPost(posts[0]!, new Uint8Array(0));
        const want = concat(requests);
        const got: number[] = [];
        const buf = new Uint8Array(readSize);
        let attachedSecond = false;
        for (let i = 0; got.length < want.length && i < 10_000; i++) {
          if (!attachedSecond && !t.hasPost && posts[0]!.closed) {
            t.attachPost(posts[1]!, new Uint8Array(0));
            attachedSecond = true;
          }
          const read = t.read(buf);
          // With no POST attached, a read waits: attach the second and go on.
          const n = await Promise.race([
            read,
            new Promise<"wait">((r) => setTimeout(() => r("wait"), 0)),
          ]);
          if (n === "wait") {
            if (!attachedSecond) {
              t.attachPost(posts[1]!, new Uint8Array(0));
              attachedSecond = true;
            }
            const m = await read;
            assert.ok(m !== null);
            got.push(...buf.subarray(0, m));
            continue;
          }
          assert.ok(n !== null);
          got.push(...buf.subarray(0, n));
        }
        assert.deepEqual(new Uint8Array(got), want);
        t.close();
        assert.ok(get.closed && posts[0]!.closed);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("TunnelConn writes to the GET, and its GET's end is the end of reads", async () => {
  const get = new FakeConn([], true);
  const { t, closedCount } = tunnel(get);
  assert.equal(await t.write(new Uint8Array([1, 2, 3])), 3);
  assert.deepEqual(get.written, [new Uint8Array([1, 2, 3])]);
  const post = new FakeConn([]); // ends at once: the tunnel waits for another
  t.attachPost(post, new Uint8Array(0));
  const read = t.read(new Uint8Array(16));
  await new Promise((r) => setTimeout(r, 10));
  get.hangUp();
  assert.equal(await read, null);
  assert.equal(closedCount(), 1);
  await assert.rejects(t.write(new Uint8Array([4])), Deno.errors.BadResource);
});

Deno.test("TunnelConn: a byte on the GET ends the tunnel and counts a protocol error", async () => {
  const stats = { protocolErrors: 0, tunnels: 0 };
  const get = new FakeConn([new Uint8Array([0x50])]);
  const { t, closedCount } = tunnel(get, stats);
  assert.equal(await t.read(new Uint8Array(8)), null);
  assert.equal(stats.protocolErrors, 1);
  assert.equal(closedCount(), 1);
});

Deno.test("TunnelConn: invalid base64 in a POST rejects the read with a ProtocolError", async () => {
  const get = new FakeConn([], true);
  const { t } = tunnel(get);
  t.attachPost(
    new FakeConn([new TextEncoder().encode("T1BU!!!!")]),
    new Uint8Array(0),
  );
  await assert.rejects(t.read(new Uint8Array(8)), { name: "ProtocolError" });
  t.close();
});
