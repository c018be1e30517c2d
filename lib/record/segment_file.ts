/**
 * One segment file on disk: created new (never over an existing file or
 * through a link), written part by part in order, each part whole, with an
 * optional fsync every N parts, patched and closed at the end. Writes run
 * one after another off the media path: the publisher never waits for the
 * disk. The first failure (disk full, read-only, removed folder) stops the
 * file and is reported once.
 *
 * @module
 */

import { confined } from "./path_pattern.ts";
import type { FilePatch } from "./segment_muxer.ts";

/** Options of {@link SegmentFile}. */
export interface SegmentFileOptions {
  /** The recordings root the file must stay in, links resolved. */
  root: string;
  /** fsync after every part (`1`), every N parts, or never (`0`). @default {0} */
  fsyncEvery?: number;
  /** Bytes that may wait for the disk before the file counts as failed. @default {67108864} */
  maxPendingBytes?: number;
  /** Called once, with the error that stopped the file. */
  onError(error: Error): void;
  /** Called after each part reached the file, with its size. */
  onWritten?(bytes: number): void;
}

/** A segment file being written. */
export class SegmentFile {
  readonly path: string;
  readonly #options: SegmentFileOptions;
  #chain: Promise<void>;
  #file: Deno.FsFile | undefined;
  #failed = false;
  #pending = 0;
  #parts = 0;
  #written = 0;

  /** Opens `path` (creating its folders) and queues `head`, the file's first bytes. */
  constructor(path: string, head: Uint8Array, options: SegmentFileOptions) {
    this.path = path;
    this.#options = options;
    this.#pending = head.length;
    this.#chain = this.#open(head);
  }

  /** Whether a write failed: nothing more is written. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes written to the file so far. */
  get written(): number {
    return this.#written;
  }

  /** Queues one part, written whole. */
  write(part: Uint8Array): void {
    if (this.#failed) return;
    this.#pending += part.length;
    if (this.#pending > (this.#options.maxPendingBytes ?? 64 * 1024 * 1024)) {
      this.#fail(new Error("the disk does not keep up with the recording"));
      return;
    }
    this.#chain = this.#chain.then(() => this.#writePart(part));
  }

  /** Writes the patches, syncs and closes; resolves when the file is closed. */
  close(patches: readonly FilePatch[] = []): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      const file = this.#file;
      if (file === undefined) return;
      try {
        if (!this.#failed) {
          for (const p of patches) {
            await file.seek(p.offset, Deno.SeekMode.Start);
            await writeAll(file, p.bytes);
          }
          if ((this.#options.fsyncEvery ?? 0) > 0) await file.syncData();
        }
      } catch (e) {
        this.#fail(e);
      } finally {
        this.#file = undefined;
        try {
          file.close();
        } catch {
          // already closed
        }
      }
    });
    return this.#chain;
  }

  async #open(head: Uint8Array): Promise<void> {
    try {
      const dir = this.path.slice(0, this.path.lastIndexOf("/"));
      await Deno.mkdir(dir, { recursive: true });
      if (!await confined(this.#options.root, this.path)) {
        throw new Error(`${this.path} leaves the recordings root`);
      }
      this.#file = await Deno.open(this.path, {
        write: true,
        createNew: true,
      });
      await this.#writePart(head);
    } catch (e) {
      this.#fail(e);
    }
  }

  async #writePart(part: Uint8Array): Promise<void> {
    const file = this.#file;
    if (this.#failed || file === undefined) return;
    try {
      await writeAll(file, part);
      this.#pending -= part.length;
      this.#written += part.length;
      this.#parts++;
      const every = this.#options.fsyncEvery ?? 0;
      if (every > 0 && this.#parts % every === 0) await file.syncData();
      this.#options.onWritten?.(part.length);
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#pending = 0;
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch {
      // already closed
    }
    this.#options.onError(e instanceof Error ? e : new Error(String(e)));
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = await file.write(bytes.subarray(done));
    if (n <= 0) throw new Error("the file took no bytes");
    done += n;
  }
}
