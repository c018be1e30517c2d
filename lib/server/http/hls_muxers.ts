/**
 * The HLS muxers of the HTTP server, one per path: started by the first
 * request (or for every published path with `hlsAlwaysRemux`), attached to
 * the path's stream whenever it has one, closed `hlsMuxerCloseAfter` after
 * the last request. Requests that wait for a part or a segment wait here,
 * each for a bounded time.
 *
 * @module
 */

import type { Hub } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { HlsOutput } from "../../egress/hls_output.ts";
import { HlsSegmenter } from "../../hls/segmenter.ts";
import type { HlsVariant } from "../../hls/part_writer.ts";
import type { Config } from "../../config/schema.ts";

/** What the HLS muxers read of the configuration. */
export type HlsConfig =
  & Pick<
    Config,
    | "hlsVariant"
    | "hlsSegmentDuration"
    | "hlsPartDuration"
    | "hlsSegmentCount"
    | "hlsAlwaysRemux"
    | "hlsMuxerCloseAfter"
    | "playWaitTimeout"
  >
  & { paths?: Config["paths"] };

/** How long a muxer outlives its path's stream (a publisher coming back within it continues the playlist). */
const STREAMLESS_CLOSE_MS = 30_000;

/** Bytes of media one path's window may hold. */
const MAX_BYTES_PER_PATH = 64 * 1024 * 1024;

/** One path's muxer. */
export interface HlsMuxer {
  readonly path: string;
  readonly key: string;
  readonly segmenter: HlsSegmenter;
  stream: Stream | undefined;
  output: HlsOutput | undefined;
  lastRequestMs: number;
  /** Since when the path has had no stream, if it has none. */
  streamlessSinceMs?: number;
  waiters: Set<() => void>;
}

/** Options of {@link HlsMuxers}. */
export interface HlsMuxersOptions {
  hub: Pick<Hub, "waitForStream" | "readerLeft" | "stream" | "streams">;
  config: HlsConfig;
  log: Logger;
}

/** The muxers of every path that has HLS now. */
export class HlsMuxers {
  readonly #options: HlsMuxersOptions;
  readonly #muxers = new Map<string, HlsMuxer>();

  constructor(options: HlsMuxersOptions) {
    this.#options = options;
  }

  /** Muxers now. */
  get size(): number {
    return this.#muxers.size;
  }

  /** The variant `path` is configured with. */
  variantOf(path: string): HlsVariant {
    const { config } = this.#options;
    return config.paths?.[path]?.hlsVariant ?? config.hlsVariant;
  }

  /** The muxer of `path` (of `variant`, or the path's own) if it runs. */
  peek(path: string, variant?: HlsVariant): HlsMuxer | undefined {
    return this.#muxers.get(keyOf(path, variant ?? this.variantOf(path)));
  }

  /** The muxer of `path` whose files are named `prefix`, if it runs. */
  byPrefix(path: string, prefix: string): HlsMuxer | undefined {
    for (const v of ["lowLatency", "fmp4", "mpegts"] as const) {
      const m = this.#muxers.get(keyOf(path, v));
      if (m?.segmenter.prefix === prefix) return m;
    }
    return undefined;
  }

