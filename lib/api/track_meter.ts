/**
 * Measures one track from its frames as they arrive: received frame rate,
 * bitrate, keyframe interval, timestamp jitter and gaps, and how deep
 * B-frames reorder. Pure: arrival times come in as arguments.
 *
 * @module
 */

import { type Frame, frameSize } from "../media/frame.ts";

/** What a {@link TrackMeter} saw over its window. */
export interface TrackMeasures {
  /** Frames in the window. */
  frames: number;
  /** Seconds the window spans (first to last arrival). */
  windowSeconds: number;
  /** Frames per second as they arrived. */
  fpsReceived: number;
  /** Frames per second the timestamps say. */
  fpsTimestamps: number;
  /** Bits per second over the window. */
  bitrate: number;
  /** Keyframe interval, video only: frames and seconds between keyframes. */
  gop?: {
    keyframes: number;
    meanFrames: number;
    minFrames: number;
    maxFrames: number;
    meanSeconds: number;
    /** Standard deviation of the interval in seconds: 0 for a fixed GOP. */
    spreadSeconds: number;
  };
  /** Interarrival jitter in ms (RFC 3550 §6.4.1 estimator, timestamps against arrival). */
  jitterMs: number;
  /** Timestamp steps over three times the usual step. */
  gaps: number;
  /** Largest timestamp step, in ms. */
  maxStepMs: number;
  /** Steps where the decode time did not advance. */
  nonIncreasing: number;
  /** Most frames that came before in decode order and show after (B-frame reorder depth). */
  reorderDepth: number;
}

/** Options of {@link TrackMeter}. */
export interface TrackMeterOptions {
  /** Milliseconds of history kept. @default {10000} */
  windowMs?: number;
  /** Most frames kept, whatever the window. @default {4096} */
  maxFrames?: number;
}

interface Sample {
  arrivalMs: number;
  dts: number;
  pts: number;
  keyframe: boolean;
  bytes: number;
}

/** How many earlier presentation times a frame is compared with. */
const REORDER_SPAN = 16;

/** Measures one track; see {@link TrackMeasures}. */
export class TrackMeter {
  readonly clockRate: number;
  readonly #windowMs: number;
  readonly #max: number;
  #samples: Sample[] = [];
  #jitterMs = 0;
  #last: Sample | undefined;

  constructor(clockRate: number, options: TrackMeterOptions = {}) {
    this.clockRate = clockRate;
    this.#windowMs = options.windowMs ?? 10000;
    this.#max = options.maxFrames ?? 4096;
  }

  /** The latest frame: its decode time in seconds and when it arrived. */
  get latest(): { seconds: number; arrivalMs: number } | undefined {
    const s = this.#last;
    return s && { seconds: s.dts / this.clockRate, arrivalMs: s.arrivalMs };
  }

  /** Records a frame that arrived at `arrivalMs`. */
  push(frame: Frame, arrivalMs: number): void {
    const s: Sample = {
      arrivalMs,
      dts: frame.dts,
      pts: frame.pts,
      keyframe: frame.keyframe,
      bytes: frameSize(frame),
    };
    const prev = this.#last;
    if (prev !== undefined) {
      const d = (s.arrivalMs - prev.arrivalMs) -
        (s.dts - prev.dts) * 1000 / this.clockRate;
      this.#jitterMs += (Math.abs(d) - this.#jitterMs) / 16;
    }
    this.#last = s;
    this.#samples.push(s);
    const oldest = arrivalMs - this.#windowMs;
    let cut = 0;
    while (
      cut < this.#samples.length &&
      (this.#samples.length - cut > this.#max ||
        this.#samples[cut]!.arrivalMs < oldest)
    ) cut++;
    // cut in batches: one copy per many frames, not one per frame
    if (cut > 0 && (cut > 64 || this.#samples.length > this.#max)) {
      this.#samples = this.#samples.slice(cut);
    }
  }

  /** What the window holds now. */
  measures(nowMs: number, video: boolean): TrackMeasures {
    const all = this.#samples;
    const from = all.findIndex((s) => s.arrivalMs >= nowMs - this.#windowMs);
    const samples = from < 0 ? [] : all.slice(from);
    const n = samples.length;
    const first = samples[0];
    const last = samples[n - 1];
    const spanMs = first && last ? last.arrivalMs - first.arrivalMs : 0;
    const spanTicks = first && last ? last.dts - first.dts : 0;
    let bytes = 0;
    for (const s of samples) bytes += s.bytes;
    const steps: number[] = [];
    let nonIncreasing = 0;
    let reorderDepth = 0;
    for (let i = 1; i < n; i++) {
      const step = samples[i]!.dts - samples[i - 1]!.dts;
      if (step <= 0) nonIncreasing++;
      steps.push(step);
      let depth = 0;
      for (let j = Math.max(0, i - REORDER_SPAN); j < i; j++) {
        if (samples[j]!.pts > samples[i]!.pts) depth++;
      }
      if (depth > reorderDepth) reorderDepth = depth;
    }
    const sorted = [...steps].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1] ?? 0;
    const gaps = median > 0 ? steps.filter((s) => s > 3 * median).length : 0;
    const maxStep = sorted[sorted.length - 1] ?? 0;
    const out: TrackMeasures = {
      frames: n,
      windowSeconds: round(spanMs / 1000),
      fpsReceived: spanMs > 0 ? round((n - 1) * 1000 / spanMs) : 0,
      fpsTimestamps: spanTicks > 0
        ? round((n - 1) * this.clockRate / spanTicks)
        : 0,
      bitrate: spanMs > 0 ? Math.round(bytes * 8000 / spanMs) : 0,
      jitterMs: round(this.#jitterMs),
      gaps,
      maxStepMs: round(maxStep * 1000 / this.clockRate),
      nonIncreasing,
      reorderDepth,
    };
    if (video) out.gop = this.#gop(samples);
    return out;
  }

  #gop(samples: Sample[]): NonNullable<TrackMeasures["gop"]> {
    const frames: number[] = [];
    const seconds: number[] = [];
    let prev = -1;
    for (let i = 0; i < samples.length; i++) {
      if (!samples[i]!.keyframe) continue;
      if (prev >= 0) {
        frames.push(i - prev);
        seconds.push((samples[i]!.dts - samples[prev]!.dts) / this.clockRate);
      }
      prev = i;
    }
    const keyframes = samples.filter((s) => s.keyframe).length;
    if (frames.length === 0) {
      return {
        keyframes,
        meanFrames: 0,
        minFrames: 0,
        maxFrames: 0,
        meanSeconds: 0,
        spreadSeconds: 0,
      };
    }
    const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
    const variance = seconds.reduce((a, b) => a + (b - mean) ** 2, 0) /
      seconds.length;
    return {
      keyframes,
      meanFrames: round(frames.reduce((a, b) => a + b, 0) / frames.length),
      minFrames: Math.min(...frames),
      maxFrames: Math.max(...frames),
      meanSeconds: round(mean),
      spreadSeconds: round(Math.sqrt(variance)),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
