/**
 * What the dashboard shows, as one JSON document: every live or configured
 * path with its tracks, publisher, readers, bitrate and frame rate, the URLs
 * to play it, and every relay with its state. The REST API may serve the
 * same figures from {@link DashboardSampler.snapshot}.
 *
 * Rates are measured between snapshots at least {@link MIN_WINDOW_MS} apart,
 * from the stream's counters: nothing is counted per frame for the
 * dashboard, and nothing runs while nobody looks.
 *
 * @module
 */

import type { Stream } from "../../hub/stream.ts";

/** One relay as the dashboard shows it (the relay layer's `RelayState`). */
export interface DashboardRelay {
  path: string;
  kind: string;
  url: string;
  status: string;
  lastError?: string;
  since: number;
  attempts: number;
}

/** One track: codec and picture size, or sample rate and channels. */
export interface DashboardTrack {
  kind: "video" | "audio";
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/** One path. */
export interface DashboardPath {
  name: string;
  /** Whether a publisher or a source sends to it now. */
  live: boolean;
  /** Whether the path is in the configuration. */
  configured: boolean;
  tracks: DashboardTrack[];
  readers: number;
  bytesIn: number;
  framesIn: number;
  /** Bits per second received over the last window; 0 before two snapshots. */
  bitrate: number;
  /** Frames (all tracks) per second received over the last window. */
  frameRate: number;
  /** Packets dropped for readers that fell behind, and readers dropped. */
  readerDrops: number;
  readersDropped: number;
  /** Copy-ready URLs, for the host the page was asked from. */
  urls: Record<string, string>;
}

/** The whole dashboard document. */
export interface DashboardSnapshot {
  /** Milliseconds since the epoch. */
  time: number;
  paths: DashboardPath[];
  relays: DashboardRelay[];
}

/** What the sampler reads; `sluice.ts` wires the real ones. */
export interface DashboardSource {
  hub: { streams(): Stream[]; hasPublisher(path: string): boolean };
  relays: { states(): DashboardRelay[] };
  /** The configured path names. */
  paths(): string[];
  /** Ports bound, `undefined` when that server is off. */
  ports(): { rtmp?: number; rtsp?: number; http?: number };
}

/** Rates are measured over at least this long. */
export const MIN_WINDOW_MS = 1000;

interface Sample {
  at: number;
  bytes: number;
  frames: number;
  bitrate: number;
  frameRate: number;
}

/** Builds {@link DashboardSnapshot}s, keeping the last counters of each stream for its rates. */
export class DashboardSampler {
  readonly #source: DashboardSource;
  readonly #now: () => number;
  readonly #samples = new WeakMap<Stream, Sample>();

  constructor(source: DashboardSource, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
  }

  /** Everything the dashboard shows, URLs built for `host` (a hostname, IPv6 in brackets). */
  snapshot(host: string): DashboardSnapshot {
    const now = this.#now();
    const { hub } = this.#source;
    const configured = new Set(this.#source.paths());
    const ports = this.#source.ports();
    const paths: DashboardPath[] = [];
    const seen = new Set<string>();
    for (const stream of hub.streams()) {
      seen.add(stream.path);
      const rates = this.#rates(stream, now);
      paths.push({
        name: stream.path,
        live: hub.hasPublisher(stream.path),
        configured: configured.has(stream.path),
        tracks: stream.tracks.map((t) =>
          t.kind === "video"
            ? { kind: t.kind, codec: t.codec, width: t.width, height: t.height }
            : {
              kind: t.kind,
              codec: t.codec,
              sampleRate: t.sampleRate,
              channels: t.channels,
            }
        ),
        readers: stream.readers,
        bytesIn: stream.stats.bytesIn,
        framesIn: stream.stats.framesIn,
        ...rates,
        readerDrops: stream.stats.readerDrops,
        readersDropped: stream.stats.readersDropped,
        urls: urlsOf(stream.path, host, ports),
      });
    }
    for (const name of configured) {
      if (seen.has(name)) continue;
      paths.push({
        name,
        live: false,
        configured: true,
        tracks: [],
        readers: 0,
        bytesIn: 0,
        framesIn: 0,
        bitrate: 0,
        frameRate: 0,
        readerDrops: 0,
        readersDropped: 0,
        urls: urlsOf(name, host, ports),
      });
    }
    paths.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { time: now, paths, relays: this.#source.relays.states() };
  }

  #rates(stream: Stream, now: number): { bitrate: number; frameRate: number } {
    const { bytesIn, framesIn } = stream.stats;
    const last = this.#samples.get(stream);
    if (last === undefined) {
      this.#samples.set(stream, {
        at: now,
        bytes: bytesIn,
        frames: framesIn,
        bitrate: 0,
        frameRate: 0,
      });
      return { bitrate: 0, frameRate: 0 };
    }
    const elapsed = now - last.at;
    // Snapshots closer together (several browsers) keep the last window's rates.
    if (elapsed >= MIN_WINDOW_MS) {
      last.bitrate = Math.round((bytesIn - last.bytes) * 8000 / elapsed);
      last.frameRate = Math.round((framesIn - last.frames) * 10000 / elapsed) /
        10;
      last.at = now;
      last.bytes = bytesIn;
      last.frames = framesIn;
    }
    return { bitrate: last.bitrate, frameRate: last.frameRate };
  }
}

/** The URLs a player or encoder uses for `path` on `host`. */
export function urlsOf(
  path: string,
  host: string,
  ports: { rtmp?: number; rtsp?: number; http?: number },
): Record<string, string> {
  const urls: Record<string, string> = {};
  path = encodeURI(path);
  if (ports.rtmp !== undefined) {
    urls.rtmp = `rtmp://${host}:${ports.rtmp}/${path}`;
  }
  if (ports.rtsp !== undefined) {
    urls.rtsp = `rtsp://${host}:${ports.rtsp}/${path}`;
  }
  if (ports.http !== undefined) {
    urls.hls = `http://${host}:${ports.http}/${path}/index.m3u8`;
    urls.flv = `http://${host}:${ports.http}/${path}.flv`;
  }
  return urls;
}
