/**
 * Relays: paths whose stream is pulled from a camera or another server
 * (`source`, always or on demand), and paths republished to other servers
 * (`push`). Each relay reconnects with backoff and shows its state.
 *
 * @module
 */

import { RtmpClient } from "../client/rtmp.ts";
import { RtspClient, type RtspTransportChoice } from "../client/rtsp/client.ts";
import type { Hub, Publisher } from "../hub/hub.ts";
import { FlvOutput, type FlvReader } from "../egress/flv_output.ts";
import type { Stream } from "../hub/stream.ts";
import type { Logger } from "../log.ts";
import { RtmpInput } from "../ingest/rtmp_input.ts";

/** The per-path keys relays read. */
export interface RelayPathConfig {
  source?: string;
  sourceOnDemand?: boolean;
  sourceOnDemandCloseAfter?: number;
  rtspTransport?: RtspTransportChoice;
  push?: string[];
}

/** What a relay is doing now. */
export type RelayStatus = "idle" | "connecting" | "running" | "retrying";

/** A relay's state, for logs and the API. */
export interface RelayState {
  path: string;
  kind: "pull" | "push";
  /** The remote URL, without credentials. */
  url: string;
  status: RelayStatus;
  lastError?: string;
  /** When the status last changed (ms since the epoch). */
  since: number;
  /** Connections made so far. */
  attempts: number;
}

/** Options of {@link Relays}. */
export interface RelaysOptions {
  hub: Pick<Hub, "publish" | "stream" | "hasPublisher">;
  paths: Readonly<Record<string, RelayPathConfig | null | undefined>>;
  log: Logger;
  /** Every step of a relay's connection must finish within this. @default {10000} */
  timeoutMs?: number;
  /** First retry delay; it doubles up to {@link RelaysOptions.maxBackoffMs}. @default {1000} */
  backoffMs?: number;
  /** @default {30000} */
  maxBackoffMs?: number;
}

const TICK_MS = 1000;

/** A relay's connection once it runs; `ended` settles when it stops (wrapped: `await` would flatten a bare promise). */
interface Connected {
  ended: Promise<void>;
}
const DEFAULT_CLOSE_AFTER_MS = 10_000;

interface Relay {
  state: RelayState;
  stopped: boolean;
  /** Closes the current connection (the loop then retries unless stopped). */
  closeCurrent?: () => void;
  wake?: () => void;
  /** On-demand pull: when the path last had readers, and whether it had some at the last tick. */
  lastReaderMs: number;
  hadReaders: boolean;
}

