/**
 * Frames in, CMAF init segment and fragments out: the one fMP4 writer of
 * Sluice, for recordings and HLS alike.
 *
 * A sample's duration is the next frame's dts minus its own, so the
 * fragmenter holds each track's newest frame back: {@link Mp4Fragmenter.flush}
 * writes every sample whose duration is known, {@link Mp4Fragmenter.end}
 * writes the held frames too, ending at given times or lasting as long as
 * the sample before. A step back or a jump beyond `maxSampleDurationMs` never
 * becomes a sample hours long: that sample lasts as long as the one before
 * and the track's later decode times move by the difference (the hub already
 * repairs timestamps, so this is the last guard, counted in `repairs`).
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import {
  encodeFragment,
  type FragmentRun,
  type RunSample,
} from "./fragment.ts";
import { encodeInitSegment } from "./init.ts";
import { type Mp4Track, mp4Tracks, sizedFrom } from "./movie.ts";
import { sampleFlags, SampleFormat } from "./sample.ts";
import { SampleTimeline, type TimedSample } from "./_timeline.ts";

/** Options of {@link Mp4Fragmenter}. */
export interface Mp4FragmenterOptions {
  /** A longer step between two frames of a track is a timestamp jump, not a sample. @default {10000} */
  maxSampleDurationMs?: number;
  /** `mfhd` sequence number of the first fragment. @default {1} */
  firstSequence?: number;
  /**
   * The init segment holds a `mehd` with the duration of all fragments (0
   * until {@link Mp4Fragmenter.initSegment} is given one), for a file whose
   * start is rewritten when it is complete. @default {false}
   */
  reserveDuration?: boolean;
  /**
   * Each track's presentation starts this far into its media, seconds (an
   * edit list in the init segment: see `InitSegmentOptions`); for files,
   * never for HLS. @default {undefined} (no edit list)
   */
  presentationStartSeconds?: number;
}

/** One track's part of a fragment. */
export interface Mp4FragmentTrack {
  /** The media model's track id. */
  trackId: number;
  /** Decode time of the first sample, in the track's clock. */
  baseDecodeTime: number;
  /** Sum of the sample durations, in the track's clock. */
  duration: number;
  samples: number;
}

/** A written fragment. */
export interface Mp4Fragment {
  /** `moof` + `mdat`. */
  bytes: Uint8Array<ArrayBuffer>;
  sequence: number;
  /** It starts with a video keyframe (or has no video): a segment may start here. */
  independent: boolean;
  /** Tracks with samples in it, in track order. */
  tracks: Mp4FragmentTrack[];
  /** Duration of its longest track run, in seconds. */
  durationSeconds: number;
}

interface TrackState {
  mp4: Mp4Track;
  format: SampleFormat;
  timeline: SampleTimeline;
  ready: TimedSample[];
}

/** Writes an init segment and `moof`+`mdat` fragments for a fixed set of tracks. */
export class Mp4Fragmenter {
  readonly #states = new Map<number, TrackState>();
  #sequence: number;
  #init: Uint8Array<ArrayBuffer> | undefined;
  readonly #reserveDuration: boolean;
  readonly #startSeconds: number | undefined;
  #dropped = 0;

