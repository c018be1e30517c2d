/**
 * A publisher's handle on its hub stream: frames go through it while it
 * owns the path, and nothing does once it was closed or taken over.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { Metadata, Stream } from "./stream.ts";

/** A publisher's handle on its stream. */
export interface Publisher {
  readonly path: string;
  readonly stream: Stream;
  /** Whether this publisher still owns the path. */
  readonly active: boolean;
  setTrack(track: Track): void;
  setTracks(tracks: readonly Track[]): void;
  setMetadata(metadata: Metadata | undefined): void;
  writeFrame(frame: Frame): void;
  /** The publisher is gone: readers wait for the grace period, then the stream ends. */
  close(): void;
}

/** The hub's {@link Publisher}: it knows when it last wrote and how to let go. */
export class PublisherHandle implements Publisher {
  readonly path: string;
  readonly stream: Stream;
  readonly onTakenOver: (() => void) | undefined;
  #active = true;
  readonly #release: (p: PublisherHandle) => void;
  readonly #now: () => number;
  /** When this publisher last wrote a frame, or started: what tells a half-open one. */
  #lastFrameMs: number;

  constructor(
    stream: Stream,
    onTakenOver: (() => void) | undefined,
    release: (p: PublisherHandle) => void,
    now: () => number,
  ) {
    this.path = stream.path;
    this.stream = stream;
    this.onTakenOver = onTakenOver;
    this.#release = release;
    this.#now = now;
    this.#lastFrameMs = now();
  }
  /** Milliseconds since this publisher last wrote a frame (or started). */
  idleMs(): number {
    return this.#now() - this.#lastFrameMs;
  }
  get active(): boolean {
    return this.#active;
  }
  /** Called once when this publisher stops, taken over or closed. */
  onStop: (() => void) | undefined;
  deactivate(): void {
    this.#active = false;
    this.onStop?.();
    this.onStop = undefined;
  }
  setTrack(track: Track): void {
    if (this.#active) this.stream.setTrack(track);
  }
  setTracks(tracks: readonly Track[]): void {
    if (this.#active) this.stream.setTracks(tracks);
  }
  setMetadata(metadata: Metadata | undefined): void {
    if (this.#active) this.stream.setMetadata(metadata);
  }
  writeFrame(frame: Frame): void {
    if (!this.#active) return;
    this.#lastFrameMs = this.#now();
    this.stream.writeFrame(frame);
  }
  close(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#release(this);
    this.onStop?.();
    this.onStop = undefined;
  }
}
