/**
 * Prometheus metrics at `/metrics` (prom-client): per path and protocol,
 * read from the hub, the servers and the relays at each scrape, so nothing
 * is counted twice and the media path pays nothing for them.
 *
 * @module
 */

import client from "prom-client";
import type { Inspectors } from "./inspector.ts";
import type { SessionInfo } from "../server/session_info.ts";
import { allSessions, type ApiSources } from "./views.ts";

/** Totals a server keeps since it started. */
export interface ServerCounters {
  protocol: string;
  connections: number;
}

/** What {@link Metrics} reads besides {@link ApiSources}. */
export interface MetricsSources extends ApiSources {
  /** Connections each server accepted so far. */
  counters?: () => ServerCounters[];
  /** Measured numbers of inspected paths. */
  inspectors?: Inspectors;
}

/** What a scrape already counted of a live session. */
interface SentSeen {
  bytes: number;
  packets: number;
  /** Its time to first frame was observed. */
  firstFrame: boolean;
}

/** How often the event-loop lag is sampled (ms). */
const LAG_SAMPLE_MS = 250;

/** The registry and its metrics. */
export class Metrics {
  readonly registry = new client.Registry();
  readonly #sources: MetricsSources;
  readonly #c;
  /** Bytes out already counted per live session. */
  #sentSeen = new Map<string, SentSeen>();
  /** Label sets of `sluice_bytes_out_total`, removed when their path goes. */
  readonly #sentLabels = new Map<string, { path: string; protocol: string }>();
  /** Publishers per path whose time to first frame was observed. */
  readonly #firstFrameSeen = new Map<string, number>();
  #lagMaxMs = 0;
  readonly #lagTimer: ReturnType<typeof setInterval>;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[]) =>
      new client.Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new client.Gauge({ name, help, labelNames, registers });
    this.#c = {
      connections: counter(
        "sluice_connections_total",
        "Connections accepted, per protocol",
        ["protocol"],
      ),
      sessions: gauge("sluice_sessions", "Open connections", [
        "protocol",
        "role",
      ]),
      publishers: gauge("sluice_publishers", "Publishers now", [
        "path",
        "protocol",
      ]),
      readers: gauge("sluice_readers", "Readers now", ["path", "protocol"]),
      bytesIn: counter(
        "sluice_bytes_in_total",
        "Media bytes received, per path",
        ["path"],
      ),
      framesIn: counter(
        "sluice_frames_in_total",
        "Frames received, per path",
        ["path"],
      ),
      bytesOut: counter(
        "sluice_bytes_out_total",
        "Bytes written to peers, per path and protocol",
        ["path", "protocol"],
      ),
      packetsOut: counter(
        "sluice_media_packets_out_total",
        "Media packets queued to readers: one per frame for RTMP and HTTP-FLV, RTP packets for RTSP over TCP",
        ["path", "protocol"],
      ),
      framesDropped: counter(
        "sluice_frames_dropped_total",
        "Frames (packets) skipped for readers that fell behind",
        ["path", "protocol"],
      ),
      readersDropped: counter(
        "sluice_readers_dropped_total",
        "Readers disconnected because they stayed behind",
        ["path", "protocol"],
      ),
      relayState: gauge(
        "sluice_relay_state",
        "1 for the state each relay is in",
        ["path", "kind", "state"],
      ),
      relayRestarts: counter(
        "sluice_relay_restarts_total",
        "Connections a relay made after its first",
        ["path", "kind"],
      ),
      authFailures: counter(
        "sluice_auth_failures_total",
        "Requests refused for missing or wrong credentials",
        ["protocol"],
      ),
      readerFirstFrame: new client.Histogram({
        name: "sluice_time_to_first_frame_seconds",
        help:
          "From a reader's connection to its first media frame queued, per protocol",
        labelNames: ["protocol"],
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        registers,
      }),
      firstFrame: new client.Histogram({
        name: "sluice_publisher_first_frame_seconds",
        help:
          "From a publisher's start to its first frame delivered (a keyframe)",
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        registers,
      }),
      memory: gauge("sluice_process_memory_bytes", "Process memory", [
        "kind",
      ]),
      lag: gauge(
        "sluice_event_loop_lag_seconds",
        "Largest event-loop delay since the last scrape",
      ),
      fps: gauge(
        "sluice_inspect_fps",
        "Frames per second received (inspected paths)",
        ["path", "track"],
      ),
      bitrate: gauge(
        "sluice_inspect_bitrate_bits_per_second",
        "Bitrate over the inspector's window (inspected paths)",
        ["path", "track"],
      ),
      gop: gauge(
        "sluice_inspect_gop_seconds",
        "Mean keyframe interval (inspected paths)",
        ["path", "track"],
      ),
      jitter: gauge(
        "sluice_inspect_jitter_seconds",
        "Timestamp jitter against arrival (inspected paths)",
        ["path", "track"],
      ),
    };
    let expected = performance.now() + LAG_SAMPLE_MS;
    this.#lagTimer = setInterval(() => {
      const now = performance.now();
      this.#lagMaxMs = Math.max(this.#lagMaxMs, now - expected);
      expected = now + LAG_SAMPLE_MS;
    }, LAG_SAMPLE_MS);
    Deno.unrefTimer(this.#lagTimer);
  }

  /** Counts a request refused for its credentials (any protocol). */
  countAuthFailure(protocol: string): void {
    this.#c.authFailures.inc({ protocol });
  }

  /** The text exposition, read fresh from the sources. */
  async text(): Promise<string> {
    this.#update();
    return await this.registry.metrics();
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops the lag sampler. */
  close(): void {
    clearInterval(this.#lagTimer);
  }

  /**
   * Sessions now and those closed since the last scrape: gauges, bytes and
   * packets out since last seen, and each reader's time to first frame once.
   */
  #sessions(): void {
    const c = this.#c;
    for (const g of [c.sessions, c.publishers, c.readers]) g.reset();
    const count = (x: SessionInfo) => {
      if (x.path === undefined) return;
      const labels = { path: x.path, protocol: x.protocol };
      const seen = this.#sentSeen.get(x.id);
      const bytes = x.bytesOut - (seen?.bytes ?? 0);
      if (bytes > 0) c.bytesOut.inc(labels, bytes);
      const packets = x.packetsOut - (seen?.packets ?? 0);
      if (packets > 0) c.packetsOut.inc(labels, packets);
      this.#sentLabels.set(`${x.protocol} ${x.path}`, labels);
      if (x.firstFrameMs !== undefined && !seen?.firstFrame) {
        c.readerFirstFrame.observe(
          { protocol: x.protocol },
          x.firstFrameMs / 1000,
        );
      }
    };
    for (const server of this.#sources.servers()) {
      for (const x of server.drainClosed()) {
        count(x);
        this.#sentSeen.delete(x.id);
      }
    }
    const sent = new Map<string, SentSeen>();
    for (const x of allSessions(this.#sources)) {
      c.sessions.inc({ protocol: x.protocol, role: x.role });
      if (x.path !== undefined) {
        const labels = { path: x.path, protocol: x.protocol };
        if (x.role === "publisher") c.publishers.inc(labels);
        if (x.role === "reader") c.readers.inc(labels);
      }
      count(x);
      sent.set(x.id, {
        bytes: x.bytesOut,
        packets: x.packetsOut,
        firstFrame: x.firstFrameMs !== undefined,
      });
    }
    this.#sentSeen = sent;
  }

  #update(): void {
    const c = this.#c;
    const s = this.#sources;
    c.connections.reset();
    for (const k of s.counters?.() ?? []) {
      c.connections.inc({ protocol: k.protocol }, k.connections);
    }
    this.#sessions();
    const paths = new Set(s.hub.streams().map((x) => x.path));
    for (const [key, labels] of this.#sentLabels) {
      if (paths.has(labels.path)) continue;
      c.bytesOut.remove(labels);
      c.packetsOut.remove(labels);
      this.#sentLabels.delete(key);
    }
    for (
      const g of [c.bytesIn, c.framesIn, c.framesDropped, c.readersDropped]
    ) {
      g.reset();
    }
    const live = new Set<string>();
    for (const stream of s.hub.streams()) {
      const path = stream.path;
      live.add(path);
      c.bytesIn.inc({ path }, stream.stats.bytesIn);
      c.framesIn.inc({ path }, stream.stats.framesIn);
      for (const [protocol, d] of Object.entries(stream.stats.byProtocol)) {
        c.framesDropped.inc({ path, protocol }, d.readerDrops);
        c.readersDropped.inc({ path, protocol }, d.readersDropped);
      }
      const ms = stream.stats.firstFrameMs;
      const seen = this.#firstFrameSeen.get(path);
      if (ms !== undefined && seen !== stream.stats.publishers) {
        c.firstFrame.observe(ms / 1000);
        this.#firstFrameSeen.set(path, stream.stats.publishers);
      }
    }
    for (const p of this.#firstFrameSeen.keys()) {
      if (!live.has(p)) this.#firstFrameSeen.delete(p);
    }
    c.relayState.reset();
    c.relayRestarts.reset();
    for (const r of s.relays()) {
      c.relayState.set({ path: r.path, kind: r.kind, state: r.status }, 1);
      c.relayRestarts.inc(
        { path: r.path, kind: r.kind },
        Math.max(0, r.attempts - 1),
      );
    }
    const mem = Deno.memoryUsage();
    c.memory.set({ kind: "rss" }, mem.rss);
    c.memory.set({ kind: "heap_used" }, mem.heapUsed);
    c.memory.set({ kind: "heap_total" }, mem.heapTotal);
    c.memory.set({ kind: "external" }, mem.external);
    c.lag.set(this.#lagMaxMs / 1000);
    this.#lagMaxMs = 0;
    for (const g of [c.fps, c.bitrate, c.gop, c.jitter]) g.reset();
    for (const view of s.inspectors?.measured() ?? []) {
      for (const t of view.tracks) {
        const labels = { path: view.path, track: String(t.track.id) };
        c.fps.set(labels, t.fpsReceived);
        c.bitrate.set(labels, t.bitrate);
        c.jitter.set(labels, t.jitterMs / 1000);
        if (t.gop !== undefined) c.gop.set(labels, t.gop.meanSeconds);
      }
    }
  }
}
