/**
 * One reader's playback of a file: its own cursor, position, scale and
 * pause, frames read a bounded amount ahead and handed out in real time
 * when the shared {@link VodWheel} says they are due.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { VodCursor, VodDirection, VodFrame, VodSource } from "./source.ts";
import type { VodWheel, WheelTask } from "./wheel.ts";

/** Where a player's frames go. */
export interface VodSink {
  /** A frame, due now, with the player's output timestamps. */
  frame(frame: Frame): void;
  /** The end of the file (or of the part `play` asked for). */
  end(): void;
}

/** How a player stamps its frames. */
export type VodTimeline =
  /** The file's own times (plus its B-frame lead): RTMP and HTTP-FLV, where a seek restarts the timeline. */
  | "file"
  /** One timeline that keeps running across seeks, pauses and scales: RTSP, whose RTP times continue. */
  | "continuous";

/** Options of {@link VodPlayer}. */
export interface VodPlayerOptions {
  /** @default {"file"} */
  timeline?: VodTimeline;
  /** Media read ahead of its time, ms. @default {1000} */
  readAheadMs?: number;
  /** Frames read ahead at most. @default {256} */
  maxFrames?: number;
  /** Called when reading the file fails (it then ends). */
  onError?: (error: unknown) => void;
}

/** Seconds of output timeline between the last frame before a seek and the first after it. */
const SEEK_GAP_SECONDS = 0.04;

/** A reader's playback. */
export class VodPlayer implements WheelTask {
  readonly #source: VodSource;
  readonly #sink: VodSink;
  readonly #wheel: VodWheel;
  readonly #timeline: VodTimeline;
  readonly #aheadMs: number;
  readonly #maxFrames: number;
  readonly #onError: ((e: unknown) => void) | undefined;
  readonly #rates = new Map<number, number>();
  #cursor: VodCursor | undefined;
  #buffer: VodFrame[] = [];
  #eof = false;
  #reading = false;
  #generation = 0;
  #scale = 1;
  #playing = false;
  #closed = false;
  #ended = false;
  /** Wall ms and file seconds of the instant playback (re)started. */
  #anchor = { wallMs: 0, fileSeconds: 0 };
  /** Output timeline seconds at the anchor (continuous timeline). */
  #base = 0;
  /** Latest output seconds handed out. */
  #lastOut = 0;
  /** File position, seconds: of the last frame handed out, or where play starts. */
  #position = 0;
  /** End of the part to play, file seconds. */
  #stopAt = Infinity;

  constructor(
    source: VodSource,
    sink: VodSink,
    wheel: VodWheel,
    options: VodPlayerOptions = {},
  ) {
    this.#source = source;
    this.#sink = sink;
    this.#wheel = wheel;
    this.#timeline = options.timeline ?? "file";
    this.#aheadMs = options.readAheadMs ?? 1000;
    this.#maxFrames = options.maxFrames ?? 256;
    this.#onError = options.onError;
    for (const t of source.tracks) this.#rates.set(t.id, t.clockRate);
    this.#base = source.leadSeconds;
  }

  /** The file's tracks. */
  get tracks(): readonly Track[] {
    return this.#source.tracks;
  }

  /** Where the reader is in the file, seconds. */
  get positionSeconds(): number {
    return this.#position;
  }

  /** Whether frames flow now. */
  get playing(): boolean {
    return this.#playing;
  }

  /** Frames read ahead now (bounded by the options). */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Starts (or restarts) at `seconds` (the current position when
   * `undefined`), at `scale` (1 normal; above 1 or below 0 keyframes only),
   * until `stopSeconds`; with `hold`, frames wait for {@link begin}. Resolves with where it really starts: the
   * keyframe at or before the position, and the output time that instant
   * gets.
   */
  async play(
    seconds: number | undefined,
    options: { scale?: number; stopSeconds?: number; hold?: boolean } = {},
  ): Promise<{ startSeconds: number; outputSeconds: number }> {
    const scale = options.scale ?? 1;
    if (!Number.isFinite(scale) || scale === 0) {
      throw new RangeError(`scale ${scale} is not a playing speed`);
    }
    const gen = ++this.#generation;
    this.#wheel.cancel(this);
    this.#playing = false;
    const direction: VodDirection = scale < 0
      ? "reverse"
      : scale > 1
      ? "keyframes"
      : "all";
    const cursor = await this.#source.cursor(
      seconds ?? this.#position,
      direction,
    );
    if (gen !== this.#generation || this.#closed) {
      return { startSeconds: cursor.startSeconds, outputSeconds: this.#base };
    }
    this.#cursor = cursor;
    this.#buffer = [];
    this.#eof = false;
    this.#ended = false;
    this.#reading = false;
    this.#scale = scale;
    this.#stopAt = options.stopSeconds ?? Infinity;
    this.#position = cursor.startSeconds;
    if (this.#timeline === "continuous" && this.#lastOut > 0) {
      this.#base = this.#lastOut + SEEK_GAP_SECONDS;
    } else if (this.#timeline === "file") {
      this.#base = cursor.startSeconds + this.#source.leadSeconds;
    }
    this.#anchor = {
      wallMs: this.#wheel.now(),
      fileSeconds: cursor.startSeconds,
    };
    this.#playing = true;
    await this.#fill(gen);
    if (gen === this.#generation && this.#playing && options.hold !== true) {
      this.begin();
    }
    return { startSeconds: cursor.startSeconds, outputSeconds: this.#base };
  }

