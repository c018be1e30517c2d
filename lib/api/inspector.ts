/**
 * The stream inspector: measures a path's tracks from the media itself
 * while somebody asks. The first request taps the stream; later requests
 * read what the tap measured; a tap nobody read for a while is removed,
 * so a stream nobody inspects costs nothing.
 *
 * @module
 */

import * as v from "valibot";
import type { Stream } from "../hub/stream.ts";
import type { Track } from "../media/track.ts";
import { codecConfig } from "./codec_config.ts";
import { TrackMeter } from "./track_meter.ts";
import { TrackSchema } from "./schemas.ts";

const num = v.number();

/** The inspector's answer for one path. */
export const InspectSchema = v.object({
  path: v.string(),
  sampling: v.object({
    since: v.pipe(v.string(), v.isoTimestamp()),
    windowSeconds: num,
  }),
  /** Milliseconds audio runs ahead of video (negative: behind), both as they arrive. */
  avOffsetMs: v.nullable(num),
  tracks: v.array(v.object({
    track: TrackSchema,
    frames: num,
    windowSeconds: num,
    fpsReceived: num,
    fpsTimestamps: num,
    bitrate: num,
    gop: v.optional(v.object({
      keyframes: num,
      meanFrames: num,
      minFrames: num,
      maxFrames: num,
      meanSeconds: num,
      spreadSeconds: num,
    })),
    jitterMs: num,
    gaps: num,
    maxStepMs: num,
    nonIncreasing: num,
    reorderDepth: num,
    codecConfig: v.record(v.string(), v.unknown()),
  })),
});

/** Output of {@link InspectSchema}. */
export type InspectView = v.InferOutput<typeof InspectSchema>;

/** Options of {@link Inspectors}. */
export interface InspectorsOptions {
  /** A tap nobody read this long (ms) is removed. @default {30000} */
  idleMs?: number;
  /** Milliseconds of media measured. @default {10000} */
  windowMs?: number;
  /** @default {Date.now} */
  now?: () => number;
  /** Turns a track into its API view (profile, fps …). */
  trackView: (track: Track) => v.InferOutput<typeof TrackSchema>;
}

class Inspection {
  readonly stream: Stream;
  readonly since: number;
  lastAskedMs: number;
  readonly #meters = new Map<number, TrackMeter>();
  readonly #untap: () => void;

  constructor(stream: Stream, now: () => number, windowMs: number) {
    this.stream = stream;
    this.since = now();
    this.lastAskedMs = this.since;
    this.#untap = stream.tap((frame, track) => {
      let m = this.#meters.get(track.id);
      if (m === undefined) {
        m = new TrackMeter(track.clockRate, { windowMs });
        this.#meters.set(track.id, m);
      }
      m.push(frame, now());
    });
  }

  meter(trackId: number): TrackMeter | undefined {
    return this.#meters.get(trackId);
  }

  close(): void {
    this.#untap();
  }
}

/** Every path being inspected. */
export class Inspectors {
  readonly #all = new Map<string, Inspection>();
  readonly #idleMs: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #trackView: InspectorsOptions["trackView"];

  constructor(options: InspectorsOptions) {
    this.#idleMs = options.idleMs ?? 30000;
    this.#windowMs = options.windowMs ?? 10000;
    this.#now = options.now ?? Date.now;
    this.#trackView = options.trackView;
  }

  /** Paths tapped now. */
  get size(): number {
    return this.#all.size;
  }

  /**
   * Starts inspecting `stream` unless it is already; returns whether the
   * tap is new (its measures are still empty).
   */
  watch(stream: Stream): boolean {
    const have = this.#all.get(stream.path);
    if (have !== undefined && have.stream === stream && !stream.ended) {
      have.lastAskedMs = this.#now();
      return false;
    }
    have?.close();
    this.#all.set(
      stream.path,
      new Inspection(stream, this.#now, this.#windowMs),
    );
    return true;
  }

  /** What was measured on `path` (call {@link watch} first). */
  view(path: string): InspectView | undefined {
    const ins = this.#all.get(path);
    if (ins === undefined) return undefined;
    const now = this.#now();
    ins.lastAskedMs = now;
    const tracks = ins.stream.tracks.map((track) => {
      const m = ins.meter(track.id) ?? new TrackMeter(track.clockRate);
      return {
        track: this.#trackView(track),
        ...m.measures(now, track.kind === "video"),
        codecConfig: codecConfig(track),
      };
    });
    const video = ins.stream.tracks.find((t) => t.kind === "video");
    const audio = ins.stream.tracks.find((t) => t.kind === "audio");
    const lv = video && ins.meter(video.id)?.latest;
    const la = audio && ins.meter(audio.id)?.latest;
    const avOffsetMs = lv && la
      ? Math.round(
        (la.seconds - lv.seconds) * 1000 - (la.arrivalMs - lv.arrivalMs),
      )
      : null;
    return {
      path,
      sampling: {
        since: new Date(ins.since).toISOString(),
        windowSeconds: this.#windowMs / 1000,
      },
      avOffsetMs,
      tracks,
    };
  }

  /** Measured numbers of every inspected path, for metrics. */
  *measured(): Iterable<InspectView> {
    for (const path of this.#all.keys()) {
      const ins = this.#all.get(path)!;
      const asked = ins.lastAskedMs;
      const view = this.view(path);
      ins.lastAskedMs = asked; // a scrape keeps no tap alive
      if (view !== undefined) yield view;
    }
  }

  /** Removes taps nobody read for `idleMs`, and those of ended streams. */
  sweep(): void {
    const now = this.#now();
    for (const [path, ins] of this.#all) {
      if (ins.stream.ended || now - ins.lastAskedMs > this.#idleMs) {
        ins.close();
        this.#all.delete(path);
      }
    }
  }

  /** Removes every tap. */
  close(): void {
    for (const ins of this.#all.values()) ins.close();
    this.#all.clear();
  }
}
