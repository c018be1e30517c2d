/**
 * What the REST API reads of a running Sluice, and the views it builds of
 * it: paths with their publisher and readers, sessions, relays.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Hub } from "../hub/hub.ts";
import type { Stream } from "../hub/stream.ts";
import type { RelayState } from "../relay/relays.ts";
import type { SessionInfo, SessionSource } from "../server/session_info.ts";
import { trackView } from "./codec_config.ts";
import type {
  PathSummaryView,
  PathView,
  PublisherView,
  RelayView,
  SessionView,
} from "./schemas.ts";

/** What the API reads; each part is a narrow, read-only face of Sluice. */
export interface ApiSources {
  hub: Pick<Hub, "streams" | "stream" | "hasPublisher">;
  /** The protocol servers that run now. */
  servers: () => SessionSource[];
  /** Every relay's state (pulls, pushes, REGISTERs). */
  relays: () => RelayState[];
  /** The configuration in effect. */
  config: () => Config;
}

/** Bits per second from byte counters sampled at least a second apart. */
export class Rates {
  readonly #last = new Map<
    string,
    { ms: number; bytes: number; bps: number }
  >();

  /** The rate of `key` whose counter reads `bytes` now; `startMs` is when it began counting. */
  rate(key: string, bytes: number, nowMs: number, startMs?: number): number {
    const prev = this.#last.get(key);
    if (prev === undefined || bytes < prev.bytes) {
      const ms = startMs === undefined ? 0 : nowMs - startMs;
      const bps = ms > 0 ? Math.round(bytes * 8000 / ms) : 0;
      this.#last.set(key, { ms: nowMs, bytes, bps });
      return bps;
    }
    if (nowMs - prev.ms < 1000) return prev.bps;
    prev.bps = Math.round((bytes - prev.bytes) * 8000 / (nowMs - prev.ms));
    prev.ms = nowMs;
    prev.bytes = bytes;
    return prev.bps;
  }

  /** Forgets keys not in `live` (paths that went away). */
  prune(live: Set<string>): void {
    for (const k of this.#last.keys()) if (!live.has(k)) this.#last.delete(k);
  }
}

/** A session as the API shows it. */
export function sessionView(s: SessionInfo): SessionView {
  return {
    id: s.id,
    protocol: s.protocol,
    remoteAddress: s.remoteAddress,
    path: s.path ?? null,
    role: s.role,
    state: s.state,
    since: new Date(s.since).toISOString(),
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    packetsOut: s.packetsOut,
  };
}

/** A relay as the API shows it. */
export function relayView(r: RelayState): RelayView {
  return {
    path: r.path,
    kind: r.kind,
    url: r.url,
    state: r.status,
    lastError: r.lastError ?? null,
    since: new Date(r.since).toISOString(),
    attempts: r.attempts,
  };
}

/** Every session of every server. */
export function allSessions(sources: ApiSources): SessionInfo[] {
  return sources.servers().flatMap((s) => s.sessionList());
}

/** Sessions grouped by path. */
function byPath(sessions: SessionInfo[]): Map<string, SessionInfo[]> {
  const out = new Map<string, SessionInfo[]>();
  for (const s of sessions) {
    if (s.path === undefined) continue;
    let list = out.get(s.path);
    if (list === undefined) out.set(s.path, list = []);
    list.push(s);
  }
  return out;
}

/** Builds path views from one look at the hub and the servers. */
export class PathViews {
  readonly #sources: ApiSources;
  readonly #rates: Rates;
  readonly #sessions: Map<string, SessionInfo[]>;
  readonly #now: number;

  constructor(sources: ApiSources, rates: Rates, now = Date.now()) {
    this.#sources = sources;
    this.#rates = rates;
    // one rate per live stream: those of streams that ended go
    rates.prune(new Set(sources.hub.streams().map((s) => s.path)));
    this.#sessions = byPath(allSessions(sources));
    this.#now = now;
  }

  /** Live and configured path names, sorted; regular-expression names (`~…`) left out. */
  names(): string[] {
    const names = new Set(this.#sources.hub.streams().map((s) => s.path));
    for (const name of Object.keys(this.#sources.config().paths)) {
      if (!name.startsWith("~") && name !== "all") names.add(name);
    }
    return [...names].sort();
  }

  /** The summary of `name`. */
  summary(name: string): PathSummaryView {
    const stream = this.#sources.hub.stream(name);
    const publisher = this.#publisherSession(name);
    const bytesIn = stream?.stats.bytesIn ?? 0;
    return {
      name,
      ready: this.#sources.hub.hasPublisher(name),
      configured: name in this.#sources.config().paths,
      codecs: stream?.tracks.map((t) => t.codec) ?? [],
      readers: stream?.readers ?? 0,
      bytesIn,
      bitrate: stream === undefined
        ? 0
        : this.#rates.rate(name, bytesIn, this.#now, publisher?.since),
    };
  }

  /** The whole view of `name`, or `undefined` when it is neither live nor configured. */
  detail(name: string): PathView | undefined {
    const stream = this.#sources.hub.stream(name);
    if (stream === undefined && !(name in this.#sources.config().paths)) {
      return undefined;
    }
    const summary = this.summary(name);
    const readers = (this.#sessions.get(name) ?? []).filter((s) =>
      s.role === "reader"
    );
    return {
      ...summary,
      tracks: stream?.tracks.map(trackView) ?? [],
      publisher: stream === undefined || !summary.ready
        ? null
        : this.#publisher(name, stream, summary.bitrate),
      readerSessions: readers.map(sessionView),
      framesIn: stream?.stats.framesIn ?? 0,
      readerDrops: stream?.stats.readerDrops ?? 0,
      readersDropped: stream?.stats.readersDropped ?? 0,
    };
  }

  #publisherSession(name: string): SessionInfo | undefined {
    return this.#sessions.get(name)?.find((s) => s.role === "publisher");
  }

  #publisher(name: string, stream: Stream, bitrate: number): PublisherView {
    const s = this.#publisherSession(name);
    if (s !== undefined) {
      return {
        protocol: s.protocol,
        remoteAddress: s.remoteAddress,
        sessionId: s.id,
        since: new Date(s.since).toISOString(),
        bytesIn: stream.stats.bytesIn,
        bitrate,
      };
    }
    const relay = this.#sources.relays().find((r) =>
      r.path === name && (r.kind === "pull" || r.kind === "registered")
    );
    return {
      protocol: relay?.kind ?? "unknown",
      remoteAddress: relay?.url ?? "",
      sessionId: null,
      since: relay === undefined ? null : new Date(relay.since).toISOString(),
      bytesIn: stream.stats.bytesIn,
      bitrate,
    };
  }
}
