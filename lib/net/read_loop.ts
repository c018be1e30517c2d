/**
 * A connection's read loop with one read buffer that adapts to the peer: a
 * player, which sends a few acknowledgements a minute, keeps a small buffer
 * pending; a publisher's buffer grows while its reads fill it.
 *
 * A pending read holds its buffer for as long as the peer stays silent, so
 * with a thousand players the buffer size is paid a thousand times; and a
 * fresh buffer per read is garbage the garbage collector must make room for.
 * Here each connection reuses one buffer and hands every read on as an
 * exact-size copy, which the receiver may keep (a stage keeps views of its
 * input), and which pins only the bytes that were read.
 *
 * @module
 */

/** Something to read from: a `Deno.Conn`, or a test's fake. */
export interface Readable {
  read(p: Uint8Array): Promise<number | null>;
  /** A loop of its own that costs less (`StreamConn.readEach`): used when there. */
  readEach?(onData: (chunk: Uint8Array) => boolean | void): Promise<void>;
}

/** Options of {@link readLoop}. */
export interface ReadLoopOptions {
  /** Size of the buffer while the peer sends little. @default {256} */
  minSize?: number;
  /** Largest buffer, reached by doubling while reads fill it. @default {65536} */
  maxSize?: number;
}

/** The buffer size `readLoop` reads into at most, by default: one read of a publisher's media. */
export const MAX_READ_SIZE = 64 * 1024;
/** The buffer size `readLoop` starts with and keeps while the peer sends little. */
export const MIN_READ_SIZE = 256;

/**
 * Reads `conn` until the peer closes it, handing each read to `onData` as a
 * copy of exactly the bytes read. The buffer doubles after a read that
 * filled it (up to `maxSize`) and halves after one that used a quarter of it
 * or less (down to `minSize`).
 *
 * Resolves when the peer closes the connection or `onData` returns `false`;
 * rejects with the error of a failed read or the one `onData` throws. No
 * async function: a waiting connection holds one pending read and the
 * promise this returns, and a read allocates nothing but the copy and the
 * runtime's own promise.
 *
 * @example A loop that stops at the first byte 0x00
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLoop } from "./read_loop.ts";
 *
 * const wire = [new Uint8Array([1, 2]), new Uint8Array([3, 0, 9])];
 * const conn = {
 *   read(p: Uint8Array): Promise<number | null> {
 *     const next = wire.shift();
 *     if (next === undefined) return Promise.resolve(null);
 *     p.set(next);
 *     return Promise.resolve(next.length);
 *   },
 * };
 * const got: number[] = [];
 * await readLoop(conn, (chunk) => {
 *   got.push(...chunk);
 *   return !chunk.includes(0);
 * });
 * assert.deepEqual(got, [1, 2, 3, 0, 9]);
 * ```
 */
export function readLoop(
  conn: Readable,
  onData: (chunk: Uint8Array) => boolean | void,
  options: ReadLoopOptions = {},
): Promise<void> {
  if (conn.readEach !== undefined) return conn.readEach(onData);
  const minSize = options.minSize ?? MIN_READ_SIZE;
  const maxSize = Math.max(minSize, options.maxSize ?? MAX_READ_SIZE);
  if (!Number.isInteger(minSize) || minSize < 1 || !Number.isInteger(maxSize)) {
    throw new RangeError(`Cannot read into buffers of ${minSize} bytes`);
  }
  return new Promise<void>((resolve, reject) => {
    let buf = new Uint8Array(minSize);
    const read = (): void => {
      let pending: Promise<number | null>;
      try {
        pending = conn.read(buf);
      } catch (e) {
        return reject(e);
      }
      pending.then(received, reject);
    };
    const received = (n: number | null): void => {
      if (n === null) return resolve();
      const chunk = buf.slice(0, n);
      const size = buf.length;
      if (n === size && size < maxSize) {
        buf = new Uint8Array(Math.min(size * 2, maxSize));
      } else if (n <= size / 4 && size > minSize) {
        buf = new Uint8Array(Math.max(size >> 1, minSize));
      }
      let more: boolean | void;
      try {
        more = onData(chunk);
      } catch (e) {
        return reject(e);
      }
      if (more === false) return resolve();
      read();
    };
    read();
  });
}
