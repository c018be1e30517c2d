/**
 * Asks an HTTP endpoint (`authHTTPAddress`) whether an access is allowed: a
 * JSON POST, allowed on 2xx. The answer is awaited at most `timeoutMs`;
 * answers are cached briefly (the same client asking again within the TTL
 * costs no request), identical questions in flight share one request, and
 * the requests in flight are bounded. A hanging, failing or unreachable
 * endpoint denies and logs why; it never blocks anything but the one check.
 *
 * @module
 */
import type { Logger } from "../log.ts";

/** What the endpoint receives (MediaMTX's field names, so its hooks carry over). */
export interface ExternalAuthBody {
  user: string;
  password: string;
  token: string;
  ip: string;
  action: string;
  path: string;
  protocol: string;
  id: string;
  query: string;
}

/** Options of {@link ExternalAuth}. */
export interface ExternalAuthOptions {
  url: string;
  log: Logger;
  /** @default {3000} */
  timeoutMs?: number;
  /** How long an answer is reused. @default {10000} */
  cacheMs?: number;
  /** Answers remembered. @default {1000} */
  maxCached?: number;
  /** Requests in flight at once; more are denied. @default {256} */
  maxInFlight?: number;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** @default {Date.now} */
  now?: () => number;
}

/** The answer of one check. */
export type ExternalDecision = { ok: true } | { ok: false; reason: string };

/** The client of an external auth endpoint. */
export class ExternalAuth {
  readonly #o: Required<Omit<ExternalAuthOptions, "log">>;
  readonly #log: Logger;
  readonly #cache = new Map<string, { at: number; d: ExternalDecision }>();
  readonly #inFlight = new Map<string, Promise<ExternalDecision>>();

  constructor(options: ExternalAuthOptions) {
    this.#log = options.log;
    this.#o = {
      url: options.url,
      timeoutMs: options.timeoutMs ?? 3000,
      cacheMs: options.cacheMs ?? 10_000,
      maxCached: options.maxCached ?? 1000,
      maxInFlight: options.maxInFlight ?? 256,
      fetch: options.fetch ?? globalThis.fetch,
      now: options.now ?? Date.now,
    };
  }

  /** The endpoint asked. */
  get url(): string {
    return this.#o.url;
  }

  /** Requests waiting for an answer now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Whether the endpoint allows `body`. */
  check(body: ExternalAuthBody): Promise<ExternalDecision> {
    // The id differs per connection: the cache is keyed on the rest.
    const key = JSON.stringify({ ...body, id: "" });
    const hit = this.#cache.get(key);
    if (hit !== undefined && this.#o.now() - hit.at < this.#o.cacheMs) {
      return Promise.resolve(hit.d);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    if (this.#inFlight.size >= this.#o.maxInFlight) {
      this.#log.warn("external auth denied: too many requests in flight", {
        path: body.path,
        action: body.action,
      });
      return Promise.resolve({ ok: false, reason: "auth endpoint busy" });
    }
    const p = this.#ask(body).then((d) => {
      this.#inFlight.delete(key);
      if (this.#cache.size >= this.#o.maxCached) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(key, { at: this.#o.now(), d });
      return d;
    });
    this.#inFlight.set(key, p);
    return p;
  }

  async #ask(body: ExternalAuthBody): Promise<ExternalDecision> {
    const fields = { path: body.path, action: body.action, ip: body.ip };
    try {
      const res = await this.#o.fetch(this.#o.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { ok: true };
      this.#log.info("external auth refused", {
        ...fields,
        status: res.status,
      });
      return { ok: false, reason: `auth endpoint answered ${res.status}` };
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === "TimeoutError";
      const reason = timedOut
        ? `auth endpoint did not answer within ${this.#o.timeoutMs} ms`
        : `auth endpoint failed: ${e instanceof Error ? e.message : e}`;
      this.#log.warn(`external auth denied: ${reason}`, fields);
      return { ok: false, reason };
    }
  }
}
