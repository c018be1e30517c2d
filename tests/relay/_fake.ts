/**
 * Fakes for the relay tests: a clock that stands in for the global timers
 * and `Date.now` (Relays reads them directly), a hub of reader counts and
 * publishers, and a logger that keeps its events.
 */
import type { Hub } from "../../lib/hub/hub.ts";
import type { Stream } from "../../lib/hub/stream.ts";
import type { LogFields, Logger, LogLevel } from "../../lib/log.ts";

const realSetTimeout = globalThis.setTimeout;

interface Timer {
  at: number;
  fn: () => void;
  /** Repeats every this many ms (setInterval). */
  every?: number;
}

/**
 * Global timers and `Date.now` on a clock moved by {@link advance}; `using`
 * puts the real ones back. Delays asked of `setTimeout` are kept in order.
 */
export class FakeClock implements Disposable {
  now: number;
  readonly timeoutDelays: number[] = [];
  #next = 1;
  readonly #timers = new Map<number, Timer>();
  readonly #saved = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    now: Date.now,
  };

  constructor(startMs = 1_000_000) {
    this.now = startMs;
    const add = (fn: () => void, ms = 0, every?: number) => {
      const id = this.#next++;
      this.#timers.set(id, { at: this.now + ms, fn, every });
      return id;
    };
    const clear = (id: unknown) => {
      if (typeof id === "number") this.#timers.delete(id);
    };
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      this.timeoutDelays.push(ms ?? 0);
      return add(fn, ms);
    }) as unknown as typeof setTimeout;
    globalThis.setInterval =
      ((fn: () => void, ms?: number) =>
        add(fn, ms, ms ?? 0)) as unknown as typeof setInterval;
    globalThis.clearTimeout = clear;
    globalThis.clearInterval = clear;
    Date.now = () => this.now;
  }

  /** Timers and intervals still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock `ms` on, firing what falls due in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      let due: [number, Timer] | undefined;
      for (const entry of this.#timers) {
        if (
          entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)
        ) {
          due = entry;
        }
      }
      if (due === undefined) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every === undefined) this.#timers.delete(id);
      else t.at += Math.max(t.every, 1);
      t.fn();
      await settle();
    }
    this.now = end;
  }

  [Symbol.dispose](): void {
    globalThis.setTimeout = this.#saved.setTimeout;
    globalThis.clearTimeout = this.#saved.clearTimeout;
    globalThis.setInterval = this.#saved.setInterval;
    globalThis.clearInterval = this.#saved.clearInterval;
    Date.now = this.#saved.now;
  }
}

/** Lets every promise chain started so far run to its next timer. */
function settle(): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, 0));
}

/** A hub of paths with a publisher and reader counts; nothing is ever published. */
export class FakeHub
  implements Pick<Hub, "publish" | "stream" | "hasPublisher"> {
  readonly publishers = new Set<string>();
  /** Readers per path; a path with an entry has a stream. */
  readonly readers = new Map<string, number>();
  publish(): never {
    throw new Error("FakeHub cannot publish");
  }
  stream(path: string): Stream | undefined {
    const readers = this.readers.get(path);
    return readers === undefined ? undefined : { readers } as unknown as Stream;
  }
  hasPublisher(path: string): boolean {
    return this.publishers.has(path);
  }
}

/** One logged event. */
export interface LogEvent {
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

/** A logger keeping its events. */
export class RecordingLog implements Logger {
  readonly level: LogLevel = "debug";
  readonly events: LogEvent[] = [];
  enabled(): boolean {
    return true;
  }
  child(): Logger {
    return this;
  }
  error(message: string, fields?: LogFields): void {
    this.events.push({ level: "error", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.events.push({ level: "warn", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.events.push({ level: "info", message, fields });
  }
  debug(message: string, fields?: LogFields): void {
    this.events.push({ level: "debug", message, fields });
  }
  /** `level message` of every event, to compare at a glance. */
  lines(): string[] {
    return this.events.map((e) => `${e.level} ${e.message}`);
  }
}
