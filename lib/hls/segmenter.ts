/**
 * The live window of one path's HLS output: frames cut into parts (CMAF
 * chunks or MPEG-TS) and segments that start on keyframes, a sliding
 * window bounded in count and bytes, discontinuities where a publisher or
 * its codec parameters change, and the playlists that describe it. Pure:
 * the wall clock arrives with each frame.
 *
 * @module
 */

import { concat } from "@std/bytes";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import {
  chooseTracks,
  createPartWriter,
  type Cut,
  type HlsVariant,
  type PartWriter,
  trackSignature,
} from "./part_writer.ts";
import type { MediaPlaylist, PlaylistSegment } from "./playlist.ts";
import type { Segment } from "./_segment.ts";

/** Seconds below which two times are the same (float sums of frame times). */
const EPSILON = 1e-6;

/** Options of {@link HlsSegmenter}. */
export interface HlsSegmenterOptions {
  /** @default {"lowLatency"} */
  variant?: HlsVariant;
  /** Segments last at least this long (the GOP when longer). @default {1000} */
  segmentDurationMs?: number;
  /** Part target (Low-Latency HLS). @default {200} */
  partDurationMs?: number;
  /** Complete segments kept. @default {7} */
  segmentCount?: number;
  /** Bytes kept over all segments; older ones go first. @default {67108864} */
  maxBytes?: number;
  /** Names every file of this segmenter (unique per server run and path). */
  prefix: string;
  /** A track HLS cannot carry was left out. */
  onTrackLeftOut?: (track: Track) => void;
  /** The tracks cannot be written (yet): why. */
  onUnwritable?: (reason: string) => void;
  /** A part or segment was added. */
  onChange?: () => void;
}

/** Cuts a stream's frames into the parts and segments of one HLS output. */
export class HlsSegmenter {
  readonly variant: HlsVariant;
  readonly prefix: string;
  readonly #segmentSeconds: number;
  readonly #partSeconds: number;
  readonly #segmentCount: number;
  readonly #maxBytes: number;
  readonly #options: HlsSegmenterOptions;
  #writer: PartWriter | undefined;
  #tracks: Track[] = [];
  #signature = "";
  readonly #inits = new Map<number, Uint8Array>();
  #initGen = 0;
  readonly #segments: Segment[] = [];
  #current: Segment | undefined;
  #partStart = 0;
  /** Seconds between the reference track's last two frames. */
  #frameStep = 0;
  #lastT: number | undefined;
  #nextMsn = 0;
  #discontinuitySequence = 0;
  #discontinuityNext = false;
  #bytes = 0;
  /** Wall clock minus media time, ms: the smallest seen, so bursts of old frames do not count. */
  #wallOffsetMs: number | undefined;
  readonly #leftOut = new Set<string>();
  #playlists = new Map<string, string>();

