/**
 * The hub: paths to streams. It links readers to publishers, makes readers
 * wait for a publisher that has not come yet, and keeps readers attached for
 * a grace period when a publisher goes.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { type Metadata, Stream, type StreamOptions } from "./stream.ts";

/** Timers the hub uses; tests pass their own clock. */
export interface HubTimers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(id: TimerHandle): void;
}

/** What {@link HubTimers.setTimeout} returns. */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** Options of {@link Hub}. */
export interface HubOptions extends StreamOptions {
  /** A new publisher takes over a busy path instead of being refused. @default {true} */
  overridePublisher?: boolean;
  /** How long readers stay attached after the publisher goes (ms). @default {5000} */
  publisherGracePeriodMs?: number;
  /** How long a reader waits for a publisher that has not come (ms). @default {5000} */
  playWaitTimeoutMs?: number;
  /** @default {globalThis} */
  timers?: HubTimers;
  /**
   * Called when a reader starts waiting for a path nobody publishes: an
   * on-demand source can start now, and the reader gets it when it arrives.
   */
  onDemand?: (path: string) => void;
}

/** Options of one {@link Hub.publish} call. */
export interface PublishOptions {
  /** Overrides {@link HubOptions.overridePublisher} for this path. */
  overridePublisher?: boolean;
  /** Called when a newer publisher takes the path over; the caller closes its connection. */
  onTakenOver?: () => void;
}

/** Why a publish or read failed. */
export type HubErrorCode = "busy" | "not-found";

/** A publish refused because the path is busy, or a read of a path nobody publishes. */
export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly path: string;
  constructor(message: string, code: HubErrorCode, path: string) {
    super(message);
    this.name = "HubError";
    this.code = code;
    this.path = path;
  }
}

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

interface Entry {
  stream: Stream;
  publisher: PublisherHandle | undefined;
  graceTimer: TimerHandle | undefined;
}

interface Waiter {
  resolve(stream: Stream): void;
  reject(error: Error): void;
  timer: TimerHandle;
}

class PublisherHandle implements Publisher {
  readonly path: string;
  readonly stream: Stream;
  readonly onTakenOver: (() => void) | undefined;
  #active = true;
  readonly #release: (p: PublisherHandle) => void;

  constructor(
    stream: Stream,
    onTakenOver: (() => void) | undefined,
    release: (p: PublisherHandle) => void,
  ) {
    this.path = stream.path;
    this.stream = stream;
    this.onTakenOver = onTakenOver;
    this.#release = release;
  }
  get active(): boolean {
    return this.#active;
  }
  deactivate(): void {
    this.#active = false;
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
    if (this.#active) this.stream.writeFrame(frame);
  }
  close(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#release(this);
  }
}

/** Paths to streams; knows frames, never protocols. */
export class Hub {
  readonly #entries = new Map<string, Entry>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #options: HubOptions;
  readonly #timers: HubTimers;

