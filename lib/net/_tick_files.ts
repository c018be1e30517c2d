/**
 * The tick's shared batches as memory files: when the same joined bytes go
 * to many readers in one tick, the second reader on makes them a file
 * (`memoryFile`) and every later one sends from its pages with
 * `sendfile(2)`, instead of the kernel copying the bytes once per reader.
 * The files close when the tick ends; what the kernel still sends holds
 * its pages (private to `net/`, for `write_batcher.ts`).
 *
 * @module
 */

import { loadNative, type Native } from "./_libc.ts";
import { memoryFile } from "./memory_files.ts";

/** Batches shorter than this go as they are: a file costs more than their copy. */
const MIN_FILE_BYTES = 8 * 1024;
/** Files one tick makes at most. */
const MAX_FILES = 64;

const NAME = new TextEncoder().encode("sluice-tick\0");

/** One tick's batches and their files. */
export class TickFiles {
  readonly #native: Native;
  /** A batch's file, or -1 while it was asked for once. */
  readonly #files = new Map<Uint8Array, number>();
  #made = 0;

  constructor(native: Native) {
    this.#native = native;
  }

  /** The file that holds `bytes` for this tick, or -1 where they go as they are. */
  fileOf(bytes: Uint8Array): number {
    if (bytes.length < MIN_FILE_BYTES) return -1;
    const known = this.#files.get(bytes);
    if (known === undefined) {
      this.#files.set(bytes, -1); // one reader: no file
      return -1;
    }
    if (known >= 0 || this.#made >= MAX_FILES) return known;
    const { libc, errno } = this.#native;
    const fd = memoryFile(libc, errno, NAME, bytes);
    if (fd >= 0) {
      this.#files.set(bytes, fd);
      this.#made++;
    }
    return fd;
  }

  /** Closes this tick's files. */
  clear(): void {
    for (const fd of this.#files.values()) {
      if (fd >= 0) this.#native.libc.close(fd);
    }
    this.#files.clear();
    this.#made = 0;
  }
}

/** Tick files where Sluice's own sockets are (FFI), or null. */
export function tickFiles(): TickFiles | null {
  const native = loadNative();
  return native === null ? null : new TickFiles(native);
}