  /** Starts the flow of a `play` that held it (after the protocol's answer went out). */
  begin(): void {
    if (!this.#playing || this.#closed) return;
    this.#anchor.wallMs = this.#wheel.now();
    this.wake(this.#anchor.wallMs);
  }

  /** Stops the flow; the position stays for a later `play(undefined)`. */
  pause(): void {
    this.#generation++;
    this.#playing = false;
    this.#wheel.cancel(this);
    // what was read ahead and not sent is read again from the position
    this.#buffer = [];
  }

  /** Stops for good. */
  close(): void {
    this.pause();
    this.#closed = true;
    this.#cursor = undefined;
  }

  /** File seconds of a frame's decode time (its presentation time when skipping keyframes). */
  #fileSeconds(f: VodFrame): number {
    const rate = this.#rates.get(f.frame.trackId) ?? 90000;
    return this.#scale === 1 || (this.#scale > 0 && this.#scale < 1)
      ? f.frame.dts / rate
      : f.seconds;
  }

  /** Wall ms at which `f` is due. */
  #dueMs(f: VodFrame): number {
    const d = (this.#fileSeconds(f) - this.#anchor.fileSeconds) / this.#scale;
    return this.#anchor.wallMs + Math.max(0, d) * 1000;
  }

  /** The wheel says frames may be due. */
  wake(nowMs: number): void {
    if (!this.#playing || this.#closed) return;
    while (this.#buffer.length > 0) {
      const f = this.#buffer[0]!;
      if (this.#dueMs(f) > nowMs) break;
      this.#buffer.shift();
      this.#send(f);
      if (!this.#playing) return; // the sink paused or closed us
    }
    if (this.#buffer.length === 0 && this.#eof) {
      this.#finish();
      return;
    }
    this.#refill();
    const next = this.#buffer[0];
    if (next !== undefined) this.#wheel.schedule(this, this.#dueMs(next));
    // with nothing buffered, the read in flight wakes us when it lands
  }

  #send(f: VodFrame): void {
    this.#position = f.seconds;
    const rate = this.#rates.get(f.frame.trackId) ?? 90000;
    const map = (ticks: number) => {
      const s = this.#base +
        (ticks / rate - this.#anchor.fileSeconds) / Math.abs(this.#scale);
      return this.#scale < 0
        ? this.#base + (this.#anchor.fileSeconds - ticks / rate) / -this.#scale
        : s;
    };
    const dtsOut = map(f.frame.dts);
    const ptsOut = map(f.frame.pts);
    if (dtsOut > this.#lastOut) this.#lastOut = dtsOut;
    this.#sink.frame({
      ...f.frame,
      dts: Math.max(0, Math.round(dtsOut * rate)),
      pts: Math.max(0, Math.round(ptsOut * rate)),
    });
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#playing = false;
    this.#sink.end();
  }

  #refill(): void {
    if (this.#reading || this.#eof || !this.#playing) return;
    if (!this.#wantMore()) return;
    const gen = this.#generation;
    void this.#fill(gen).then(() => {
      if (gen === this.#generation && this.#playing) {
        this.wake(this.#wheel.now());
      }
    });
  }

  #wantMore(): boolean {
    if (this.#buffer.length >= this.#maxFrames) return false;
    const last = this.#buffer.at(-1);
    return last === undefined ||
      this.#dueMs(last) < this.#wheel.now() + this.#aheadMs;
  }

  async #fill(gen: number): Promise<void> {
    const cursor = this.#cursor;
    if (this.#reading || cursor === undefined) return;
    this.#reading = true;
    try {
      while (gen === this.#generation && !this.#eof && this.#wantMore()) {
        const f = await cursor.next();
        if (gen !== this.#generation) return;
        const past = f !== undefined &&
          (this.#scale < 0
            ? f.seconds < this.#stopAt && this.#stopAt !== Infinity
            : f.seconds > this.#stopAt);
        if (f === undefined || past) {
          this.#eof = true;
          break;
        }
        this.#buffer.push(f);
      }
    } catch (e) {
      if (gen === this.#generation) {
        this.#eof = true;
        this.#onError?.(e);
      }
    } finally {
      if (gen === this.#generation) this.#reading = false;
    }
  }
}