  constructor(options: HubOptions = {}) {
    this.#options = options;
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id),
    };
  }

  /** Starts publishing `path`, taking it over from a current publisher when allowed. */
  publish(path: string, options: PublishOptions = {}): Publisher {
    let entry = this.#entries.get(path);
    if (entry?.publisher !== undefined) {
      const override = options.overridePublisher ??
        this.#options.overridePublisher ?? true;
      if (!override) {
        throw new HubError(
          `Cannot publish "${path}": another publisher has it`,
          "busy",
          path,
        );
      }
      const old = entry.publisher;
      old.deactivate();
      entry.publisher = undefined;
      old.onTakenOver?.();
    }
    if (entry === undefined) {
      entry = {
        stream: new Stream(path, this.#options),
        publisher: undefined,
        graceTimer: undefined,
      };
      this.#entries.set(path, entry);
    }
    if (entry.graceTimer !== undefined) {
      this.#timers.clearTimeout(entry.graceTimer);
      entry.graceTimer = undefined;
    }
    const handle = new PublisherHandle(
      entry.stream,
      options.onTakenOver,
      (p) => this.#release(p),
    );
    entry.publisher = handle;
    entry.stream.beginPublisher();
    const waiters = this.#waiters.get(path);
    if (waiters !== undefined) {
      this.#waiters.delete(path);
      for (const w of waiters) {
        this.#timers.clearTimeout(w.timer);
        w.resolve(entry.stream);
      }
    }
    return handle;
  }

  #release(p: PublisherHandle): void {
    const entry = this.#entries.get(p.path);
    if (entry === undefined || entry.publisher !== p) return;
    entry.publisher = undefined;
    const grace = this.#options.publisherGracePeriodMs ?? 5000;
    const end = () => {
      if (
        this.#entries.get(p.path) !== entry || entry.publisher !== undefined
      ) return;
      this.#entries.delete(p.path);
      entry.stream.end();
    };
    if (grace <= 0 || entry.stream.readers === 0) end();
    else entry.graceTimer = this.#timers.setTimeout(end, grace);
  }

  /**
   * The stream of `path` once it has a publisher: at once when it has one (or
   * lost it less than a grace period ago), else when one arrives within the
   * wait timeout; rejects with a {@link HubError} "not-found" after it.
   */
  waitForStream(
    path: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Stream> {
    const entry = this.#entries.get(path);
    if (entry !== undefined) return Promise.resolve(entry.stream);
    const timeoutMs = options.timeoutMs ?? this.#options.playWaitTimeoutMs ??
      5000;
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(path);
      if (set === undefined) this.#waiters.set(path, set = new Set());
      const waiters = set;
      const done = () => {
        waiters.delete(waiter);
        if (waiters.size === 0 && this.#waiters.get(path) === waiters) {
          this.#waiters.delete(path);
        }
      };
      const waiter: Waiter = {
        resolve: (s) => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve(s);
        },
        reject,
        timer: this.#timers.setTimeout(() => {
          done();
          options.signal?.removeEventListener("abort", onAbort);
          reject(
            new HubError(
              `Cannot play "${path}": no publisher within ${timeoutMs} ms`,
              "not-found",
              path,
            ),
          );
        }, timeoutMs),
      };
      const onAbort = () => {
        this.#timers.clearTimeout(waiter.timer);
        done();
        reject(options.signal!.reason);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      waiters.add(waiter);
      this.#options.onDemand?.(path);
    });
  }

  /** The stream of `path`, if it has one now. */
  stream(path: string): Stream | undefined {
    return this.#entries.get(path)?.stream;
  }

  /** Whether `path` has an active publisher. */
  hasPublisher(path: string): boolean {
    return this.#entries.get(path)?.publisher !== undefined;
  }

  /** Every stream now. */
  streams(): Stream[] {
    return [...this.#entries.values()].map((e) => e.stream);
  }

  /** Called by readers when they leave: a stream without a publisher and readers ends now. */
  readerLeft(stream: Stream): void {
    stream.pruneOutputs();
    const entry = this.#entries.get(stream.path);
    if (
      entry?.stream !== stream || entry.publisher !== undefined ||
      stream.readers > 0
    ) return;
    if (entry.graceTimer !== undefined) {
      this.#timers.clearTimeout(entry.graceTimer);
    }
    this.#entries.delete(stream.path);
    stream.end();
  }

  /** Ends every stream and rejects every waiter (shutdown). */
  close(): void {
    for (const [path, set] of this.#waiters) {
      for (const w of set) {
        this.#timers.clearTimeout(w.timer);
        w.reject(
          new HubError(
            `Cannot play "${path}": the server is shutting down`,
            "not-found",
            path,
          ),
        );
      }
    }
    this.#waiters.clear();
    for (const e of this.#entries.values()) {
      if (e.graceTimer !== undefined) this.#timers.clearTimeout(e.graceTimer);
      e.publisher?.deactivate();
      e.stream.end();
    }
    this.#entries.clear();
  }
}
