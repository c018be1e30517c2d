/**
 * The hub: paths to streams. It links readers to publishers, makes readers
 * wait for a publisher that has not come yet, and keeps readers attached for
 * a grace period when a publisher goes.
 *
 * @module
 */

import { EventBus, type SessionInfo } from "../events/events.ts";
import { SessionEvents } from "./_session_events.ts";
import { HubError } from "./hub_error.ts";
import { Stream, type StreamOptions } from "./stream.ts";
import { type Publisher, PublisherHandle } from "./publisher.ts";

export { HubError, type HubErrorCode } from "./hub_error.ts";
export type { Publisher } from "./publisher.ts";

/** Timers the hub uses; tests pass their own clock. */
export interface HubTimers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(id: TimerHandle): void;
}

/** What {@link HubTimers.setTimeout} returns. */
export type TimerHandle = ReturnType<typeof setTimeout>;

/**
 * Whether a new publisher may take a path over from the one it has:
 * `true` always (the old one is cut off), `false` never, `"auto"` when the
 * current publisher has sent no frame for {@link HubOptions.publisherIdleMs}
 * (its connection is half-open: an encoder that reconnects after a network
 * drop replaces it at once) or when the newcomer gave the path's publish
 * credentials. A healthy, sending publisher is never cut off by an
 * anonymous one.
 */
export type OverridePublisher = boolean | "auto";

/** Options of {@link Hub}. */
export interface HubOptions extends StreamOptions {
  /** When a new publisher takes over a busy path; see {@link OverridePublisher}. @default {"auto"} */
  overridePublisher?: OverridePublisher;
  /**
   * With `"auto"`, a publisher that has sent no frame for this long (ms)
   * counts as gone and may be taken over by anyone. @default {2000}
   */
  publisherIdleMs?: number;
  /** How long readers stay attached after the publisher goes (ms). @default {5000} */
  publisherGracePeriodMs?: number;
  /** How long a reader waits for a publisher that has not come (ms). @default {3000} */
  playWaitTimeoutMs?: number;
  /** @default {globalThis} */
  timers?: HubTimers;
  /** Milliseconds now, for the publisher idle time. @default {Date.now} */
  now?: () => number;
  /**
   * Whether a publisher or a source can ever come to `path`: a reader of a
   * path that cannot is answered "not found" at once instead of waiting.
   * @default every path can
   */
  canPublish?: (path: string) => boolean;
  /**
   * Called when a reader starts waiting for a path nobody publishes: an
   * on-demand source can start now, and the reader gets it when it arrives.
   */
  onDemand?: (path: string) => void;
  /** Where publish and read events go. @default a bus of its own */
  events?: EventBus;
  /**
   * Called when a publisher starts on `stream`, with its publish options:
   * outputs that do not wait for readers (the recorder) attach here.
   */
  onPublish?: (stream: Stream, options: PublishOptions) => void;
}

/** Options of one {@link Hub.publish} call. */
export interface PublishOptions {
  /** Overrides {@link HubOptions.overridePublisher} for this path. */
  overridePublisher?: OverridePublisher;
  /**
   * The newcomer gave the publish credentials the path asks for (the path
   * has some, and they matched): with `"auto"` it takes over even a
   * publisher that is sending. @default {false}
   */
  authenticated?: boolean;
  /** Called when a newer publisher takes the path over; the caller closes its connection. */
  onTakenOver?: () => void;
  /** Who publishes: with it, `publish.start` and `publish.stop` are emitted. */
  session?: SessionInfo;
  /**
   * The publisher asked to be recorded (RTMP `publish(name, "record")`
   * starts a new recording, `"append"` continues one), and may be.
   */
  record?: "record" | "append";
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

/** Paths to streams; knows frames, never protocols. */
export class Hub {
  readonly #entries = new Map<string, Entry>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #options: HubOptions;
  readonly #timers: HubTimers;
  readonly #now: () => number;
  readonly #sessions: SessionEvents;
  /** Publish and read events (webhooks listen). */
  readonly events: EventBus;

  constructor(options: HubOptions = {}) {
    this.#options = options;
    this.events = options.events ?? new EventBus();
    this.#sessions = new SessionEvents(this.events);
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id),
    };
    this.#now = options.now ?? Date.now;
  }

  /**
   * Starts publishing `path`, taking it over from a current publisher when
   * the policy allows (see {@link OverridePublisher}); throws a
   * {@link HubError} "busy" when it does not.
   */
  publish(path: string, options: PublishOptions = {}): Publisher {
    let entry = this.#entries.get(path);
    if (entry?.publisher !== undefined) {
      const refusal = this.#takeoverRefusal(entry.publisher, options);
      if (refusal !== undefined) {
        throw new HubError(
          `Cannot publish "${path}": ${refusal}`,
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
      this.#now,
    );
    entry.publisher = handle;
    entry.stream.beginPublisher();
    if (options.session !== undefined) {
      handle.onStop = this.#sessions.published(path, options.session);
    }
    this.#options.onPublish?.(entry.stream, options);
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

  /** Why a newcomer may not take the path from `current`, or `undefined` when it may. */
  #takeoverRefusal(
    current: PublisherHandle,
    options: PublishOptions,
  ): string | undefined {
    const policy = options.overridePublisher ??
      this.#options.overridePublisher ?? "auto";
    if (policy === true) return undefined;
    if (policy === false) return "another publisher has it";
    if (options.authenticated === true) return undefined;
    const idleMs = current.idleMs();
    if (idleMs >= (this.#options.publisherIdleMs ?? 2000)) return undefined;
    return `another publisher is sending on it (last frame ${idleMs} ms ago)`;
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
   * wait timeout; rejects with a {@link HubError} "not-found" after it, or at
   * once when {@link HubOptions.canPublish} says nothing can publish `path`.
   */
  waitForStream(
    path: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Stream> {
    const entry = this.#entries.get(path);
    if (entry !== undefined) return Promise.resolve(entry.stream);
    if (this.#options.canPublish?.(path) === false) {
      return Promise.reject(
        new HubError(
          `Cannot play "${path}": nothing can publish it`,
          "not-found",
          path,
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#options.playWaitTimeoutMs ??
      3000;
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

  /** A reader started: `read.start`, and `read.stop` when it leaves. */
  readerJoined(stream: Stream, session: SessionInfo): void {
    this.#sessions.readerJoined(stream.path, session);
  }

  /** Called by readers when they leave: a stream without a publisher and readers ends now. */
  readerLeft(stream: Stream, session?: SessionInfo): void {
    if (session) this.#sessions.readerLeft(stream.path, session);
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
