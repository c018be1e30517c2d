/**
 * Webhooks: every event a hook asked for is POSTed to its URL as JSON,
 * signed with HMAC-SHA256 of the body under the hook's secret
 * (`X-Sluice-Signature-256: sha256=<hex>`, GitHub's form). Each hook has a
 * bounded queue delivered in order by one loop: a failed delivery (no 2xx,
 * a network error, no answer within `timeoutMs`) is retried with doubling
 * backoff, then given up with a log line. A full queue drops its oldest
 * event and counts it. Emitting only queues: a slow or dead receiver
 * delays no frame and no session.
 *
 * @module
 */
import type { WebhookConfig } from "../config/auth_schema.ts";
import type { EventBus, SluiceEvent } from "../events/events.ts";
import type { Logger } from "../log.ts";

/** The header carrying the body's signature. */
export const SIGNATURE_HEADER = "X-Sluice-Signature-256";

/** Options of {@link Webhooks}. */
export interface WebhooksOptions {
  log: Logger;
  /** Events waiting per hook; past it the oldest is dropped. @default {1000} */
  maxQueue?: number;
  /** Tries per event. @default {5} */
  attempts?: number;
  /** First retry delay, doubling per try. @default {500} */
  backoffMs?: number;
  /** How long one delivery may take. @default {5000} */
  timeoutMs?: number;
}

/** Counters of one hook. */
export interface WebhookStats {
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

class Hook {
  readonly queue: SluiceEvent[] = [];
  readonly stats: WebhookStats = {
    delivered: 0,
    failed: 0,
    dropped: 0,
    retries: 0,
  };
  running = false;
  key: Promise<CryptoKey> | undefined;
  constructor(readonly config: WebhookConfig) {
    if (config.secret) {
      this.key = crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(config.secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
    }
  }
  wants(type: string): boolean {
    return this.config.events === undefined ||
      this.config.events.some((e) => e === type);
  }
}

/** The configured hooks, listening to an {@link EventBus}. */
export class Webhooks {
  #hooks: Hook[];
  readonly #o: Required<WebhooksOptions>;
  readonly #abort = new AbortController();
  #unlisten: (() => void) | undefined;

  constructor(hooks: readonly WebhookConfig[], options: WebhooksOptions) {
    this.#hooks = hooks.map((h) => new Hook(h));
    this.#o = {
      log: options.log,
      maxQueue: options.maxQueue ?? 1000,
      attempts: options.attempts ?? 5,
      backoffMs: options.backoffMs ?? 500,
      timeoutMs: options.timeoutMs ?? 5000,
    };
  }

  /** Counters per hook, in configuration order. */
  get stats(): WebhookStats[] {
    return this.#hooks.map((h) => h.stats);
  }

  /** Starts delivering what `bus` emits. */
  listen(bus: Pick<EventBus, "listen">): void {
    this.#unlisten = bus.listen((e) => {
      if (this.#hooks.length > 0) this.enqueue(e);
    });
  }

  /**
   * Takes a new list of hooks (a hot reload): a hook with the same URL,
   * secret and events keeps its queue and counters; the others start empty,
   * and what removed hooks still had queued is dropped.
   */
  configure(hooks: readonly WebhookConfig[]): void {
    const old = this.#hooks;
    const key = (h: WebhookConfig) =>
      JSON.stringify([h.url, h.secret ?? "", h.events ?? null]);
    this.#hooks = hooks.map((h) =>
      old.find((o) => key(o.config) === key(h)) ?? new Hook(h)
    );
    for (const o of old) {
      if (!this.#hooks.includes(o)) o.queue.length = 0;
    }
  }

  /** Queues `event` for every hook that wants it; never waits. */
  enqueue(event: SluiceEvent): void {
    if (this.#abort.signal.aborted) return;
    for (const hook of this.#hooks) {
      if (!hook.wants(event.type)) continue;
      if (hook.queue.length >= this.#o.maxQueue) {
        hook.queue.shift();
        hook.stats.dropped++;
      }
      hook.queue.push(event);
      if (!hook.running) void this.#drain(hook);
    }
  }

  /** Resolves once every queue is delivered, or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (
      this.#hooks.some((h) => h.running || h.queue.length > 0) &&
      Date.now() < end
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops listening and delivering (queued events are dropped). */
  close(): void {
    this.#unlisten?.();
    this.#abort.abort();
  }

  async #drain(hook: Hook): Promise<void> {
    hook.running = true;
    try {
      while (hook.queue.length > 0 && !this.#abort.signal.aborted) {
        const event = hook.queue[0]!;
        const ok = await this.#deliver(hook, event);
        if (hook.queue[0] === event) hook.queue.shift();
        if (ok) hook.stats.delivered++;
        else {
          hook.stats.failed++;
          this.#o.log.warn("webhook gave up on an event", {
            url: redactUrl(hook.config.url),
            event: event.type,
            id: event.id,
          });
        }
      }
    } finally {
      hook.running = false;
    }
  }

  async #deliver(hook: Hook, event: SluiceEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "User-Agent": "Sluice",
      "X-Sluice-Event": event.type,
      "X-Sluice-Delivery": event.id,
    };
    if (hook.key !== undefined) {
      const mac = await crypto.subtle.sign(
        "HMAC",
        await hook.key,
        new TextEncoder().encode(body),
      );
      headers[SIGNATURE_HEADER] = `sha256=${hex(new Uint8Array(mac))}`;
    }
    let delay = this.#o.backoffMs;
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      if (this.#abort.signal.aborted) return false;
      let why: string;
      try {
        const res = await fetch(hook.config.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([
            this.#abort.signal,
            AbortSignal.timeout(this.#o.timeoutMs),
          ]),
        });
        await res.body?.cancel().catch(() => {});
        if (res.status >= 200 && res.status < 300) return true;
        why = `answered ${res.status}`;
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
      if (attempt === this.#o.attempts) break;
      hook.stats.retries++;
      this.#o.log.debug("webhook delivery failed, retrying", {
        url: redactUrl(hook.config.url),
        event: event.type,
        attempt,
        reason: why,
      });
      await sleep(delay, this.#abort.signal);
      delay *= 2;
    }
    return false;
  }
}

/** Verifies a signature header against `body` (for receivers and tests). */
export async function verifySignature(
  secret: string,
  body: string,
  header: string | null,
): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const m = /^sha256=([0-9a-f]{64})$/.exec(header ?? "");
  if (m === null) return false;
  const mac = Uint8Array.from(
    m[1]!.match(/../g)!,
    (h) => parseInt(h, 16),
  );
  return await crypto.subtle.verify(
    "HMAC",
    key,
    mac,
    new TextEncoder().encode(body),
  );
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
