/**
 * The central side of REGISTER proxying: every stream another side
 * REGISTERed is pulled with Sluice's RTSP client and published on its
 * path, until DEREGISTER. Over a reused connection (the registering side
 * behind NAT) the pull lives as long as that connection; connecting out,
 * it retries with backoff like any pull.
 *
 * The RTSP server checks each request and its credentials
 * (`server/rtsp/register.ts`); this is the {@link Registrar} it calls.
 *
 * @module
 */

import { RtspClient } from "../client/rtsp/client.ts";
import type { Hub } from "../hub/hub.ts";
import type { Logger } from "../log.ts";
import { closeQuietly, type StreamConn } from "../net/tcp.ts";
import type { Registrar, Registration } from "../server/rtsp/context.ts";
import {
  DEFAULT_TIMEOUT_MS,
  type LoopRelay,
  redact,
  relayLoop,
  type RelayState,
  type RelayStatus,
} from "./_relay.ts";
import { playInto } from "./pull.ts";

/** Options of {@link Registrations}. */
export interface RegistrationsOptions {
  /** Where registered streams are published. */
  hub: Pick<Hub, "publish">;
  /** Every registration's state changes are logged here. */
  log: Logger;
  /** Every step of a pull must finish within this. @default {10000} */
  timeoutMs?: number;
  /**
   * How long a REGISTER that makes Sluice connect out waits for the URL to
   * answer OPTIONS before it is answered 504. @default {5000}
   */
  connectTimeoutMs?: number;
  /** First retry delay of a pull that connects out. @default {1000} */
  backoffMs?: number;
  /** The longest retry delay. @default {30000} */
  maxBackoffMs?: number;
}

/** A registered stream. */
interface Entry extends LoopRelay {
  readonly state: RelayState;
}

/** An error that names the RTSP status a REGISTER gets for it. */
class RegisterFailure extends Error {
  readonly status: 502 | 504;
  constructor(message: string, status: 502 | 504) {
    super(message);
    this.name = "RegisterFailure";
    this.status = status;
  }
}

/** The registered streams of one Sluice. */
export class Registrations implements Registrar {
  readonly #o: RegistrationsOptions;
  readonly #entries = new Map<string, Entry>();
  #closed = false;
  readonly stats = { registered: 0, deregistered: 0, refused: 0 };

  constructor(options: RegistrationsOptions) {
    this.#o = options;
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  get size(): number {
    return this.#entries.size;
  }

  register(reg: Registration): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new RegisterFailure("shutting down", 502));
    }
    const e: Entry = {
      state: {
        path: reg.path,
        kind: "registered",
        url: redact(reg.url),
        status: "connecting",
        since: Date.now(),
        attempts: 0,
      },
      stopped: false,
    };
    this.#entries.set(reg.path, e);
    if (reg.conn !== undefined) {
      return this.#reused(e, reg, reg.conn);
    }
    return this.#connectOut(e, reg);
  }

  deregister(path: string): boolean {
    const e = this.#entries.get(path);
    if (e === undefined) return false;
    this.#stop(e);
    return true;
  }

  /** Every registration's state. */
  states(): RelayState[] {
    return [...this.#entries.values()].map((e) => ({ ...e.state }));
  }

  /** Stops every pull. */
  close(): void {
    this.#closed = true;
    for (const e of [...this.#entries.values()]) this.#stop(e);
  }

  #stop(e: Entry): void {
    e.stopped = true;
    e.closeCurrent?.();
    e.wake?.();
    this.#forget(e);
  }

  #forget(e: Entry): void {
    if (this.#entries.get(e.state.path) === e) {
      this.#entries.delete(e.state.path);
    }
    e.state.status = "idle";
  }

  #set(e: Entry, status: RelayStatus, error?: unknown): void {
    e.state.status = status;
    e.state.since = Date.now();
    if (error !== undefined) {
      e.state.lastError = redact(
        error instanceof Error ? error.message : String(error),
      );
    }
    const fields = {
      path: e.state.path,
      url: e.state.url,
      status,
      ...(error ? { error: e.state.lastError } : {}),
    };
    if (status === "retrying") {
      this.#o.log.warn("registered pull failed", fields);
    } else this.#o.log.info(`registered pull ${status}`, fields);
  }

  /** One pull over the connection the REGISTER came on; the registration ends with it. */
  async #reused(
    e: Entry,
    reg: Registration,
    handed: Promise<StreamConn>,
  ): Promise<void> {
    e.state.attempts = 1;
    let failure: unknown;
    try {
      const conn = await handed;
      if (e.stopped) {
        closeQuietly(conn);
        return;
      }
      e.closeCurrent = () => closeQuietly(conn);
      const client = await RtspClient.open(reg.url, {
        transport: "tcp",
        timeoutMs: this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        conn,
      });
      e.closeCurrent = () => client.close();
      if (e.stopped) return client.close();
      const { ended } = await playInto(e, client, this.#o);
      if (!e.stopped) this.#set(e, "running");
      await ended;
      failure = new Error("the registered connection ended");
    } catch (err) {
      failure = err;
    } finally {
      e.closeCurrent?.();
      if (!e.stopped) this.#set(e, "idle", failure);
      this.#forget(e);
    }
  }

  /** Connects out: answers the REGISTER once the URL answered, then pulls with backoff. */
  async #connectOut(e: Entry, reg: Registration): Promise<void> {
    const wait = this.#o.connectTimeoutMs ?? 5000;
    let first: RtspClient | undefined;
    try {
      first = await RtspClient.open(reg.url, {
        transport: reg.transport,
        timeoutMs: wait,
      });
    } catch (err) {
      this.#forget(e);
      const message = redact(err instanceof Error ? err.message : String(err));
      throw new RegisterFailure(
        message,
        /no answer within|timed out/i.test(message) ? 504 : 502,
      );
    }
    if (e.stopped) {
      first.close();
      return;
    }
    const timeoutMs = this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    void relayLoop(e, async () => {
      const client = first ?? await RtspClient.open(reg.url, {
        transport: reg.transport,
        timeoutMs,
      });
      first = undefined;
      return playInto(e, client, this.#o);
    }, {
      backoffMs: this.#o.backoffMs,
      maxBackoffMs: this.#o.maxBackoffMs,
      set: (status, error) => this.#set(e, status, error),
    }).finally(() => this.#forget(e));
  }
}