  /** Throws a `ProtocolError` (`protocol: "mp4"`) for a track it cannot describe. */
  constructor(tracks: readonly Track[], options: Mp4FragmenterOptions = {}) {
    this.#sequence = options.firstSequence ?? 1;
    this.#reserveDuration = options.reserveDuration ?? false;
    this.#startSeconds = options.presentationStartSeconds;
    const maxMs = options.maxSampleDurationMs ?? 10000;
    for (const mp4 of mp4Tracks(tracks)) {
      this.#states.set(mp4.track.id, {
        mp4,
        format: new SampleFormat(mp4.track),
        timeline: new SampleTimeline(
          mp4.track,
          Math.round((maxMs * mp4.timescale) / 1000),
        ),
        ready: [],
      });
    }
  }

  /** The tracks as written, track_ID 1, 2, … in the order given. */
  get tracks(): Mp4Track[] {
    return [...this.#states.values()].map((s) => s.mp4);
  }

  /**
   * `ftyp` + `moov`: the init segment every fragment needs first. A VP9
   * track without a size takes it from a keyframe pushed before this is read.
   */
  get init(): Uint8Array<ArrayBuffer> {
    return this.#init ??= this.initSegment(0);
  }

  /**
   * The init segment with `durationMs` in its `mehd` when the fragmenter
   * reserves one (the same size as {@link init}: it overwrites it in place).
   */
  initSegment(durationMs: number): Uint8Array<ArrayBuffer> {
    return encodeInitSegment(this.tracks, {
      ...(this.#reserveDuration ? { fragmentDurationMs: durationMs } : {}),
      ...(this.#startSeconds !== undefined
        ? { presentationStartSeconds: this.#startSeconds }
        : {}),
    });
  }

  /** Frames of tracks not given to the constructor, ignored. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Sample durations repaired after a timestamp step back or jump. */
  get repairs(): number {
    let n = 0;
    for (const s of this.#states.values()) n += s.timeline.repairs;
    return n;
  }

  /** Seconds of samples ready for the next fragment on `trackId`'s track. */
  readySeconds(trackId: number): number {
    const s = this.#states.get(trackId);
    if (s === undefined) return 0;
    let d = 0;
    for (const t of s.ready) d += t.duration;
    return d / s.mp4.timescale;
  }

  /** Takes a frame; the one before it on its track becomes ready. */
  push(frame: Frame): void {
    const s = this.#states.get(frame.trackId);
    if (s === undefined) {
      this.#dropped++;
      return;
    }
    if (this.#init === undefined) s.mp4 = sizedFrom(s.mp4, frame);
    const timed = s.timeline.push(frame);
    if (timed !== undefined) s.ready.push(timed);
  }

  /** A fragment of every ready sample (each track's newest frame waits); undefined when none is ready. */
  flush(): Mp4Fragment | undefined {
    return this.#write();
  }

  /**
   * A fragment of everything, held frames included: each ends at
   * `endDts.get(trackId)` when given (a dts in that track's clock, such as
   * the next segment's first frame), else lasts as long as the sample before.
   */
  end(endDts?: ReadonlyMap<number, number>): Mp4Fragment | undefined {
    for (const [id, s] of this.#states) {
      const timed = s.timeline.finish(endDts?.get(id));
      if (timed !== undefined) s.ready.push(timed);
    }
    return this.#write();
  }

  #write(): Mp4Fragment | undefined {
    const runs: FragmentRun[] = [];
    const tracks: Mp4FragmentTrack[] = [];
    let independent = true;
    let seconds = 0;
    for (const s of this.#states.values()) {
      if (s.ready.length === 0) continue;
      const samples: RunSample[] = [];
      let duration = 0;
      for (const t of s.ready) {
        samples.push({
          duration: t.duration,
          flags: sampleFlags(t.frame),
          compositionOffset: t.compositionOffset,
          parts: s.format.parts(t.frame),
        });
        duration += t.duration;
      }
      const base = s.ready[0]!.decodeTime;
      if (s.mp4.track.kind === "video" && !s.ready[0]!.frame.keyframe) {
        independent = false;
      }
      runs.push({ trackId: s.mp4.id, baseDecodeTime: base, samples });
      tracks.push({
        trackId: s.mp4.track.id,
        baseDecodeTime: base,
        duration,
        samples: samples.length,
      });
      seconds = Math.max(seconds, duration / s.mp4.timescale);
      s.ready = [];
    }
    if (runs.length === 0) return undefined;
    const sequence = this.#sequence++;
    return {
      bytes: encodeFragment(sequence, runs),
      sequence,
      independent,
      tracks,
      durationSeconds: seconds,
    };
  }
}

/** Options of {@link Mp4FragmenterStream}. */
export interface Mp4FragmenterStreamOptions extends Mp4FragmenterOptions {
  /** Seconds of samples on the first track that make a fragment. @default {1} */
  fragmentSeconds?: number;
}

/**
 * The stage face: frames in; the init segment, then one `moof`+`mdat`
 * whenever the first track has `fragmentSeconds` ready (on a video track, at
 * the next keyframe after that), and the rest at the end.
 */
export class Mp4FragmenterCore implements StageCore<Frame, Uint8Array> {
  readonly #fragmenter: Mp4Fragmenter;
  readonly #seconds: number;
  readonly #lead: Track | undefined;
  #started = false;

  constructor(
    tracks: readonly Track[],
    options: Mp4FragmenterStreamOptions = {},
  ) {
    this.#fragmenter = new Mp4Fragmenter(tracks, options);
    this.#seconds = options.fragmentSeconds ?? 1;
    this.#lead = tracks[0];
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const lead = this.#lead;
    // A keyframe of the lead video track closes what came before it.
    const cut = lead !== undefined && frame.trackId === lead.id &&
      (lead.kind === "audio" || frame.keyframe);
    this.#fragmenter.push(frame);
    if (!this.#started) {
      this.#started = true;
      out.enqueue(this.#fragmenter.init); // after the first frame: it may give the size
    }
    if (
      cut && lead !== undefined &&
      this.#fragmenter.readySeconds(lead.id) >= this.#seconds
    ) {
      const f = this.#fragmenter.flush();
      if (f !== undefined) out.enqueue(f.bytes);
    }
  }

  end(out: Sink<Uint8Array>): void {
    if (!this.#started) out.enqueue(this.#fragmenter.init);
    this.#started = true;
    const f = this.#fragmenter.end();
    if (f !== undefined) out.enqueue(f.bytes);
  }
}

/** {@link Mp4FragmenterCore} as a `TransformStream`. */
export class Mp4FragmenterStream extends StageStream<Frame, Uint8Array> {
  constructor(tracks: readonly Track[], options?: Mp4FragmenterStreamOptions) {
    super(new Mp4FragmenterCore(tracks, options));
  }
}
