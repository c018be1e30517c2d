/**
 * Relays: paths whose stream is pulled from a camera or another server
 * (`source`, always or on demand), and paths republished to other servers
 * (`push`). Each relay reconnects with backoff and shows its state; how one
 * pull or push connects is in `pull.ts` and `push.ts`.
 *
 * @module
 */

import type { RtspTransportChoice } from "../client/rtsp/client.ts";
import type { EventBus } from "../events/events.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log.ts";
import type {
  Connected,
  RelayHandle,
  RelayState,
  RelayStatus,
} from "./_relay.ts";
import { redact, relayLoop } from "./_relay.ts";
import { connectPull } from "./pull.ts";
import { connectPush } from "./push.ts";
import { readPemFile } from "../net/tls.ts";
import { connectRegister, type RegisterServer } from "./register.ts";

export type { RelayState, RelayStatus } from "./_relay.ts";

/** The per-path keys relays read. */
export interface RelayPathConfig {
  /** The `rtsp[s]://` or `rtmp[s]://` URL the path's stream is pulled from. */
  source?: string;
  /** Pull only while readers want the path. @default {false} */
  sourceOnDemand?: boolean;
  /** An on-demand pull stops after this many ms without readers. @default {10000} */
  sourceOnDemandCloseAfter?: number;
  /** How an RTSP source sends its media. @default {"automatic"} */
  rtspTransport?: RtspTransportChoice;
  /** URLs the path is republished to while it has a publisher. */
  push?: string[];
  /** PEM file of certificates trusted for `rtsps://`, `rtspsh://` and `rtmps://` (read at each connect). */
  tlsCA?: string;
  /**
   * `rtsp://[user:pass@]host[:port][/name]`: while the path has a
   * publisher, REGISTER it at that server over our own connection and
   * serve it there (live555's REGISTER proxying, for a Sluice behind NAT).
   */
  register?: string;
}

/** Options of {@link Relays}. */
export interface RelaysOptions {
  /** Where pulls publish and pushes read. */
  hub: Pick<Hub, "publish" | "stream" | "hasPublisher">;
  /** The configured paths; those without relay keys are left alone. */
  paths: Readonly<Record<string, RelayPathConfig | null | undefined>>;
  /** Every state change is one line here. */
  log: Logger;
  /** Every state change is a `relay.state` event here too. */
  events?: Pick<EventBus, "emit">;
  /** Every step of a relay's connection must finish within this. @default {10000} */
  timeoutMs?: number;
  /** First retry delay; it doubles up to {@link RelaysOptions.maxBackoffMs}. @default {1000} */
  backoffMs?: number;
  /** The longest retry delay. @default {30000} */
  maxBackoffMs?: number;
  /** Our RTSP server, which serves registered paths; `register` keys need it. */
  rtsp?: RegisterServer;
}

const TICK_MS = 1000;
const DEFAULT_CLOSE_AFTER_MS = 10_000;

/** One pull or push, across its connections. */
interface Relay extends RelayHandle {
  stopped: boolean;
  /** Ends the backoff wait at once, so a stopped relay's loop returns. */
  wake?: () => void;
  /** On-demand pull: when the path last had readers, and whether it had some at the last tick. */
  lastReaderMs: number;
  hadReaders: boolean;
}

/** Runs every relay the configuration names. */
export class Relays {
  readonly #o: RelaysOptions;
  /** The paths in force: {@link Relays.reconfigure} replaces them. */
  #paths: RelaysOptions["paths"];
  readonly #pulls = new Map<string, Relay>();
  readonly #pushes = new Map<string, Relay[]>();
  readonly #registers = new Map<string, Relay>();
  #tick: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Relays of `options.paths`; none runs before {@link Relays.start}. */
  constructor(options: RelaysOptions) {
    this.#o = options;
    this.#paths = options.paths;
  }