  /**
   * The muxer of `path`, started when none runs; `undefined` when the path
   * has no stream within `playWaitTimeout` and no muxer.
   */
  async get(
    path: string,
    signal: AbortSignal,
    variant: HlsVariant = this.variantOf(path),
  ): Promise<HlsMuxer | undefined> {
    const key = keyOf(path, variant);
    const have = this.#muxers.get(key);
    if (have !== undefined) {
      have.lastRequestMs = Date.now();
      this.#attach(have);
      return have;
    }
    let stream: Stream;
    try {
      stream = await this.#options.hub.waitForStream(path, {
        timeoutMs: this.#options.config.playWaitTimeout,
        signal,
      });
    } catch {
      return undefined;
    }
    const again = this.#muxers.get(key);
    if (again !== undefined) return again;
    return this.#start(path, stream, variant);
  }

  #start(path: string, stream: Stream, variant: HlsVariant): HlsMuxer {
    const { config, log } = this.#options;
    const muxer: HlsMuxer = {
      path,
      key: keyOf(path, variant),
      stream: undefined,
      output: undefined,
      lastRequestMs: Date.now(),
      waiters: new Set(),
      segmenter: new HlsSegmenter({
        variant,
        prefix: crypto.randomUUID().slice(0, 8),
        segmentDurationMs: config.hlsSegmentDuration,
        partDurationMs: config.hlsPartDuration,
        segmentCount: config.hlsSegmentCount,
        maxBytes: MAX_BYTES_PER_PATH,
        onTrackLeftOut: (t) =>
          log.warn("HLS leaves out a track it cannot carry", {
            path,
            track: t.id,
            codec: t.codec,
            variant,
          }),
        onUnwritable: (reason) =>
          log.info("HLS waits for codec parameters", { path, reason }),
        onChange: () => {
          const waiters = [...muxer.waiters];
          muxer.waiters.clear();
          for (const w of waiters) w();
        },
      }),
    };
    this.#muxers.set(muxer.key, muxer);
    log.info("HLS muxer started", { path, variant });
    this.#attachTo(muxer, stream);
    return muxer;
  }

  /** Attaches `muxer` to the path's stream when it has a new one. */
  #attach(muxer: HlsMuxer): void {
    if (muxer.output?.attached) return;
    const stream = this.#options.hub.stream(muxer.path);
    if (stream !== undefined && !stream.ended) this.#attachTo(muxer, stream);
  }

  #attachTo(muxer: HlsMuxer, stream: Stream): void {
    if (muxer.stream !== undefined) {
      // A later stream of the same path: the playlist goes on after a discontinuity.
      muxer.segmenter.discontinuity();
    }
    muxer.stream = stream;
    muxer.output = stream.output<HlsOutput>(
      `hls:${muxer.segmenter.variant}`,
      () =>
        new HlsOutput(muxer.segmenter, {
          onError: (e) =>
            this.#options.log.error("HLS muxer failed", {
              path: muxer.path,
              error: e instanceof Error ? e.message : String(e),
            }),
        }),
    );
  }

  /**
   * Resolves `true` once `ready()` holds, `false` after `timeoutMs` or when
   * `signal` aborts; checks again after every change of the muxer.
   */
  wait(
    muxer: HlsMuxer,
    ready: () => boolean,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        muxer.waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (ready()) done(true);
        else muxer.waiters.add(check);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      muxer.waiters.add(check);
    });
  }

  /** Once a second: idle muxers close, new streams are attached (and started with `hlsAlwaysRemux`). */
  tick(now: number): void {
    const { config, hub, log } = this.#options;
    if (config.hlsAlwaysRemux) {
      for (const s of hub.streams()) {
        const variant = this.variantOf(s.path);
        if (!s.ended && !this.#muxers.has(keyOf(s.path, variant))) {
          this.#start(s.path, s, variant);
        }
      }
    }
    for (const m of this.#muxers.values()) {
      // With hlsAlwaysRemux a muxer lives as long as its path has a stream.
      const hasStream = hub.stream(m.path) !== undefined;
      m.streamlessSinceMs = hasStream ? undefined : m.streamlessSinceMs ?? now;
      // A path whose publisher is gone for good: players get 404, not a
      // playlist that never moves again.
      if (
        m.streamlessSinceMs !== undefined &&
        now - m.streamlessSinceMs > STREAMLESS_CLOSE_MS
      ) {
        this.#close(m);
        log.info("HLS muxer closed: the path has no stream", { path: m.path });
        continue;
      }
      const kept = config.hlsAlwaysRemux && hasStream;
      if (!kept && now - m.lastRequestMs > config.hlsMuxerCloseAfter) {
        this.#close(m);
        log.info("HLS muxer closed: no requests", { path: m.path });
        continue;
      }
      this.#attach(m);
    }
  }

  #close(m: HlsMuxer): void {
    this.#muxers.delete(m.key);
    m.output?.detach();
    if (m.stream !== undefined) this.#options.hub.readerLeft(m.stream);
    for (const w of m.waiters) w();
    m.waiters.clear();
  }

  /** Closes every muxer (shutdown). */
  close(): void {
    for (const m of [...this.#muxers.values()]) this.#close(m);
  }
}

/** One muxer per path and variant. */
function keyOf(path: string, variant: HlsVariant): string {
  return `${variant}:${path}`;
}
