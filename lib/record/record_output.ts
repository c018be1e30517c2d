/**
 * The recorder's face of a stream: one more output on the hub, beside the
 * players. Frames become segments, cut on a keyframe once a segment is
 * `segmentDuration` long or when the codecs change, and parts of
 * `partDuration`, each handed to the {@link SegmentSink} whole. Times in a
 * segment start at 0; a publisher that comes back within the grace period
 * continues the same segment (the hub keeps the stream and its timeline).
 *
 * @module
 */

import type { Metadata, StreamOutput } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import {
  type FilePatch,
  type SegmentMuxer,
  trackSignature,
} from "./segment_muxer.ts";

/** A segment as the output knows it. */
export interface SegmentStart {
  /** Wall-clock start, ms since the epoch. */
  startMs: number;
  extension: "mp4" | "flv";
}

/** Where segments go: the file side of a recording (see `Recorder`). */
export interface SegmentSink {
  /** Whether a new segment may start now (false while the disk is failing, until a retry is due). */
  canStart(nowMs: number): boolean;
  /** Whether the current segment's file failed: the output abandons it. */
  readonly failed: boolean;
  open(segment: SegmentStart, head: Uint8Array): void;
  /** One part, to write whole; `durationMs` is the segment's length with it. */
  write(part: Uint8Array, durationMs: number): void;
  close(patches: FilePatch[], durationMs: number): void;
  /** The stream ended: no segment comes after this. */
  ended(): void;
}

/** Options of {@link RecordOutput}. */
export interface RecordOutputOptions {
  /** A muxer for the recording format (one per output, reused per segment). */
  muxer: SegmentMuxer;
  sink: SegmentSink;
  /** @default {1000} */
  partDurationMs?: number;
  /** @default {3600000} */
  segmentDurationMs?: number;
  /** Wall clock, ms. @default {Date.now} */
  now?: () => number;
}

interface OpenSegment {
  /** Media time of the first frame, seconds. */
  startSec: number;
  startMs: number;
  /** Latest video frame time (any frame without video), seconds, and the step before it. */
  lastSec: number;
  stepSec: number;
  partStartSec: number;
}

/** Records a stream's frames into segments; never sends packets to readers. */
export class RecordOutput implements StreamOutput<never> {
  readonly #muxer: SegmentMuxer;
  readonly #sink: SegmentSink;
  readonly #partSec: number;
  readonly #segmentSec: number;
  readonly #now: () => number;
  #tracks: readonly Track[] = [];
  #signature = "";
  #metadata: Metadata | undefined;
  #segment: OpenSegment | undefined;
  /** Where the last segment ended (media seconds, wall ms): the next continues it. */
  #previous: { endSec: number; endMs: number } | undefined;
  #ended = false;
  /** Segments started. */
  segments = 0;

  constructor(options: RecordOutputOptions) {
    this.#muxer = options.muxer;
    this.#sink = options.sink;
    this.#partSec = (options.partDurationMs ?? 1000) / 1000;
    this.#segmentSec = (options.segmentDurationMs ?? 3_600_000) / 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Counts as a reader: the stream waits a grace period for its publisher to come back. */
  get readers(): number {
    return this.#ended ? 0 : 1;
  }

  /** Whether a segment is open now. */
  get recording(): boolean {
    return this.#segment !== undefined;
  }

  tracks(tracks: readonly Track[]): void {
    const signature = trackSignature(tracks);
    if (signature !== this.#signature && this.#segment !== undefined) {
      this.#close(); // new codecs: the next keyframe starts a new segment
    }
    this.#tracks = tracks;
    this.#signature = signature;
  }

  metadata(metadata: Metadata | undefined): void {
    this.#metadata = metadata;
  }

  /** Ends the current segment now; the next keyframe starts another (`publish(…, "record")`). */
  restart(): void {
    this.#close();
    this.#previous = undefined;
  }

  frame(frame: Frame): readonly never[] {
    if (this.#ended) return [];
    const track = this.#tracks.find((t) => t.id === frame.trackId);
    if (track === undefined) return [];
    if (this.#segment !== undefined && this.#sink.failed) {
      this.#segment = undefined; // the disk failed: abandon it, retry later
      this.#previous = undefined;
    }
    const sec = frame.dts / track.clockRate;
    const hasVideo = this.#tracks.some((t) => t.kind === "video");
    const key = !hasVideo || (track.kind === "video" && frame.keyframe);
    let seg = this.#segment;
    if (seg !== undefined && key && sec - seg.startSec >= this.#segmentSec) {
      this.#close(sec);
      seg = undefined;
    }
    if (seg === undefined) {
      if (!key || !this.#sink.canStart(this.#now())) return [];
      seg = this.#open(sec, track, frame);
    } else if (sec - seg.partStartSec >= this.#partSec) {
      this.#flush(false, sec);
    }
    const base = Math.round(seg.startSec * track.clockRate);
    const dts = Math.max(0, frame.dts - base);
    this.#muxer.add(track, { ...frame, dts, pts: dts + frame.pts - frame.dts });
    if (track.kind === "video" || !hasVideo) {
      if (sec > seg.lastSec) seg.stepSec = sec - seg.lastSec;
      seg.lastSec = Math.max(seg.lastSec, sec);
    }
    return [];
  }

  end(): void {
    if (this.#ended) return;
    this.#close();
    this.#ended = true;
    this.#sink.ended();
  }

  #open(sec: number, track: Track, frame: Frame): OpenSegment {
    const prev = this.#previous;
    // Continuing a recording: the wall clock follows the media time, so
    // consecutive segments meet exactly in the index.
    const startMs = prev !== undefined && sec >= prev.endSec &&
        sec - prev.endSec < 2 * this.#partSec + 1
      ? prev.endMs + Math.round((sec - prev.endSec) * 1000)
      : this.#now();
    const head = this.#muxer.open(this.#tracks, this.#metadata, {
      startMs,
      first: { track, frame: { ...frame, dts: 0, pts: frame.pts - frame.dts } },
    });
    this.#sink.open({ startMs, extension: this.#muxer.extension }, head);
    this.segments++;
    this.#segment = {
      startSec: sec,
      startMs,
      lastSec: sec,
      stepSec: 0,
      partStartSec: sec,
    };
    return this.#segment;
  }

  #durationSec(seg: OpenSegment): number {
    return seg.lastSec + seg.stepSec - seg.startSec;
  }

  #flush(last: boolean, sec: number, endSec?: number): void {
    const seg = this.#segment!;
    const part = this.#muxer.part(
      last,
      endSec === undefined ? undefined : endSec - seg.startSec,
    );
    seg.partStartSec = sec;
    if (part !== undefined) {
      this.#sink.write(part, Math.round(this.#durationSec(seg) * 1000));
    }
  }

  /** Closes the segment, at `endSec` when the next one starts there. */
  #close(endSec?: number): void {
    const seg = this.#segment;
    if (seg === undefined) return;
    this.#flush(true, seg.lastSec, endSec);
    const duration = endSec === undefined
      ? this.#durationSec(seg)
      : endSec - seg.startSec;
    this.#sink.close(this.#muxer.close(duration), Math.round(duration * 1000));
    this.#segment = undefined;
    this.#previous = {
      endSec: seg.startSec + duration,
      endMs: seg.startMs + Math.round(duration * 1000),
    };
  }
}
