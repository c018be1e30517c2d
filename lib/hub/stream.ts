/**
 * A stream: one path's publisher, tracks, GOP cache and outputs.
 *
 * @module
 */

import { type Frame, frameSize } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { TimestampRepair } from "../media/time.ts";
import { GopCache } from "./gop_cache.ts";

/** Stream-level metadata a publisher announced (RTMP onMetaData and the like). */
export type Metadata = Record<string, unknown>;

/**
 * One protocol's view of a stream: it turns frames into wire packets once and
 * hands them to all its readers. Created by {@link Stream.output} and primed
 * with the current tracks, metadata and GOP cache; `P` is its packet type.
 */
export interface StreamOutput<P = unknown> {
  /** The tracks changed (a publisher arrived or sent new codec configuration). */
  tracks(tracks: readonly Track[]): void;
  /** The publisher's metadata changed. */
  metadata(metadata: Metadata | undefined): void;
  /**
   * A frame, with timestamps monotonic per track. Returns the packets it
   * became: the stream keeps them with its GOP cache for later readers.
   */
  frame(frame: Frame): readonly P[];
  /** The stream ended: no publisher came back within the grace period. */
  end(): void;
  /** A new publisher took over the stream (outputs that mark discontinuities, such as HLS). */
  publisher?(): void;
  /** Readers attached; an output with none is removed. */
  readonly readers: number;
}

/**
 * An output's packets for every frame of the stream's GOP cache, oldest
 * first: what a new reader of that output starts with.
 */
export type CachedPackets<P> = () => P[];

/** The packet type of an output. */
export type PacketOf<O> = O extends StreamOutput<infer P> ? P : never;

/** A frame of the GOP cache with the packets each output made of it. */
interface GopEntry {
  frame: Frame;
  packets: Map<string, readonly unknown[]>;
}

/** Counters of one stream, for logs and the API. */
export interface StreamStats {
  framesIn: number;
  bytesIn: number;
  /** Frames dropped before a keyframe after a publisher (re)started. */
  framesWaitingKeyframe: number;
  /** Timestamps the stream repaired (jumps, steps backwards). */
  timestampRepairs: number;
  publishers: number;
  /** Packets dropped for readers that fell behind. */
  readerDrops: number;
  /** Readers disconnected because they stayed behind. */
  readersDropped: number;
  /** The same two, per protocol the readers played with (`rtmp`, `rtsp`, `flv` …). */
  byProtocol: Record<string, { readerDrops: number; readersDropped: number }>;
  /** Milliseconds from the last publisher's start to its first frame delivered. */
  firstFrameMs: number | undefined;
}

/** Sees every frame delivered, with its track (the stream inspector). */
export type FrameTap = (frame: Frame, track: Track) => void;

/** Options of {@link Stream}. */
export interface StreamOptions {
  /** Keep frames from the last keyframe for new readers. @default {true} */
  gopCache?: boolean;
  /** Bound of the GOP cache. @default {33554432} */
  gopCacheMaxBytes?: number;
}

/** One path's live stream. Created and ended by the {@link Hub}. */
export class Stream {
  readonly path: string;
  readonly stats: StreamStats = {
    framesIn: 0,
    bytesIn: 0,
    framesWaitingKeyframe: 0,
    timestampRepairs: 0,
    publishers: 0,
    readerDrops: 0,
    readersDropped: 0,
    byProtocol: {},
    firstFrameMs: undefined,
  };
  #tracks: Track[] = [];
  #metadata: Metadata | undefined;
  readonly #gop: GopCache<GopEntry> | undefined;
  readonly #outputs = new Map<string, StreamOutput>();
  readonly #repair = new Map<number, TimestampRepair>();
  /** Seconds added to every incoming timestamp so a new publisher continues the timeline. */
  #offsetSeconds = 0;
  /** Latest output time of any track, in seconds. */
  #lastSeconds: number | undefined;
  #rebasePending = false;
  #waitingKeyframe = false;
  #ended = false;
  readonly #taps = new Set<FrameTap>();
  /** When the current publisher began (ms), until its first frame. */
  #publisherStartMs: number | undefined;

  constructor(path: string, options: StreamOptions = {}) {
    this.path = path;
    this.#gop = options.gopCache === false
      ? undefined
      : new GopCache({ maxBytes: options.gopCacheMaxBytes });
  }

  /** Current tracks. */
  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /** Current metadata. */
  get metadata(): Metadata | undefined {
    return this.#metadata;
  }

  /** Whether the stream has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Readers over all outputs. */
  get readers(): number {
    let n = 0;
    for (const o of this.#outputs.values()) n += o.readers;
    return n;
  }

  /** Counts packets dropped for a reader of `protocol` that fell behind. */
  countReaderDrops(protocol: string, packets: number): void {
    this.stats.readerDrops += packets;
    this.#protocolStats(protocol).readerDrops += packets;
  }

  /** Counts a reader of `protocol` disconnected because it stayed behind. */
  countReaderDropped(protocol: string): void {
    this.stats.readersDropped++;
    this.#protocolStats(protocol).readersDropped++;
  }

  #protocolStats(protocol: string) {
    return this.stats.byProtocol[protocol] ??= {
      readerDrops: 0,
      readersDropped: 0,
    };
  }

