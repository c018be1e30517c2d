/**
 * One track's samples on the MP4 timeline: a sample's duration is the next
 * frame's dts minus its own, so each frame waits for the next one; the last
 * gets an end time or a typical duration. Decode times are the running sum
 * of durations, so the file's timeline has no holes and no overlaps.
 *
 * A step back or a jump beyond `maxDuration` (a camera stamping one frame
 * hours off) is not time passing: that sample gets the previous sample's
 * duration (or the codec's typical one) and the rest of the track moves by
 * the difference.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";

/** A frame with its place on the track's MP4 timeline. */
export interface TimedSample {
  frame: Frame;
  /** Decode time in the track's timescale. */
  decodeTime: number;
  duration: number;
  /** pts − dts, signed. */
  compositionOffset: number;
}

/** The duration of one frame when nothing better is known. */
export function typicalDuration(track: Track, frame?: Frame): number {
  switch (track.codec) {
    case "AAC":
      return 1024;
    case "MP3":
      return track.sampleRate >= 32000 ? 1152 : 576;
    case "OPUS":
      return Math.round(track.clockRate / 50); // 20 ms, libopus' default
    case "PCMA":
    case "PCMU": {
      let bytes = 0;
      for (const u of frame?.units ?? []) bytes += u.length;
      const perChannel = Math.floor(bytes / Math.max(1, track.channels));
      return perChannel > 0 ? perChannel : Math.round(track.clockRate / 50);
    }
    default:
      return Math.round(track.clockRate / 30);
  }
}

/** Holds one frame back per track and times the samples before it. */
export class SampleTimeline {
  readonly #track: Track;
  readonly #maxDuration: number;
  #held: Frame | undefined;
  #next: number | undefined;
  #lastDuration: number | undefined;
  /** Durations repaired (a step back or a jump). */
  repairs = 0;

  /** `maxDuration` in the track's timescale. */
  constructor(track: Track, maxDuration: number) {
    this.#track = track;
    this.#maxDuration = maxDuration;
  }

  /** Whether a frame waits for its duration. */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** The decode time the next sample gets, once a frame came. */
  get nextDecodeTime(): number | undefined {
    return this.#next;
  }

  /** Takes `frame`; returns the held frame, now timed. */
  push(frame: Frame): TimedSample | undefined {
    const held = this.#held;
    this.#held = frame;
    if (held === undefined) {
      this.#next ??= Math.max(0, frame.dts);
      return undefined;
    }
    return this.#timed(held, frame.dts - held.dts);
  }

  /**
   * The held frame, timed to end at `endDts` (a dts of this track's
   * clock) when given, else with the previous sample's duration.
   */
  finish(endDts?: number): TimedSample | undefined {
    const held = this.#held;
    if (held === undefined) return undefined;
    this.#held = undefined;
    const d = endDts === undefined
      ? this.#lastDuration ?? typicalDuration(this.#track, held)
      : endDts - held.dts;
    return this.#timed(held, d);
  }

  #timed(frame: Frame, delta: number): TimedSample {
    let duration = delta;
    if (delta < 0 || delta > this.#maxDuration) {
      this.repairs++;
      duration = this.#lastDuration ?? typicalDuration(this.#track, frame);
    }
    this.#lastDuration = duration;
    const decodeTime = this.#next ?? Math.max(0, frame.dts);
    this.#next = decodeTime + duration;
    return {
      frame,
      decodeTime,
      duration,
      compositionOffset: Math.max(
        -0x80000000,
        Math.min(0x7fffffff, frame.pts - frame.dts),
      ),
    };
  }
}
