/**
 * The hub's publish and read events: `*.start` when a publisher or reader
 * with a {@link SessionInfo} begins, `*.stop` once when it ends.
 *
 * @module
 */
import type { EventBus, SessionInfo } from "../events/events.ts";

/** Tracks who started when, so every stop event names its start. */
export class SessionEvents {
  readonly #bus: EventBus;
  /** Readers that announced themselves, by protocol and id: when they started. */
  readonly #readers = new Map<string, string>();

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  /** A publisher started; returns what emits its stop. */
  published(path: string, session: SessionInfo): () => void {
    const startedAt = new Date().toISOString();
    this.#bus.emit("publish.start", { ...session, path });
    return () =>
      this.#bus.emit("publish.stop", { ...session, path, startedAt });
  }

  /** A reader of `path` started (once per session). */
  readerJoined(path: string, session: SessionInfo): void {
    const key = `${session.protocol}:${session.id}`;
    if (this.#readers.has(key)) return;
    this.#readers.set(key, new Date().toISOString());
    this.#bus.emit("read.start", { ...session, path });
  }

  /** A reader of `path` left: its stop, when it had started. */
  readerLeft(path: string, session: SessionInfo): void {
    const key = `${session.protocol}:${session.id}`;
    const startedAt = this.#readers.get(key);
    if (startedAt === undefined) return;
    this.#readers.delete(key);
    this.#bus.emit("read.stop", { ...session, path, startedAt });
  }
}
