/**
 * HLS of the files of the VOD folder: per file (and segment target) the
 * segment list cut from its keyframe index once, and segments made on
 * demand by seeking the file (see {@link writeVodSegment}). Memory stays
 * bounded: open files are few and let go when idle, built segments sit in
 * a small LRU bounded in bytes, concurrent requests for one segment share
 * one build, and builds run a few at a time.
 *
 * Names carry a tag of the file's version and the segment target, so a
 * cache may keep every segment for a year: a changed file gets new names.
 *
 * @module
 */

import type { Track } from "../media/track.ts";
import { chooseTracks, type HlsVariant } from "../hls/part_writer.ts";
import { VodError, type VodFile, type VodFolder } from "./folder.ts";
import { cutVodSpans, type VodSpan } from "./hls_index.ts";
import { vodInitSegment, writeVodSegment } from "./hls_segment.ts";
import { VodFormatError } from "./source.ts";

/** The two ways a file is served over HLS. */
export type VodHlsVariant = Extract<HlsVariant, "fmp4" | "mpegts">;

/** Options of {@link VodHls}. */
export interface VodHlsOptions {
  /** Bytes of built segments kept. @default {33554432} */
  cacheBytes?: number;
  /** Files kept open between requests. @default {32} */
  maxFiles?: number;
  /** A file unused this long is let go. @default {60000} */
  idleMs?: number;
  /** A file in use is checked for changes this often. @default {2000} */
  recheckMs?: number;
  /** Segments built at once; more requests wait. @default {4} */
  builds?: number;
  /** Requests that may wait for a build; more are refused. @default {1024} */
  maxWaiting?: number;
  /** The clock, ms. @default {Date.now} */
  now?: () => number;
}

/** A file served over HLS: what its playlists need. */
export interface VodHlsFile {
  /** Names its segments: the file's version and the segment target. */
  readonly tag: string;
  readonly spans: readonly VodSpan[];
  readonly durationSeconds: number;
  readonly bytes: number;
  /** The tracks `variant` writes (empty when it carries none of them). */
  tracks(variant: VodHlsVariant): Track[];
}

/** Too many segment builds waiting: try again shortly. */
export class VodBusyError extends Error {
  override name = "VodBusyError";
}

interface Open extends VodHlsFile {
  file: VodFile;
  busy: number;
  usedMs: number;
  checkedMs: number;
  /** Replaced by a newer version of the file: let go once no request holds it. */
  retired: boolean;
}

interface Slot {
  opening: Promise<Open>;
  /** Once opened. */
  open?: Open;
}

/** HLS of a VOD folder's files. */
export class VodHls {
  readonly #folder: Pick<VodFolder, "open">;
  readonly #files = new Map<string, Slot>();
  readonly #cache = new Map<string, Uint8Array>();
  #cacheBytes = 0;
  readonly #building = new Map<string, Promise<Uint8Array>>();
  #running = 0;
  readonly #queue: (() => void)[] = [];
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #idleMs: number;
  readonly #recheckMs: number;
  readonly #builds: number;
  readonly #maxWaiting: number;
  readonly #now: () => number;
  /** Segments built (cache misses), for tests and benchmarks. */
  built = 0;

  constructor(folder: Pick<VodFolder, "open">, options: VodHlsOptions = {}) {
    this.#folder = folder;
    this.#maxBytes = options.cacheBytes ?? 32 * 1024 * 1024;
    this.#maxFiles = Math.max(1, options.maxFiles ?? 32);
    this.#idleMs = options.idleMs ?? 60_000;
    this.#recheckMs = options.recheckMs ?? 2000;
    this.#builds = Math.max(1, options.builds ?? 4);
    this.#maxWaiting = options.maxWaiting ?? 1024;
    this.#now = options.now ?? Date.now;
  }

  /** Bytes of built segments held. */
  get cachedBytes(): number {
    return this.#cacheBytes;
  }

  /** Files held open. */
  get openFiles(): number {
    return this.#files.size;
  }

