/**
 * The files of one recorded path: each segment a {@link SegmentFile}, each
 * in the index while it is written, a `segment complete` log line when it
 * closes. A write that fails stops the path's recording with one log line
 * and a counter; a new segment is tried after `retryMs`, and the first part
 * that reaches the disk again says so.
 *
 * @module
 */

import type { SegmentCompleteEvent } from "../events/events.ts";
import type { Logger } from "../log.ts";
import type { RecordPathPattern } from "./path_pattern.ts";
import type { RecordIndex, SegmentEntry } from "./record_index.ts";
import type { SegmentSink, SegmentStart } from "./record_output.ts";
import { SegmentFile } from "./segment_file.ts";
import type { FilePatch } from "./segment_muxer.ts";

/** Counters a {@link PathSink} keeps up to date (the recorder's). */
export interface PathSinkStats {
  segmentsStarted: number;
  segmentsCompleted: number;
  bytesWritten: number;
  writeErrors: number;
  stoppedPaths: number;
}

/** Options of {@link PathSink}. */
export interface PathSinkOptions {
  path: string;
  format: "fmp4" | "flv";
  pattern: RecordPathPattern;
  index: RecordIndex;
  stats: PathSinkStats;
  log: Logger;
  /** fsync every N parts; 0 never. */
  fsyncEvery: number;
  retryMs: number;
  now: () => number;
  /** File closes still running: shutdown waits for them. */
  closing: Set<Promise<void>>;
  onEnded(): void;
  /** Called when a segment file is complete (the `segment.complete` event). */
  onSegmentComplete?: (segment: SegmentCompleteEvent) => void;
}

/** Segment files of one path. */
export class PathSink implements SegmentSink {
  readonly #o: PathSinkOptions;
  #file: SegmentFile | undefined;
  #entry: SegmentEntry | undefined;
  /** The disk failed: no segment until `#retryAt`. */
  #stopped = false;
  #retryAt = 0;

  constructor(options: PathSinkOptions) {
    this.#o = options;
  }

  get failed(): boolean {
    return this.#file?.failed ?? false;
  }

  canStart(nowMs: number): boolean {
    return !this.#stopped || nowMs >= this.#retryAt;
  }

  open(segment: SegmentStart, head: Uint8Array): void {
    const o = this.#o;
    const file = o.pattern.file(o.path, segment.startMs, segment.extension);
    if (file === undefined) {
      this.#stop(new Error("the file name would leave the recordings root"));
      return;
    }
    const entry: SegmentEntry = {
      path: o.path,
      file,
      format: o.format,
      startMs: segment.startMs,
      durationMs: 0,
      open: true,
    };
    this.#entry = entry;
    const segmentFile: SegmentFile = new SegmentFile(file, head, {
      root: o.pattern.root,
      fsyncEvery: o.fsyncEvery,
      onError: (e) => {
        o.stats.writeErrors++;
        o.index.remove(entry);
        if (segmentFile.written === 0) Deno.remove(file).catch(() => {});
        this.#stop(e, file);
      },
      onWritten: (bytes) => {
        o.stats.bytesWritten += bytes;
        if (!this.#stopped) return;
        this.#stopped = false;
        o.stats.stoppedPaths--;
        o.log.info("recording resumed", { path: o.path, file });
      },
    });
    this.#file = segmentFile;
    o.index.add(entry);
    o.stats.segmentsStarted++;
    o.log.debug("segment started", { path: o.path, file });
  }

  write(part: Uint8Array, durationMs: number): void {
    const entry = this.#entry;
    const file = this.#file;
    if (file === undefined || entry === undefined) return;
    file.write(part);
    entry.durationMs = durationMs;
  }

  close(patches: FilePatch[], durationMs: number): void {
    const entry = this.#entry;
    const file = this.#file;
    this.#entry = undefined;
    this.#file = undefined;
    if (file === undefined || entry === undefined) return;
    const o = this.#o;
    const done = file.close(patches).then(() => {
      entry.open = false;
      if (file.failed) return;
      entry.durationMs = durationMs;
      o.stats.segmentsCompleted++;
      o.log.info("segment complete", {
        path: entry.path,
        file: entry.file,
        start: new Date(entry.startMs).toISOString(),
        duration: durationMs / 1000,
      });
      o.onSegmentComplete?.({
        path: entry.path,
        file: entry.file,
        start: new Date(entry.startMs).toISOString(),
        durationMs,
        bytes: file.written,
      });
    });
    o.closing.add(done);
    void done.finally(() => o.closing.delete(done));
  }

  ended(): void {
    if (this.#stopped) this.#o.stats.stoppedPaths--;
    this.#stopped = false;
    this.#o.onEnded();
  }

  #stop(e: Error, file?: string): void {
    const o = this.#o;
    this.#retryAt = o.now() + o.retryMs;
    if (this.#stopped) return; // still failing: said once already
    this.#stopped = true;
    o.stats.stoppedPaths++;
    o.log.error("recording stopped: cannot write segment", {
      path: o.path,
      file,
      error: e.message,
    });
  }
}
