/**
 * What happens in Sluice that outsiders want to hear of: publishers and
 * readers starting and stopping, relays changing state, recorded segments
 * completed. The hub and the relays emit; webhooks (and later the API's
 * event stream) listen. Listeners run synchronously and must only queue:
 * emitting happens on command paths (publish, play, close), never per frame.
 *
 * @module
 */

/** Who a session is, as the server that runs it knows. */
export interface SessionInfo {
  /** The session's or connection's id (`rtmp#3`, an RTSP session id). */
  id: string;
  /** `rtmp`, `rtsp`, `http` (HTTP-FLV), `hls`, `webrtc`, `relay`… */
  protocol: string;
  /** The client's `host:port`, or the relay's URL without credentials. */
  remoteAddress: string;
  /** The URL query the client sent, without `?` (secrets included: hooks are trusted). */
  query: string;
}

/** The fields of a publisher or reader starting. */
export interface SessionEvent extends SessionInfo {
  path: string;
}

/** The fields of a publisher or reader stopping. */
export interface SessionStopEvent extends SessionEvent {
  /** When it started (ISO 8601). */
  startedAt: string;
}

/** A relay changed status. */
export interface RelayStateEvent {
  path: string;
  kind: string;
  /** Without credentials. */
  url: string;
  status: string;
  lastError?: string;
}

/** A recording segment was completed (the recorder emits it). */
export interface SegmentCompleteEvent {
  path: string;
  /** The file written, as the recorder names it. */
  file: string;
  /** Its first frame's wall-clock time (ISO 8601). */
  start: string;
  durationMs: number;
  bytes: number;
}

/** Every event type and its fields. */
export interface SluiceEventMap {
  "publish.start": SessionEvent;
  "publish.stop": SessionStopEvent;
  "read.start": SessionEvent;
  "read.stop": SessionStopEvent;
  "relay.state": RelayStateEvent;
  "segment.complete": SegmentCompleteEvent;
}

/** One of {@link SluiceEventMap}'s keys. */
export type SluiceEventType = keyof SluiceEventMap;

/** An event as listeners get it: its type, a unique id and its time. */
export type SluiceEvent<T extends SluiceEventType = SluiceEventType> = {
  [K in T]: {
    type: K;
    /** Unique per event (a receiver drops repeats of a retried delivery by it). */
    id: string;
    /** ISO 8601, when it happened. */
    time: string;
    data: SluiceEventMap[K];
  };
}[T];

/** A listener of every event. */
export type SluiceEventListener = (event: SluiceEvent) => void;

/** A typed emitter: the hub owns one. */
export class EventBus {
  readonly #listeners = new Set<SluiceEventListener>();
  /** Events emitted so far. */
  emitted = 0;

  /** Whether anybody listens (emitters may skip building an event). */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** Calls `listener` for every event from now on; returns what stops it. */
  listen(listener: SluiceEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands the event to every listener; a listener that throws disturbs nobody. */
  emit<T extends SluiceEventType>(type: T, data: SluiceEventMap[T]): void {
    this.emitted++;
    if (this.#listeners.size === 0) return;
    const event = {
      type,
      id: crypto.randomUUID(),
      time: new Date().toISOString(),
      data,
    } as SluiceEvent;
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // a listener's bug is its own
      }
    }
  }
}