  constructor(options: HlsSegmenterOptions) {
    this.#options = options;
    this.variant = options.variant ?? "lowLatency";
    this.prefix = options.prefix;
    this.#segmentSeconds = (options.segmentDurationMs ?? 1000) / 1000;
    this.#partSeconds = (options.partDurationMs ?? 200) / 1000;
    this.#segmentCount = Math.max(1, options.segmentCount ?? 7);
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** The tracks written (with the picture size a VP9 keyframe gave). */
  get tracks(): readonly Track[] {
    return this.#writer?.tracks ?? this.#tracks;
  }

  /** Bytes of media held. */
  get bytes(): number {
    return this.#bytes + (this.#current?.size ?? 0);
  }

  /** The tracks changed: new codec parameters start a new segment after a discontinuity. */
  setTracks(tracks: readonly Track[]): void {
    const { chosen, leftOut } = chooseTracks(this.variant, tracks);
    for (const t of leftOut) {
      const key = `${t.id}:${t.codec}`;
      if (this.#leftOut.has(key)) continue;
      this.#leftOut.add(key);
      this.#options.onTrackLeftOut?.(t);
    }
    const signature = trackSignature(chosen);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#closeSegment();
    this.#tracks = chosen;
    this.#writer = this.#create(chosen);
    // The init segment is taken when the first segment opens: a VP9 track
    // learns its picture size from its first keyframe (FLV and RTP carry none).
    this.#initGen++;
    if (this.#segments.length > 0) this.#discontinuityNext = true;
  }

  /** A new publisher took over: what follows is after a discontinuity. */
  discontinuity(): void {
    this.#closeSegment();
    if (this.#writer !== undefined) {
      this.#writer = this.#create(this.#tracks);
    }
    if (this.#segments.length > 0) this.#discontinuityNext = true;
  }

  /** A frame of the stream, at wall-clock time `nowMs`. */
  frame(frame: Frame, nowMs: number): void {
    const writer = this.#writer;
    if (writer === undefined || !writer.trackIds.includes(frame.trackId)) {
      return;
    }
    const track = this.#tracks.find((t) => t.id === frame.trackId)!;
    const reference = this.#tracks[0]!;
    const t = frame.dts / track.clockRate;
    const offset = nowMs - t * 1000;
    if (this.#wallOffsetMs === undefined || offset < this.#wallOffsetMs) {
      this.#wallOffsetMs = offset;
    }
    let cut: Cut = "none";
    if (track === reference) {
      const key = track.kind === "audio" || frame.keyframe;
      const cur = this.#current;
      if (cur === undefined) {
        if (!key) return; // a segment starts on a keyframe
        cut = "segment";
      } else if (key && t - cur.start >= this.#shortest() - EPSILON) {
        cut = "segment";
      } else if (
        t - this.#partStart + this.#frameStep > this.#partSeconds + EPSILON
      ) {
        // This frame would make the part longer than the part target.
        cut = "part";
      }
      if (this.#lastT !== undefined && t > this.#lastT) {
        this.#frameStep = t - this.#lastT;
      }
      this.#lastT = t;
    } else if (this.#current === undefined) {
      return;
    }
    const closed = writer.push(frame, cut);
    if (cut !== "none" && this.#current !== undefined) {
      this.#addPart(closed, t);
      if (cut === "segment") this.#finishSegment(t);
    }
    if (cut === "segment") this.#openSegment(t);
    if (cut !== "none") this.#partStart = t;
    if (this.#current !== undefined && this.#current.size > this.#maxBytes) {
      // No keyframe for too long: drop what grew, wait for the next one.
      this.#current = undefined;
      this.#discontinuityNext = this.#segments.length > 0;
      this.#writer = this.#create(this.#tracks);
    }
  }

  /**
   * How long the growing segment must be before a keyframe closes it: the
   * first one only a part, so that the plain media playlist (it needs a
   * complete segment) answers at the next keyframe whatever the GOP.
   */
  #shortest(): number {
    return this.#segments.length === 0
      ? this.#partSeconds
      : this.#segmentSeconds;
  }

  /**
   * A writer for `tracks`; none while a track cannot be described yet (H.264
   * before its SPS and PPS): the next tracks update tries again.
   */
  #create(tracks: readonly Track[]): PartWriter | undefined {
    if (tracks.length === 0) return undefined;
    try {
      return createPartWriter(this.variant, tracks);
    } catch (e) {
      this.#signature = "";
      this.#options.onUnwritable?.(e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  #openSegment(t: number): void {
    const init = this.#writer?.init;
    if (init !== undefined && !this.#inits.has(this.#initGen)) {
      this.#inits.set(this.#initGen, init);
    }
    this.#current = {
      msn: this.#nextMsn++,
      start: t,
      duration: 0,
      pdtMs: Math.round(t * 1000 + (this.#wallOffsetMs ?? 0)),
      discontinuity: this.#discontinuityNext,
      initGen: this.#initGen,
      parts: [],
      size: 0,
    };
    this.#discontinuityNext = false;
  }

  #addPart(bytes: Uint8Array | undefined, end: number): void {
    const cur = this.#current!;
    if (bytes === undefined || bytes.length === 0) return;
    const duration = Math.max(0, end - this.#partStart);
    cur.parts.push({
      bytes,
      duration,
      independent: cur.parts.length === 0 ||
        this.#tracks[0]!.kind === "audio",
    });
    cur.size += bytes.length;
    cur.duration = Math.max(0, end - cur.start);
    this.#changed();
  }

  /** Closes the open part and segment (tracks change, publisher goes). */
  #closeSegment(): void {
    const cur = this.#current;
    if (cur === undefined || this.#writer === undefined) return;
    const bytes = this.#writer.end();
    // The last part lasts as long as a part target at most: its true end is unknown.
    const end = this.#partStart +
      Math.min(
        this.#partSeconds,
        cur.parts.at(-1)?.duration ?? this.#partSeconds,
      );
    this.#addPart(bytes, end);
    this.#finishSegment(end);
  }

  #finishSegment(end: number): void {
    const cur = this.#current;
    this.#current = undefined;
    if (cur === undefined || cur.parts.length === 0) return;
    cur.duration = Math.max(0.001, end - cur.start);
    // One buffer for the segment; the parts become views of it.
    cur.bytes = concat(cur.parts.map((p) => p.bytes));
    let at = 0;
    for (const p of cur.parts) {
      const n = p.bytes.length;
      p.bytes = cur.bytes.subarray(at, at + n);
      at += n;
    }
    this.#segments.push(cur);
    this.#bytes += cur.size;
    while (
      this.#segments.length > this.#segmentCount ||
      (this.#bytes > this.#maxBytes && this.#segments.length > 1)
    ) {
      const old = this.#segments.shift()!;
      this.#bytes -= old.size;
      if (this.#segments[0]?.discontinuity) this.#discontinuitySequence++;
    }
    for (const gen of this.#inits.keys()) {
      const used = gen === this.#initGen ||
        this.#segments.some((s) => s.initGen === gen);
      if (!used) this.#inits.delete(gen);
    }
    this.#changed();
  }

  #changed(): void {
    this.#playlists.clear();
    this.#options.onChange?.();
  }

  /** Whether the playlist holds part `part` of segment `msn` (the whole segment when `part` is undefined). */
  has(msn: number, part?: number): boolean {
    const cur = this.#current;
    if (part === undefined) {
      return this.#segments.some((s) => s.msn >= msn) ||
        (cur !== undefined && cur.msn > msn);
    }
    if (cur !== undefined && cur.msn === msn) return cur.parts.length > part;
    return this.#nextMsn > msn && !(cur !== undefined && cur.msn < msn);
  }

  /** The media sequence number of the newest segment in the playlist (complete or growing), -1 before any. */
  get lastMsn(): number {
    return this.#nextMsn - 1;
  }

  /** Parts in the growing segment. */
  get currentParts(): number {
    return this.#current?.parts.length ?? 0;
  }

  /** Complete segments in the window. */
  get completeSegments(): number {
    return this.#segments.length;
  }

  /** Whether anything can be played: at least one part exists. */
  get ready(): boolean {
    return this.#segments.length > 0 || this.currentParts > 0;
  }

  /** The bytes of a complete segment still in the window. */
  segment(msn: number): Uint8Array | undefined {
    return this.#segments.find((s) => s.msn === msn)?.bytes;
  }

  /** The bytes of a part still in the window. */
  part(msn: number, index: number): Uint8Array | undefined {
    const s = this.#current?.msn === msn
      ? this.#current
      : this.#segments.find((s) => s.msn === msn);
    return s?.parts[index]?.bytes;
  }

  /** An init segment still referenced. */
  init(gen: number): Uint8Array | undefined {
    return this.#inits.get(gen);
  }

  /** The media playlist, rendered by `render` once per change. */
  playlist(key: string, render: (p: MediaPlaylist) => string): string {
    const have = this.#playlists.get(key);
    if (have !== undefined) return have;
    const text = render(this.#model());
    this.#playlists.set(key, text);
    return text;
  }

  #model(): MediaPlaylist {
    const ll = this.variant === "lowLatency";
    const ext = this.#writer?.extension ??
      (this.variant === "mpegts" ? "ts" : "mp4");
    const all = this.#current === undefined || this.#current.parts.length === 0
      ? this.#segments
      : [...this.#segments, this.#current];
    let longest = this.#segmentSeconds;
    for (const s of this.#segments) longest = Math.max(longest, s.duration);
    const segments: PlaylistSegment[] = all.map((s) => ({
      msn: s.msn,
      duration: s.duration,
      uri: s.bytes === undefined ? undefined : `${this.prefix}_${s.msn}.${ext}`,
      programDateTimeMs: s.pdtMs,
      discontinuity: s.discontinuity,
      mapUri: ext === "mp4" ? `${this.prefix}_init${s.initGen}.mp4` : undefined,
      parts: ll
        ? s.parts.map((p, i) => ({
          duration: p.duration,
          uri: `${this.prefix}_${s.msn}_${i}.${ext}`,
          independent: p.independent,
        }))
        : [],
    }));
    const cur = this.#current;
    const hint = !ll
      ? undefined
      : cur === undefined
      ? undefined
      : `${this.prefix}_${cur.msn}_${cur.parts.length}.${ext}`;
    return {
      targetDuration: Math.ceil(longest - 1e-6),
      partTarget: ll ? this.#partSeconds : undefined,
      discontinuitySequence: this.#discontinuitySequence,
      segments,
      preloadHint: hint,
    };
  }

  /** Peak and average bits per second over the window. */
  bandwidth(): { peak: number; average: number } {
    let peak = 0;
    let bytes = 0;
    let seconds = 0;
    for (const s of this.#segments) {
      peak = Math.max(peak, (s.size * 8) / s.duration);
      bytes += s.size;
      seconds += s.duration;
    }
    const average = seconds > 0 ? (bytes * 8) / seconds : 0;
    return { peak: peak || 1_000_000, average: average || 1_000_000 };
  }
}