  /** Starts the always-on pulls and the watch for publishers to push. */
  start(): void {
    for (const [path, cfg] of Object.entries(this.#paths)) {
      if (cfg?.source !== undefined && cfg.sourceOnDemand !== true) {
        this.#startPull(path, cfg);
      }
    }
    this.#tick = setInterval(() => this.#onTick(Date.now()), TICK_MS);
  }

  /**
   * Takes new path settings (a reload): the relays of each path in `changed`
   * stop, and its always-on source starts again from the new settings;
   * pushes and registrations come back on the next tick while the path has
   * a publisher, on-demand sources when a reader asks. Relays of other
   * paths are left running.
   */
  reconfigure(
    paths: RelaysOptions["paths"],
    changed: Iterable<string>,
  ): void {
    this.#paths = paths;
    if (this.#closed) return;
    for (const path of changed) {
      const pull = this.#pulls.get(path);
      if (pull !== undefined) this.#stop(pull);
      this.#pulls.delete(path);
      for (const r of this.#pushes.get(path) ?? []) this.#stop(r);
      this.#pushes.delete(path);
      const register = this.#registers.get(path);
      if (register !== undefined) this.#stop(register);
      this.#registers.delete(path);
      const cfg = paths[path];
      if (cfg?.source !== undefined && cfg.sourceOnDemand !== true) {
        this.#startPull(path, cfg);
      }
    }
  }

  /** A reader waits for `path`: start its on-demand source, if it has one. */
  onDemand(path: string): void {
    const cfg = this.#paths[path];
    if (
      this.#closed || cfg?.source === undefined ||
      cfg.sourceOnDemand !== true || this.#pulls.has(path)
    ) return;
    this.#o.log.info("starting on-demand source", { path });
    this.#startPull(path, cfg);
  }

  /** Every relay's state. */
  states(): RelayState[] {
    const all = [
      ...this.#pulls.values(),
      ...[...this.#pushes.values()].flat(),
      ...this.#registers.values(),
    ];
    return all.map((r) => ({ ...r.state }));
  }

  /** Stops every relay. */
  close(): void {
    this.#closed = true;
    if (this.#tick !== undefined) clearInterval(this.#tick);
    for (const r of this.#pulls.values()) this.#stop(r);
    for (const r of [...this.#pushes.values()].flat()) this.#stop(r);
    for (const r of this.#registers.values()) this.#stop(r);
    this.#pulls.clear();
    this.#pushes.clear();
    this.#registers.clear();
  }

  #onTick(now: number): void {
    // On-demand pulls end once nobody has read them for a while.
    for (const [path, r] of this.#pulls) {
      const cfg = this.#paths[path];
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
    for (const [path, cfg] of Object.entries(this.#paths)) {
      if (cfg?.push === undefined || cfg.push.length === 0) continue;
      const live = this.#o.hub.hasPublisher(path);
      const running = this.#pushes.get(path);
      if (live && running === undefined) {
        const started = cfg.push.map((url) =>
          this.#startPush(path, url, cfg.tlsCA)
        );
        this.#pushes.set(path, started);
      } else if (!live && running !== undefined) {
        for (const r of running) this.#stop(r);
        this.#pushes.delete(path);
      }
    }
    this.#tickRegisters();
  }

  /** Registrations run while their path has a publisher, like pushes. */
  #tickRegisters(): void {
    const server = this.#o.rtsp;
    for (const [path, cfg] of Object.entries(this.#paths)) {
      if (cfg?.register === undefined) continue;
      const live = this.#o.hub.hasPublisher(path);
      const running = this.#registers.get(path);
      if (live && running === undefined) {
        const r = this.#newRelay(path, "register", cfg.register);
        this.#registers.set(path, r);
        if (server === undefined) {
          r.stopped = true;
          this.#set(r, "idle", new Error("register needs the RTSP server on"));
          continue;
        }
        const url = cfg.register;
        void this.#loop(
          r,
          () =>
            connectRegister(r, url, { server, timeoutMs: this.#o.timeoutMs }),
        );
      } else if (!live && running !== undefined) {
        this.#stop(running);
        this.#registers.delete(path);
      }
    }
  }

  #newRelay(path: string, kind: RelayState["kind"], url: string): Relay {
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
      // Client errors may quote the URL they were given, credentials and all.
      r.state.lastError = redact(
        error instanceof Error ? error.message : String(error),
      );
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
    this.#o.events?.emit("relay.state", {
      path: r.state.path,
      kind: r.state.kind,
      url: r.state.url,
      status,
      ...(error ? { lastError: r.state.lastError } : {}),
    });
  }

  #stop(r: Relay): void {
    r.stopped = true;
    r.closeCurrent?.();
    r.wake?.();
    r.state.status = "idle";
  }

  /** Runs `connect` again and again with backoff until the relay is stopped. */
  #loop(r: Relay, connect: () => Promise<Connected>): Promise<void> {
    return relayLoop(r, connect, {
      backoffMs: this.#o.backoffMs,
      maxBackoffMs: this.#o.maxBackoffMs,
      set: (status, error) => this.#set(r, status, error),
    });
  }

  #startPull(path: string, cfg: RelayPathConfig): void {
    const url = cfg.source!;
    const r = this.#newRelay(path, "pull", url);
    this.#pulls.set(path, r);
    void this.#loop(r, () =>
      connectPull(r, url, {
        hub: this.#o.hub,
        log: this.#o.log,
        timeoutMs: this.#o.timeoutMs,
        rtspTransport: cfg.rtspTransport,
        caCerts: trusted(cfg.tlsCA),
      }));
  }

  #startPush(path: string, url: string, tlsCA: string | undefined): Relay {
    const r = this.#newRelay(path, "push", url);
    void this.#loop(r, () =>
      connectPush(r, url, {
        hub: this.#o.hub,
        timeoutMs: this.#o.timeoutMs,
        caCerts: trusted(tlsCA),
      }));
    return r;
  }
}

/**
 * The certificates a path's `tlsCA` file holds, read at each connect (so a
 * renewed file is picked up); a file that cannot be read fails that
 * connect, and the relay retries.
 */
function trusted(file: string | undefined): string[] | undefined {
  return file === undefined ? undefined : [readPemFile(file, "tlsCA")];
}
