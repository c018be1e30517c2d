/**
 * The HLS face of a stream: its frames go to an {@link HlsSegmenter} that
 * outlives the stream, so a publisher that comes back (to this stream or
 * to a later one of the same path) continues the same playlist.
 *
 * @module
 */

import type { Metadata, StreamOutput } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { HlsSegmenter } from "../hls/segmenter.ts";

/** Options of {@link HlsOutput}. */
export interface HlsOutputOptions {
  /** Wall-clock milliseconds (injected so tests own the clock). */
  now?: () => number;
  /** The stream ended. */
  onEnd?: () => void;
  /** Writing failed (a bug, or input no muxer can take): the output stops, the stream goes on. */
  onError?: (error: unknown) => void;
}

/** Feeds a stream's tracks and frames to a segmenter while attached. */
export class HlsOutput implements StreamOutput<never> {
  readonly #segmenter: HlsSegmenter;
  readonly #now: () => number;
  readonly #onEnd: (() => void) | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;
  #attached = true;

  constructor(segmenter: HlsSegmenter, options: HlsOutputOptions = {}) {
    this.#segmenter = segmenter;
    this.#now = options.now ?? Date.now;
    this.#onEnd = options.onEnd;
    this.#onError = options.onError;
  }

  /** One reader while attached: the stream keeps this output. */
  get readers(): number {
    return this.#attached ? 1 : 0;
  }

  /** Whether frames still come in. */
  get attached(): boolean {
    return this.#attached;
  }

  /** Stops taking frames; the stream drops this output at its next prune. */
  detach(): void {
    this.#attached = false;
  }

  tracks(tracks: readonly Track[]): void {
    if (this.#attached) this.#guard(() => this.#segmenter.setTracks(tracks));
  }

  metadata(_metadata: Metadata | undefined): void {}

  frame(frame: Frame): readonly never[] {
    if (this.#attached) {
      this.#guard(() => this.#segmenter.frame(frame, this.#now()));
    }
    return [];
  }

  /** A new publisher took over the stream. */
  publisher(): void {
    if (this.#attached) this.#guard(() => this.#segmenter.discontinuity());
  }

  /** The publisher never sees an error of HLS. */
  #guard(write: () => void): void {
    try {
      write();
    } catch (e) {
      this.#attached = false;
      this.#onError?.(e);
    }
  }

  end(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#onEnd?.();
  }
}
