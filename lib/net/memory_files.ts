/**
 * Bytes that many clients ask for (HLS parts and segments) go out with
 * `sendfile(2)` from an anonymous memory file (`memfd_create(2)`) that
 * holds a copy of them: the kernel then sends from the file's pages, where
 * a `send` would copy the bytes out of JavaScript's memory once per
 * client. Copying was a sixth of the server's CPU with a thousand HLS
 * players.
 *
 * A buffer is copied into a file the second time it is asked for, so bytes
 * that one client reads cost no file. A file lives no longer than its
 * buffer (it goes when the buffer is collected), and the files are bounded
 * in bytes and in number, the least recently asked leaving first; a file
 * leaves the set at once but its descriptor closes only when no send uses
 * it any more.
 * Sluice's own sockets (`fd_conn.ts`) can send from a file; others (TLS,
 * Deno's sockets) write the bytes.
 *
 * The files' pages are shared memory: they count in the machine's memory
 * but not in the process's RSS, as a file server's page cache does not.
 *
 * @module
 */

import { ERRNO, type Libc, loadNative, size } from "./_libc.ts";

/** `MFD_CLOEXEC` of memfd_create(2). */
const MFD_CLOEXEC = 1;

/** A socket that can send from a file. */
export interface FileSender {
  /** Bytes of `length` from `offset` of file `fd` that were sent (possibly fewer). */
  sendFile(fd: number, offset: number, length: number): Promise<number>;
}

/** Options of {@link MemoryFiles}. */
export interface MemoryFilesOptions {
  /** Bytes held in files at most. @default {67108864} */
  maxBytes?: number;
  /** Files at most. @default {512} */
  maxFiles?: number;
  /** The files' name, as `/proc/<pid>/fd` shows it (`/memfd:<name>`). @default {"sluice-bytes"} */
  name?: string;
}

/** One buffer's copy in a file. */
interface Mirror {
  readonly fd: number;
  readonly size: number;
  /** Sends using the file now. */
  users: number;
  /** Out of the set: the descriptor closes with its last user. */
  gone: boolean;
}

/**
 * A new anonymous memory file holding a copy of `bytes` (`name` ends in a
 * NUL), or -1 when none could be made (out of memory for it: the bytes go
 * as they are).
 */
export function memoryFile(
  libc: Libc,
  errno: Int32Array,
  name: Uint8Array,
  bytes: Uint8Array,
): number {
  const fd = libc.memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  for (let at = 0; at < bytes.length;) {
    const rest = bytes.subarray(at);
    const n = libc.write(fd, rest, size(rest.length));
    if (n > 0) {
      at += n;
      continue;
    }
    if (n < 0 && errno[0] === ERRNO.EINTR) continue;
    libc.close(fd);
    return -1;
  }
  return fd;
}

/** The files of the buffers asked for most recently. */
export class MemoryFiles {
  readonly #libc: Libc;
  readonly #errno: Int32Array;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #name: Uint8Array;
  /** The file of a buffer: held weakly, the buffer's owner decides its life. */
  #mirrors = new WeakMap<ArrayBufferLike, Mirror>();
  /** The files, least recently asked first. */
  readonly #order = new Set<Mirror>();
  /** Buffers asked for once, not (yet) copied. */
  #seen = new WeakSet<ArrayBufferLike>();
  /** A buffer that is collected takes its file with it. */
  readonly #collected = new FinalizationRegistry<Mirror>((m) => {
    if (!m.gone) this.#forget(m);
  });
  #bytes = 0;
  readonly stats = { copied: 0, sent: 0, failed: 0 };

  constructor(libc: Libc, errno: Int32Array, options: MemoryFilesOptions = {}) {
    this.#libc = libc;
    this.#errno = errno;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxFiles = options.maxFiles ?? 512;
    this.#name = new TextEncoder().encode(
      `${options.name ?? "sluice-bytes"}\0`,
    );
  }

  /** Files open now. */
  get files(): number {
    return this.#order.size;
  }

  /** Bytes held in files now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Sends `bytes` (shared, never modified) to `conn` from their file, and
   * resolves true once sent; false, at once, when they go out as they are
   * (their buffer asked for the first time or too large, or no file could
   * be made).
   */
  async send(conn: FileSender, bytes: Uint8Array): Promise<boolean> {
    const m = this.#acquire(bytes);
    if (m === undefined) return false;
    try {
      // The file holds the whole buffer: the view is at its own offset.
      let at = bytes.byteOffset;
      const end = at + bytes.length;
      while (at < end) {
        const n = await conn.sendFile(m.fd, at, end - at);
        if (n <= 0) throw new Error("sendfile: the memory file ended early");
        at += n;
      }
      this.stats.sent++;
      return true;
    } finally {
      this.#release(m);
    }
  }

  /** Closes every file no send uses; the others close after their sends. */
  clear(): void {
    for (const m of [...this.#order]) this.#forget(m);
    this.#mirrors = new WeakMap();
    this.#seen = new WeakSet();
  }

  #acquire(bytes: Uint8Array): Mirror | undefined {
    const buffer = bytes.buffer;
    let m = this.#mirrors.get(buffer);
    if (m !== undefined && !m.gone) {
      this.#order.delete(m); // to the end: most recently asked
      this.#order.add(m);
    } else {
      if (!this.#seen.has(buffer)) {
        this.#seen.add(buffer);
        return undefined;
      }
      // The whole buffer goes in: the parts of an HLS segment are views of it.
      if (buffer.byteLength > this.#maxBytes / 4) return undefined;
      m = this.#copy(new Uint8Array(buffer));
      if (m === undefined) return undefined;
      this.#mirrors.set(buffer, m);
      this.#collected.register(buffer, m, m);
      this.#order.add(m);
      this.#bytes += m.size;
      this.#evict();
    }
    m.users++;
    return m;
  }

  #release(m: Mirror): void {
    m.users--;
    if (m.gone && m.users === 0) this.#libc.close(m.fd);
  }

  /** A new file holding `all`, or undefined when none could be made. */
  #copy(all: Uint8Array): Mirror | undefined {
    const fd = memoryFile(this.#libc, this.#errno, this.#name, all);
    if (fd < 0) {
      this.stats.failed++;
      return undefined;
    }
    this.stats.copied++;
    return { fd, size: all.length, users: 0, gone: false };
  }

  /** Drops the least recently asked files past the bounds. */
  #evict(): void {
    for (const m of this.#order) {
      if (
        this.#bytes <= this.#maxBytes && this.#order.size <= this.#maxFiles
      ) return;
      this.#forget(m);
    }
  }

  /** Takes `m` out of the set; its descriptor closes with its last send. */
  #forget(m: Mirror): void {
    this.#order.delete(m);
    this.#collected.unregister(m);
    this.#bytes -= m.size;
    m.gone = true;
    if (m.users === 0) this.#libc.close(m.fd);
  }
}

let shared: MemoryFiles | null | undefined;

/**
 * The process's memory files, or null where Sluice's own sockets cannot
 * be used (then no socket can send from a file either).
 */
export function memoryFiles(): MemoryFiles | null {
  if (shared !== undefined) return shared;
  const n = loadNative();
  shared = n === null ? null : new MemoryFiles(n.libc, n.errno);
  return shared;
}