/** Runs every relay the configuration names. */
export class Relays {
  readonly #o: RelaysOptions;
  readonly #pulls = new Map<string, Relay>();
  readonly #pushes = new Map<string, Relay[]>();
  #tick: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: RelaysOptions) {
    this.#o = options;
  }

  /** Starts the always-on pulls and the watch for publishers to push. */
  start(): void {
    for (const [path, cfg] of Object.entries(this.#o.paths)) {
      if (cfg?.source !== undefined && cfg.sourceOnDemand !== true) {
        this.#startPull(path, cfg);
      }
    }
    this.#tick = setInterval(() => this.#onTick(Date.now()), TICK_MS);
  }

  /** A reader waits for `path`: start its on-demand source, if it has one. */
  onDemand(path: string): void {
    const cfg = this.#o.paths[path];
    if (
      this.#closed || cfg?.source === undefined ||
      cfg.sourceOnDemand !== true || this.#pulls.has(path)
    ) return;
    this.#o.log.info("starting on-demand source", { path });
    this.#startPull(path, cfg);
  }

  /** Every relay's state. */
  states(): RelayState[] {
    return [...this.#pulls.values(), ...[...this.#pushes.values()].flat()].map((
      r,
    ) => ({ ...r.state }));
  }

  /** Stops every relay. */
  close(): void {
    this.#closed = true;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    for (const r of this.#pulls.values()) this.#stop(r);
    for (const list of this.#pushes.values()) {
      for (const r of list) this.#stop(r);
    }
    this.#pulls.clear();
    this.#pushes.clear();
  }

  #onTick(now: number): void {
    // On-demand pulls end once nobody has read them for a while.
    for (const [path, r] of this.#pulls) {
      const cfg = this.#o.paths[path];
      if (cfg?.sourceOnDemand !== true) continue;
      const readers = this.#o.hub.stream(path)?.readers ?? 0;
      // Count from the first tick without readers, so the pull never stops early.
      if (readers > 0 || r.state.status === "connecting" || r.hadReaders) {
        r.lastReaderMs = now;
      }
      r.hadReaders = readers > 0;
      if (readers > 0 || r.state.status === "connecting") continue;
      if (
        now - r.lastReaderMs >
          (cfg.sourceOnDemandCloseAfter ?? DEFAULT_CLOSE_AFTER_MS)
      ) {
        this.#o.log.info("stopping on-demand source: no readers", { path });
        this.#stop(r);
        this.#pulls.delete(path);
      }
    }
    // Pushes run while their path has a publisher.
    for (const [path, cfg] of Object.entries(this.#o.paths)) {
      if (cfg?.push === undefined || cfg.push.length === 0) continue;
      const live = this.#o.hub.hasPublisher(path);
      const running = this.#pushes.get(path);
      if (live && running === undefined) {
        this.#pushes.set(
          path,
          cfg.push.map((url) => this.#startPush(path, url)),
        );
      } else if (!live && running !== undefined) {
        for (const r of running) this.#stop(r);
        this.#pushes.delete(path);
      }
    }
  }

  #newRelay(path: string, kind: "pull" | "push", url: string): Relay {
    return {
      state: {
        path,
        kind,
        url: redact(url),
        status: "idle",
        since: Date.now(),
        attempts: 0,
      },
      stopped: false,
      lastReaderMs: Date.now(),
      hadReaders: false,
    };
  }

  #set(r: Relay, status: RelayStatus, error?: unknown): void {
    r.state.status = status;
    r.state.since = Date.now();
    if (error !== undefined) {
      r.state.lastError = error instanceof Error
        ? error.message
        : String(error);
    }
    const fields = {
      path: r.state.path,
      url: r.state.url,
      status,
      ...(error ? { error: r.state.lastError } : {}),
    };
    if (status === "retrying") {
      this.#o.log.warn(`${r.state.kind} relay failed`, fields);
    } else this.#o.log.info(`${r.state.kind} relay ${status}`, fields);
  }

  #stop(r: Relay): void {
    r.stopped = true;
    r.closeCurrent?.();
    r.wake?.();
    r.state.status = "idle";
  }

  /** Runs `connect` again and again with backoff until the relay is stopped. */
  async #loop(r: Relay, connect: () => Promise<Connected>): Promise<void> {
    let backoff = this.#o.backoffMs ?? 1000;
    while (!r.stopped) {
      r.state.attempts++;
      this.#set(r, "connecting");
      let failure: unknown;
      try {
        const { ended } = await connect();
        if (r.stopped) break;
        this.#set(r, "running");
        backoff = this.#o.backoffMs ?? 1000;
        await ended;
        failure = new Error("the remote side ended the stream");
      } catch (e) {
        failure = e;
      }
      r.closeCurrent?.();
      if (r.stopped) break;
      this.#set(r, "retrying", failure);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff);
        r.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 30_000);
    }
  }

  // ---- pull ----

  #startPull(path: string, cfg: RelayPathConfig): void {
    const url = cfg.source!;
    const r = this.#newRelay(path, "pull", url);
    this.#pulls.set(path, r);
    void this.#loop(
      r,
      () => (url.startsWith("rtmp://")
        ? this.#pullRtmp(r, url)
        : this.#pullRtsp(r, url, cfg)),
    );
  }

  /** The path's publisher for a pull; a takeover by a real publisher stops the relay's turn. */
  #publisher(r: Relay): Publisher {
    return this.#o.hub.publish(r.state.path, {
      overridePublisher: true,
      onTakenOver: () => r.closeCurrent?.(),
    });
  }

  async #pullRtsp(
    r: Relay,
    url: string,
    cfg: RelayPathConfig,
  ): Promise<Connected> {
    const timeoutMs = this.#o.timeoutMs ?? 10_000;
    let transport = cfg.rtspTransport ?? "automatic";
    for (;;) {
      const client = await RtspClient.open(url, { transport, timeoutMs });
      let publisher: Publisher | undefined;
      const ended = new Promise<void>((resolve) => {
        r.closeCurrent = () => {
          client.close();
          publisher?.close();
          resolve();
        };
      });
      try {
        const description = await client.describe();
        publisher = this.#publisher(r);
        await client.play(description, publisher, {
          onEnd: (e) => {
            publisher?.close();
            r.closeCurrent?.();
            if (e) r.state.lastError = e.message;
          },
        });
        this.#o.log.info("pulling", {
          path: r.state.path,
          transport: client.transport,
        });
        return { ended };
      } catch (e) {
        r.closeCurrent?.();
        // UDP blocked: no RTP within a few seconds means TCP, on a new connection
        // (some cameras need DESCRIBE again before switching transport).
        if (transport === "automatic" && client.transport === "udp") {
          this.#o.log.info("no RTP over UDP: switching to TCP", {
            path: r.state.path,
          });
          transport = "tcp";
          continue;
        }
        throw e;
      }
    }
  }

  async #pullRtmp(r: Relay, url: string): Promise<Connected> {
    const client = await RtmpClient.connect(url, {
      timeoutMs: this.#o.timeoutMs ?? 10_000,
    });
    r.closeCurrent = () => client.close();
    await client.play();
    const publisher = this.#publisher(r);
    r.closeCurrent = () => {
      client.close();
      publisher.close();
    };
    const ingest = new RtmpInput(publisher);
    const ended = (async () => {
      for await (const m of client.messages()) ingest.push(m);
    })().finally(() => publisher.close());
    return { ended };
  }

  // ---- push ----

  #startPush(path: string, url: string): Relay {
    const r = this.#newRelay(path, "push", url);
    void this.#loop(
      r,
      () => (url.startsWith("rtmp://")
        ? this.#pushRtmp(r, url)
        : this.#pushRtsp(r, url)),
    );
    return r;
  }

  #stream(r: Relay): Stream {
    const stream = this.#o.hub.stream(r.state.path);
    if (stream === undefined) throw new Error("the path has no stream");
    return stream;
  }

  async #pushRtsp(r: Relay, url: string): Promise<Connected> {
    const stream = this.#stream(r);
    const client = await RtspClient.open(url, {
      transport: "automatic",
      timeoutMs: this.#o.timeoutMs ?? 10_000,
    });
    const ended = new Promise<void>((resolve) => {
      r.closeCurrent = () => {
        client.close();
        resolve();
      };
    });
    try {
      await client.record(stream, { onEnd: () => r.closeCurrent?.() });
    } catch (e) {
      r.closeCurrent?.();
      throw e;
    }
    return { ended };
  }

  async #pushRtmp(r: Relay, url: string): Promise<Connected> {
    const stream = this.#stream(r);
    const client = await RtmpClient.connect(url, {
      timeoutMs: this.#o.timeoutMs ?? 10_000,
    });
    r.closeCurrent = () => client.close();
    await client.publish();
    // Every push with the same chunk size and stream id shares one output.
    const output = stream.output<FlvOutput>(
      `rtmp-push:${client.chunkSize}:${client.streamId}`,
      (cached) =>
        new FlvOutput(cached, {
          chunkSize: client.chunkSize,
          streamId: client.streamId,
          metadataCommand: "@setDataFrame",
        }),
    );
    const reader: FlvReader = {
      queue: client.queue,
      onEnd: () => r.closeCurrent?.(),
    };
    output.addReader(reader);
    const ended = new Promise<void>((resolve) => {
      r.closeCurrent = () => {
        client.close();
        output.removeReader(reader);
        stream.pruneOutputs();
        resolve();
      };
    });
    void (async () => {
      for await (const _ of client.messages()); // the server's acks and pings; ends when it goes
      r.closeCurrent?.();
    })();
    return { ended };
  }
}

/** A URL without its user name and password, for logs and the API. */
function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1");
}
