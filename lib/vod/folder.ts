/**
 * The VOD folder (`vodPath`): file names under the `vod/` path prefix
 * resolve inside it and nowhere else. A name with `..`, `.`, a backslash, a
 * NUL, an absolute path or percent escapes left after decoding is refused
 * before any file is touched; what remains is resolved with `realPath`
 * (symlinks followed) and must still lie inside the folder's own real path.
 * A file opened by several readers is demuxed once and shared.
 *
 * @module
 */

import { open as openFile } from "node:fs/promises";
import { wallClockStart } from "../mp4/prft.ts";
import { openFlv } from "./flv_source.ts";
import { openMedia } from "./_open.ts";
import { VodFormatError, type VodSource } from "./source.ts";

/** The path prefix that names files of the VOD folder. */
export const VOD_PREFIX = "vod/";

/** Why a name did not open: `bad-name`, `not-found`, or `not-media`. */
export class VodError extends Error {
  override name = "VodError";
  readonly code: "bad-name" | "not-found" | "not-media";
  constructor(code: VodError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

/** A shared, reference-counted open file. */
export interface VodFile {
  readonly source: VodSource;
  /** The name under the folder. */
  readonly name: string;
  /** Size in bytes when it was opened. */
  readonly bytes: number;
  /** Changes when the file does (size, modification time, inode): names what is cached of it. */
  readonly version: string;
  /** Gives the reader's reference back; the last one closes the file. */
  release(): void;
}

interface Entry {
  opening: Promise<VodSource>;
  refs: number;
  info: Deno.FileInfo;
}

/** Whether `path` (a stream path, no leading slash) names a file of the VOD folder. */
export function isVodPath(path: string): boolean {
  return path.startsWith(VOD_PREFIX);
}

/**
 * Checks a file name from a URL (already percent-decoded once) and returns
 * its segments, or throws `bad-name`.
 */
export function vodSegments(name: string): string[] {
  if (
    name.length === 0 || name.length > 1024 || name.startsWith("/") ||
    /[\\\0%]/.test(name) || /^[a-zA-Z]:/.test(name)
  ) {
    throw new VodError("bad-name", "not a file name of the VOD folder");
  }
  const segments = name.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new VodError("bad-name", "not a file name of the VOD folder");
  }
  return segments;
}

/** The VOD folder; opens its files by name for readers. */
export class VodFolder {
  readonly #root: string;
  #realRoot: string | undefined;
  readonly #open = new Map<string, Entry>();

  constructor(root: string) {
    this.#root = root;
  }

  /** Files open now (shared by their readers). */
  get openFiles(): number {
    return this.#open.size;
  }

  /** Opens `name` (the path after `vod/`) for one reader. */
  async open(name: string): Promise<VodFile> {
    const { real, info } = await this.#resolve(name);
    let e = this.#open.get(real);
    if (e !== undefined && versionOf(e.info) !== versionOf(info)) {
      // The file changed since its readers opened it: new readers get the new one.
      this.#open.delete(real);
      e = undefined;
    }
    if (e === undefined) {
      e = { opening: openSource(real), refs: 0, info };
      this.#open.set(real, e);
      e.opening.catch(() => {
        if (this.#open.get(real) === e) this.#open.delete(real);
      });
    }
    e.refs++;
    let source: VodSource;
    try {
      source = await e.opening;
    } catch (err) {
      e.refs--;
      if (err instanceof VodError) throw err;
      if (err instanceof VodFormatError) {
        throw new VodError("not-media", `${name}: ${err.message}`);
      }
      throw new VodError("not-media", `${name}: cannot be read`);
    }
    let released = false;
    const entry = e;
    return {
      source,
      name,
      bytes: entry.info.size,
      version: versionOf(entry.info),
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (this.#open.get(real) === entry) this.#open.delete(real);
        source.close();
      },
    };
  }

  async #resolve(
    name: string,
  ): Promise<{ real: string; info: Deno.FileInfo }> {
    const segments = vodSegments(name);
    this.#realRoot ??= await Deno.realPath(this.#root);
    const root = this.#realRoot;
    let real: string;
    try {
      real = await Deno.realPath(`${root}/${segments.join("/")}`);
    } catch {
      throw new VodError("not-found", `no file ${name}`);
    }
    if (!real.startsWith(`${root}/`)) {
      // a symlink that leads out of the folder
      throw new VodError("not-found", `no file ${name}`);
    }
    const info = await Deno.stat(real).catch(() => undefined);
    if (info === undefined || !info.isFile) {
      throw new VodError("not-found", `no file ${name}`);
    }
    return { real, info };
  }
}

function versionOf(info: Deno.FileInfo): string {
  return `${info.size}-${info.mtime?.getTime() ?? 0}-${info.ino ?? 0}`;
}

/** Opens a confined real path with the reader its first bytes call for. */
async function openSource(real: string): Promise<VodSource> {
  const handle = await openFile(real, "r");
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    if (head[0] === 0x46 && head[1] === 0x4c && head[2] === 0x56) {
      return await openFlv(handle, size);
    }
    const source = await openMedia(handle, size, real, head);
    // a recording says when it was made (RTSP `Range: clock=`)
    const start = await readWallClock(handle, size).catch(() => undefined);
    if (start !== undefined) source.wallClockStartMs = start;
    return source;
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
}

/** A recording's init segment and first `prft` fit well inside this. */
const CLOCK_HEAD_BYTES = 64 * 1024;

/** The wall-clock start an MP4 file's first bytes state, if any. */
async function readWallClock(
  handle: Awaited<ReturnType<typeof openFile>>,
  size: number,
): Promise<number | undefined> {
  const head = new Uint8Array(Math.min(size, CLOCK_HEAD_BYTES));
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return wallClockStart(head.subarray(0, bytesRead));
}
