/**
 * Failed logins per client address: after a few in a short time the address
 * is refused without a check for a while. The table is bounded (the oldest
 * address is forgotten first), so a flood of addresses costs fixed memory.
 *
 * @module
 */

/** Options of {@link FailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures within `windowMs` that block an address. @default {5} */
  maxFailures?: number;
  /** @default {60000} */
  windowMs?: number;
  /** How long a blocked address is refused. @default {10000} */
  blockMs?: number;
  /** Addresses remembered at once. @default {10000} */
  maxAddresses?: number;
  /** @default {Date.now} */
  now?: () => number;
}

interface Entry {
  failures: number;
  since: number;
  blockedUntil: number;
}

/** Counts failed logins per address and says which addresses are blocked. */
export class FailureLimiter {
  readonly #max: number;
  readonly #window: number;
  readonly #block: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: FailureLimiterOptions = {}) {
    this.#max = options.maxFailures ?? 5;
    this.#window = options.windowMs ?? 60_000;
    this.#block = options.blockMs ?? 10_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Milliseconds `ip` stays blocked; 0 when it may try. */
  blockedFor(ip: string): number {
    const e = this.#entries.get(ip);
    if (e === undefined) return 0;
    return Math.max(0, e.blockedUntil - this.#now());
  }

  /** Counts a failure of `ip`; true when this one blocks it. */
  fail(ip: string): boolean {
    const now = this.#now();
    let e = this.#entries.get(ip);
    if (e === undefined || now - e.since > this.#window) {
      this.#entries.delete(ip);
      if (this.#entries.size >= this.#maxAddresses) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      e = { failures: 0, since: now, blockedUntil: 0 };
      this.#entries.set(ip, e);
    }
    e.failures++;
    if (e.failures >= this.#max) {
      e.blockedUntil = now + this.#block;
      e.failures = 0;
      e.since = now;
      return true;
    }
    return false;
  }

  /** Forgets the failures of `ip` (it logged in). */
  succeed(ip: string): void {
    const e = this.#entries.get(ip);
    if (e !== undefined && e.blockedUntil <= this.#now()) {
      this.#entries.delete(ip);
    }
  }
}
