/**
 * The recorder: which paths record, one {@link RecordOutput} on each such
 * stream, their segment files, the index, the clean-up of old segments,
 * and what a disk that is full or read-only does (one log line, a counter,
 * a retry every few seconds; the stream's readers never notice).
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { SegmentCompleteEvent } from "../events/events.ts";
import type { Stream } from "../hub/stream.ts";
import type { Logger } from "../log.ts";
import { FlvSegmentMuxer } from "./flv_segment.ts";
import { Fmp4SegmentMuxer } from "./fmp4_segment.ts";
import { RecordPathPattern } from "./path_pattern.ts";
import { RecordIndex } from "./record_index.ts";
import { RecordOutput } from "./record_output.ts";
import { PathSink } from "./path_sink.ts";
import type { SegmentMuxer } from "./segment_muxer.ts";
import { scanRecordings } from "./scan.ts";

/** What the recorder reads of the configuration. */
export type RecorderConfig = Pick<
  Config,
  | "record"
  | "recordFormat"
  | "recordPath"
  | "recordPartDuration"
  | "recordSegmentDuration"
  | "recordDeleteAfter"
  | "recordFsync"
  | "paths"
>;

/** How a publisher asked to be recorded (RTMP `publish(name, "record" | "append")`). */
export type RecordRequest = "record" | "append";

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  config: RecorderConfig;
  log: Logger;
  /** Resolves a relative `recordPath`. @default {Deno.cwd()} */
  cwd?: string;
  /** After a write failed, a new segment is tried this much later (ms). @default {5000} */
  retryMs?: number;
  /** Builds the muxer of a format; fMP4 and FLV by default. */
  muxer?: (format: "fmp4" | "flv") => SegmentMuxer;
  /** Wall clock, ms. @default {Date.now} */
  now?: () => number;
  /** Called when a segment file is complete (Sluice emits `segment.complete`). */
  onSegmentComplete?: (segment: SegmentCompleteEvent) => void;
}

/** Counters of the recorder, for logs, metrics and tests. */
export interface RecorderStats {
  segmentsStarted: number;
  segmentsCompleted: number;
  bytesWritten: number;
  /** Writes that failed (disk full, read-only, …). */
  writeErrors: number;
  /** Paths whose recording is stopped by a failing disk now. */
  stoppedPaths: number;
  segmentsDeleted: number;
}

const OUTPUT_KEY = "record";

/** Records the paths the configuration (or a publisher) asks for. */
export class Recorder {
  readonly index = new RecordIndex();
  readonly pattern: RecordPathPattern;
  readonly stats: RecorderStats = {
    segmentsStarted: 0,
    segmentsCompleted: 0,
    bytesWritten: 0,
    writeErrors: 0,
    stoppedPaths: 0,
    segmentsDeleted: 0,
  };
  readonly #options: RecorderOptions;
  readonly #now: () => number;
  readonly #sinks = new Set<PathSink>();
  readonly #closing = new Set<Promise<void>>();
  #cleanup: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.pattern = new RecordPathPattern(
      options.config.recordPath,
      options.cwd ?? Deno.cwd(),
    );
  }

  /** Builds the index from the recordings root once and starts the clean-up timer. */
  async start(): Promise<void> {
    const { log, config } = this.#options;
    const found = await scanRecordings(this.pattern);
    for (const e of found) this.index.add(e);
    if (found.length > 0) {
      log.info("recordings indexed", { segments: found.length });
    }
    if (config.recordDeleteAfter > 0 && !this.#closed) {
      const every = Math.min(
        60_000,
        Math.max(1000, config.recordDeleteAfter / 10),
      );
      this.#cleanup = setInterval(() => void this.deleteOld(), every);
      await this.deleteOld();
    }
  }

  /** Whether `path` records without being asked (config `record`). */
  records(path: string): boolean {
    const { config } = this.#options;
    return config.paths[path]?.record ?? config.record;
  }

  /**
   * A publisher started on `stream`: attaches the recorder when the path
   * records or the publisher asked (`"append"` continues an open segment,
   * `"record"` starts a new one).
   */
  onPublish(stream: Stream, request?: RecordRequest): void {
    if (this.#closed) return;
    if (!this.records(stream.path) && request === undefined) return;
    const output = stream.output<RecordOutput>(
      OUTPUT_KEY,
      () => this.#output(stream.path),
    );
    if (request === "record") output.restart();
  }

  #output(path: string): RecordOutput {
    const { config } = this.#options;
    const format = config.recordFormat;
    const muxer = this.#options.muxer?.(format) ??
      defaultMuxer(format, config.recordSegmentDuration);
    const { log } = this.#options;
    const fsync = config.recordFsync;
    const sink: PathSink = new PathSink({
      path,
      format,
      pattern: this.pattern,
      index: this.index,
      stats: this.stats,
      log,
      fsyncEvery: fsync === false ? 0 : fsync === "part" ? 1 : fsync,
      retryMs: this.#options.retryMs ?? 5000,
      now: this.#now,
      closing: this.#closing,
      onEnded: () => this.#sinks.delete(sink),
      onSegmentComplete: this.#options.onSegmentComplete,
    });
    this.#sinks.add(sink);
    return new RecordOutput({
      muxer,
      sink,
      partDurationMs: config.recordPartDuration,
      segmentDurationMs: config.recordSegmentDuration,
      now: this.#now,
    });
  }

  /** Deletes segments that ended more than `recordDeleteAfter` ago. */
  async deleteOld(): Promise<void> {
    const after = this.#options.config.recordDeleteAfter;
    if (after <= 0) return;
    const limit = this.#now() - after;
    for (const e of this.index.all()) {
      if (e.open || e.startMs + e.durationMs >= limit) continue;
      this.index.remove(e);
      try {
        await Deno.remove(e.file);
        this.stats.segmentsDeleted++;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          this.#options.log.warn("Cannot delete old segment", {
            file: e.file,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
    }
  }

  /** Resolves when the segments closed so far are on disk and in the index. */
  async settled(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }

  /**
   * Stops the clean-up; resolves when the segments being closed are (open
   * segments close with their streams: end the hub first).
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#cleanup !== undefined) clearInterval(this.#cleanup);
    await this.settled();
  }
}

function defaultMuxer(
  format: "fmp4" | "flv",
  segmentMs: number,
): SegmentMuxer {
  if (format === "fmp4") return new Fmp4SegmentMuxer();
  // Room for a keyframe every half second (18 bytes each), at most an hour's worth.
  const maxKeyframes = Math.min(7200, Math.max(64, Math.ceil(segmentMs / 500)));
  return new FlvSegmentMuxer({ maxKeyframes });
}