  /**
   * Runs `use` with `name` (the path after `vod/`) opened and indexed for a
   * segment target of `targetSeconds`; throws `VodError` as the folder does
   * (and `not-found` for a file rewritten more than `retries` times meanwhile).
   */
  async with<T>(
    name: string,
    targetSeconds: number,
    use: (f: VodHlsFile) => Promise<T> | T,
    retries = 2,
  ): Promise<T> {
    this.#sweep();
    const key = `${targetSeconds}:${name}`;
    let slot = this.#files.get(key);
    if (slot === undefined) {
      const s: Slot = { opening: this.#open(name, targetSeconds) };
      s.opening.then((f) => s.open = f, () => {
        if (this.#files.get(key) === s) this.#files.delete(key);
      });
      this.#files.set(key, s);
      slot = s;
    }
    const f = await slot.opening;
    if (!(await this.#current(key, slot, f, name))) {
      if (retries <= 0) {
        throw new VodError("not-found", `${name} changes while it is read`);
      }
      // A fresh slot, checked now
      return this.with(name, targetSeconds, use, retries - 1);
    }
    f.busy++;
    f.usedMs = this.#now();
    try {
      return await use(f);
    } finally {
      f.busy--;
      f.usedMs = this.#now();
      if (f.retired && f.busy === 0) f.file.release();
    }
  }

  /**
   * Whether `f` is still the file under `name` (checked every `recheckMs`):
   * a file replaced or changed retires its slot; one gone throws.
   */
  async #current(
    key: string,
    slot: Slot,
    f: Open,
    name: string,
  ): Promise<boolean> {
    const now = this.#now();
    if (f.retired) return false;
    if (now - f.checkedMs < this.#recheckMs) return true;
    f.checkedMs = now;
    let fresh: VodFile;
    try {
      fresh = await this.#folder.open(name);
    } catch (e) {
      this.#retire(key, slot, f);
      throw e;
    }
    fresh.release();
    if (fresh.version === f.file.version) return true;
    this.#retire(key, slot, f);
    return false;
  }

  #retire(key: string, slot: Slot, f: Open): void {
    if (this.#files.get(key) === slot) this.#files.delete(key);
    f.retired = true;
    if (f.busy === 0) f.file.release();
  }

  async #open(name: string, targetSeconds: number): Promise<Open> {
    const file = await this.#folder.open(name);
    try {
      const source = file.source;
      const spans = cutVodSpans(
        await source.keyframes(),
        source.durationSeconds,
        targetSeconds,
      );
      const tracks = new Map<VodHlsVariant, Track[]>();
      return {
        file,
        tag: tagOf(`${file.version}|${targetSeconds}`),
        spans,
        durationSeconds: source.durationSeconds,
        bytes: file.bytes,
        tracks(variant) {
          let t = tracks.get(variant);
          if (t === undefined) {
            t = chooseTracks(variant, source.tracks).chosen;
            tracks.set(variant, t);
          }
          return t;
        },
        busy: 0,
        usedMs: this.#now(),
        checkedMs: this.#now(),
        retired: false,
      };
    } catch (e) {
      file.release();
      throw e;
    }
  }

  /** The init segment of `f` (fMP4). */
  init(f: VodHlsFile): Promise<Uint8Array> {
    return this.#cached(`${f.tag}:init`, () => {
      return Promise.resolve(vodInitSegment(f.tracks("fmp4")));
    });
  }

  /** Segment `index` of `f` as `variant` writes it; `undefined` past the last. */
  segment(
    f: VodHlsFile,
    variant: VodHlsVariant,
    index: number,
  ): Promise<Uint8Array> | undefined {
    const span = f.spans[index];
    if (span === undefined) return undefined;
    const { file } = f as Open;
    return this.#cached(`${f.tag}:${variant}:${index}`, () =>
      this.#slot(() => {
        this.built++;
        return writeVodSegment(file.source, f.tracks(variant), variant, span)
          .catch((e) => {
            if (e instanceof VodFormatError) throw e;
            throw new VodFormatError(
              `cannot read segment ${index}: ${
                e instanceof Error ? e.message : e
              }`,
            );
          });
      }));
  }

  /** The cached bytes of `key`, or one shared build of them. */
  #cached(key: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#cache.delete(key); // most recently used last
      this.#cache.set(key, hit);
      return Promise.resolve(hit);
    }
    const running = this.#building.get(key);
    if (running !== undefined) return running;
    const p = build().then((bytes) => {
      this.#keep(key, bytes);
      return bytes;
    }).finally(() => this.#building.delete(key));
    this.#building.set(key, p);
    return p;
  }

  #keep(key: string, bytes: Uint8Array): void {
    if (bytes.length > this.#maxBytes / 4) return; // too big to keep: built per request
    this.#cache.set(key, bytes);
    this.#cacheBytes += bytes.length;
    for (const [k, b] of this.#cache) {
      if (this.#cacheBytes <= this.#maxBytes) break;
      this.#cache.delete(k);
      this.#cacheBytes -= b.length;
    }
  }

  /** Runs `work` when fewer than `builds` run; refuses past `maxWaiting` waiting. */
  async #slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#builds) {
      if (this.#queue.length >= this.#maxWaiting) {
        throw new VodBusyError("too many segments being built");
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else this.#running++;
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      if (next !== undefined) next(); // the slot passes on
      else this.#running--;
    }
  }

  /** Lets go of files idle too long, and the least used past `maxFiles`. */
  #sweep(): void {
    const now = this.#now();
    const idle: [string, Open][] = [];
    for (const [key, { open }] of this.#files) {
      if (open !== undefined && open.busy === 0) idle.push([key, open]);
    }
    idle.sort((a, b) => a[1].usedMs - b[1].usedMs);
    let over = this.#files.size - this.#maxFiles + 1;
    for (const [key, f] of idle) {
      if (over <= 0 && now - f.usedMs < this.#idleMs) break;
      this.#files.delete(key);
      f.file.release();
      over--;
    }
  }

  /** Lets go of every file and cached segment. */
  close(): void {
    for (const s of this.#files.values()) {
      s.opening.then((f) => f.file.release(), () => {});
    }
    this.#files.clear();
    this.#cache.clear();
    this.#cacheBytes = 0;
  }
}

/** 8 hex digits of FNV-1a over `text`. */
function tagOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
