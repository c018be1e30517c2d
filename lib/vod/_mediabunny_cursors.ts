/**
 * The cursors of a mediabunny source (`mediabunny_source.ts`): every
 * track's frames merged by decode time, or the video keyframes alone,
 * forward or backward (private to `vod/`).
 *
 * @module
 */

import type { EncodedPacket, EncodedPacketSink, InputTrack } from "mediabunny";
import type { SampleReader } from "./_codec.ts";
import type { VodCursor, VodDirection, VodFrame } from "./source.ts";

/** Samples a cursor looks ahead per track to derive decode times. */
export const LOOKAHEAD = 8;

/** One track of an open file. */
export interface OpenTrack {
  input: InputTrack;
  sink: EncodedPacketSink;
  reader: SampleReader;
  /** Decode time behind presentation time, seconds (B-frames). */
  delay: number;
}

/** One track's samples in decode order, with decode times. */
export class TrackWalk {
  readonly #t: OpenTrack;
  readonly #base: number;
  readonly #ahead: EncodedPacket[] = [];
  /** Presentation times of the samples read but not yet given a decode time, ascending. */
  readonly #pool: number[] = [];
  #last: EncodedPacket | null;
  #primed = false;
  #lastDts = -Infinity;

  constructor(t: OpenTrack, first: EncodedPacket, base: number) {
    this.#t = t;
    this.#base = base;
    this.#last = null;
    this.#push(first);
  }

  #push(p: EncodedPacket): void {
    this.#ahead.push(p);
    this.#last = p;
    const i = this.#pool.findIndex((x) => x > p.timestamp);
    this.#pool.splice(i === -1 ? this.#pool.length : i, 0, p.timestamp);
  }

  async #fill(): Promise<void> {
    while (this.#ahead.length < LOOKAHEAD && this.#last !== null) {
      const next = await this.#t.sink.getNextPacket(this.#last);
      if (next === null) {
        this.#last = null;
        break;
      }
      this.#push(next);
    }
    this.#primed = true;
  }

  /** Decode time of the next sample, seconds in the file, or `undefined` at the end. */
  async peek(): Promise<number | undefined> {
    if (!this.#primed || this.#ahead.length < LOOKAHEAD) await this.#fill();
    if (this.#ahead.length === 0) return undefined;
    return Math.max(this.#lastDts, this.#pool[0]! - this.#t.delay) - this.#base;
  }

  /** The next sample as a frame (after {@link peek}), or `undefined` for one with nothing to send. */
  take(): VodFrame | undefined {
    const p = this.#ahead.shift()!;
    const dtsSeconds = Math.min(
      Math.max(this.#lastDts, this.#pool.shift()! - this.#t.delay),
      p.timestamp,
    );
    this.#lastDts = dtsSeconds;
    this.#primed = false;
    const units = this.#t.reader.units(p.data);
    if (units === undefined) return undefined;
    const track = this.#t.reader.track;
    const rate = track.clockRate;
    const seconds = Math.max(0, p.timestamp - this.#base);
    return {
      seconds,
      frame: {
        trackId: track.id,
        dts: Math.round((dtsSeconds - this.#base) * rate),
        pts: Math.round(seconds * rate),
        keyframe: track.kind === "audio" || p.type === "key",
        units,
      },
    };
  }
}

/** Every track's frames merged by decode time. */
export class MergeCursor implements VodCursor {
  readonly #walks: TrackWalk[];
  readonly startSeconds: number;

  constructor(walks: TrackWalk[], startSeconds: number) {
    this.#walks = walks;
    this.startSeconds = startSeconds;
  }

  async next(): Promise<VodFrame | undefined> {
    for (;;) {
      let best: TrackWalk | undefined;
      let bestDts = Infinity;
      for (const w of this.#walks) {
        const dts = await w.peek();
        if (dts !== undefined && dts < bestDts) {
          best = w;
          bestDts = dts;
        }
      }
      if (best === undefined) return undefined;
      const f = best.take();
      if (f !== undefined) return f;
    }
  }
}

/** How far back {@link keyAtOrBefore} looks at most, seconds. */
const KEY_LOOKBACK_SECONDS = 60;

/**
 * The last key packet of `t` presented at or before `seconds`, or null
 * where there is none. mediabunny finds a fragmented file's fragment by
 * decode time: asked for a time within the reordering delay before a
 * keyframe that starts a fragment (its decode time is before the time
 * asked, its presentation time after), it looks in that fragment, finds no
 * key packet early enough and answers null, though the previous keyframe
 * is there. So the search goes on from the reordering delay earlier, then
 * from further and further back.
 */
export async function keyAtOrBefore(
  t: OpenTrack,
  seconds: number,
): Promise<EncodedPacket | null> {
  let key = await t.sink.getKeyPacket(seconds);
  for (
    let back = Math.max(t.delay, 0.1);
    key === null && back <= KEY_LOOKBACK_SECONDS && seconds - back >= 0;
    back *= 2
  ) {
    key = await t.sink.getKeyPacket(seconds - back);
  }
  return key;
}

/** Video keyframes only, forward or backward. */
export class KeyCursor implements VodCursor {
  readonly #t: OpenTrack;
  readonly #base: number;
  readonly #reverse: boolean;
  #next: EncodedPacket | null;
  readonly startSeconds: number;

  constructor(
    t: OpenTrack,
    first: EncodedPacket,
    base: number,
    startSeconds: number,
    direction: VodDirection,
  ) {
    this.#t = t;
    this.#next = first;
    this.#base = base;
    this.startSeconds = startSeconds;
    this.#reverse = direction === "reverse";
  }

  async next(): Promise<VodFrame | undefined> {
    while (this.#next !== null) {
      const p = this.#next;
      this.#next = this.#reverse
        ? (p.timestamp - this.#base <= 0
          ? null
          : await keyAtOrBefore(this.#t, p.timestamp - 1e-3))
        : await this.#t.sink.getNextKeyPacket(p);
      if (this.#next !== null && this.#next.timestamp === p.timestamp) {
        this.#next = null; // a demuxer that cannot move on ends here
      }
      const units = this.#t.reader.units(p.data);
      if (units === undefined) continue;
      const track = this.#t.reader.track;
      const seconds = Math.max(0, p.timestamp - this.#base);
      const ticks = Math.round(seconds * track.clockRate);
      return {
        seconds,
        frame: {
          trackId: track.id,
          dts: ticks,
          pts: ticks,
          keyframe: true,
          units,
        },
      };
    }
    return undefined;
  }
}