  /** Called by the hub when a publisher starts: its timeline continues ours, from a keyframe. */
  beginPublisher(): void {
    this.stats.publishers++;
    this.#rebasePending = this.#lastSeconds !== undefined;
    this.#waitingKeyframe = true;
    this.#publisherStartMs = Date.now();
    this.#gop?.clear();
    for (const o of this.#outputs.values()) o.publisher?.();
  }

  /**
   * Calls `tap` with every frame delivered from now on, until the function
   * returned is called. Nothing is spent on a stream nobody taps.
   */
  tap(tap: FrameTap): () => void {
    this.#taps.add(tap);
    return () => this.#taps.delete(tap);
  }

  /** Sets or replaces a track (matched by id). */
  setTrack(track: Track): void {
    const i = this.#tracks.findIndex((t) => t.id === track.id);
    if (i === -1) {
      this.#tracks = [...this.#tracks, track].sort((a, b) => a.id - b.id);
    } else {this.#tracks = this.#tracks.map((
        t,
      ) => (t.id === track.id ? track : t)
      );}
    if (!this.#repair.has(track.id)) {
      this.#repair.set(track.id, new TimestampRepair(track.clockRate));
    }
    for (const o of this.#outputs.values()) o.tracks(this.#tracks);
  }

  /** Replaces all tracks (a publisher with a complete description, such as an SDP). */
  setTracks(tracks: readonly Track[]): void {
    this.#tracks = [...tracks].sort((a, b) => a.id - b.id);
    for (const t of tracks) {
      if (!this.#repair.has(t.id)) {
        this.#repair.set(t.id, new TimestampRepair(t.clockRate));
      }
    }
    for (const o of this.#outputs.values()) o.tracks(this.#tracks);
  }

  /** Sets the publisher's metadata. */
  setMetadata(metadata: Metadata | undefined): void {
    this.#metadata = metadata;
    for (const o of this.#outputs.values()) o.metadata(metadata);
  }

  /** Delivers a frame of the publisher to every output. */
  writeFrame(frame: Frame): void {
    const track = this.#tracks.find((t) => t.id === frame.trackId);
    if (track === undefined) return;
    const hasVideo = this.#tracks.some((t) => t.kind === "video");
    if (this.#waitingKeyframe) {
      if (hasVideo && !(track.kind === "video" && frame.keyframe)) {
        this.stats.framesWaitingKeyframe++;
        return;
      }
      this.#waitingKeyframe = false;
      if (this.#publisherStartMs !== undefined) {
        this.stats.firstFrameMs = Date.now() - this.#publisherStartMs;
        this.#publisherStartMs = undefined;
      }
    }
    const size = frameSize(frame);
    this.stats.framesIn++;
    this.stats.bytesIn += size;

    const clock = track.clockRate;
    if (this.#rebasePending) {
      // The new publisher's first frame lands one video frame after the old
      // publisher's last, whatever its own clock says.
      this.#offsetSeconds = this.#lastSeconds! + 1 / 30 - frame.dts / clock;
      this.#rebasePending = false;
    }
    const shift = Math.round(this.#offsetSeconds * clock);
    const repair = this.#repair.get(track.id)!;
    const before = repair.repairs;
    const dts = repair.dts(frame.dts + shift);
    this.stats.timestampRepairs += repair.repairs - before;
    const out: Frame = dts === frame.dts && shift === 0
      ? frame
      : { ...frame, dts, pts: frame.pts + (dts - frame.dts) };
    const seconds = dts / clock;
    if (this.#lastSeconds === undefined || seconds > this.#lastSeconds) {
      this.#lastSeconds = seconds;
    }

    const key = hasVideo ? track.kind === "video" && frame.keyframe : true;
    const entry: GopEntry = { frame: out, packets: new Map() };
    this.#gop?.push(entry, key && track.kind === "video", size);
    for (const [k, o] of this.#outputs) entry.packets.set(k, o.frame(out));
    if (this.#taps.size > 0) { for (const t of this.#taps) t(out, track); }
  }

  /**
   * The output for `key`, created by `create` and primed with the current
   * tracks, metadata and GOP cache when there is none yet. The GOP is kept
   * here once: `create` gets the function that hands the output its own
   * packets of it.
   */
  output<O extends StreamOutput>(
    key: string,
    create: (cached: CachedPackets<PacketOf<O>>) => O,
  ): O {
    const have = this.#outputs.get(key);
    if (have !== undefined) return have as O;
    const o = create(() => this.#cached<PacketOf<O>>(key));
    this.#outputs.set(key, o);
    o.tracks(this.#tracks);
    o.metadata(this.#metadata);
    for (const e of this.#gop?.items ?? []) {
      e.packets.set(key, o.frame(e.frame));
    }
    return o;
  }

  /** Every new reader asks for this: one array of the right size, no iterators. */
  #cached<P>(key: string): P[] {
    const items = this.#gop?.items ?? [];
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      n += items[i]!.packets.get(key)?.length ?? 0;
    }
    const out = new Array<P>(n);
    let at = 0;
    for (let i = 0; i < items.length; i++) {
      const packets = items[i]!.packets.get(key) as readonly P[] | undefined;
      if (packets === undefined) continue;
      for (let j = 0; j < packets.length; j++) out[at++] = packets[j]!;
    }
    return out;
  }

  /** Removes outputs that have no readers left. */
  pruneOutputs(): void {
    for (const [key, o] of this.#outputs) {
      if (o.readers > 0) continue;
      this.#outputs.delete(key);
      for (const e of this.#gop?.items ?? []) e.packets.delete(key);
    }
  }

  /** Ends the stream for every output. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const o of this.#outputs.values()) o.end();
    this.#outputs.clear();
    this.#gop?.clear();
  }
}
