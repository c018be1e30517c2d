/**
 * The units of Sluice's configuration values: addresses (`"host:port"`),
 * durations (`"10s"` → milliseconds), sizes (`"8MiB"` → bytes) and IPv4
 * multicast ranges, parsed without valibot so every edge can use them.
 *
 * @module
 */

/** The parts of an address such as `"127.0.0.1:1935"` or `":1935"`. */
export interface ListenAddress {
  /** `"0.0.0.0"` when the address gave none; IPv6 without brackets. */
  hostname: string;
  /** 0 asks the system for any free port. */
  port: number;
}

const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/;

/**
 * Splits `"host:port"`, `":port"` or `"[v6]:port"` into its parts; `":1935"`
 * listens on every interface (`"0.0.0.0"`).
 *
 * @throws {RangeError} when the address has no port or the port exceeds 65535
 */
export function parseAddress(address: string): ListenAddress {
  const m = ADDRESS.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 0xffff) {
    throw new RangeError(
      `Cannot parse address "${address}": expected host:port`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Milliseconds of `"10s"`, `"500ms"`, `"2m"`, `"1h"`, `"1m30s"`, a string of
 * digits or a number (already milliseconds); `undefined` when it is none.
 */
export function parseDuration(input: unknown): number | undefined {
  if (typeof input === "number") return wholeNonNegative(input);
  if (typeof input !== "string") return undefined;
  const text = input.trim();
  if (/^\d+$/.test(text)) return wholeNonNegative(Number(text));
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    ms += Number(amount) * DURATION_UNITS_MS[unit!]!;
  }
  return wholeNonNegative(Math.round(ms));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i;

/**
 * Bytes of `"8MiB"`, `"512KiB"`, `"1MB"`, `"4096"` or a number (already
 * bytes); units are KB/MB/GB (powers of 1000) and KiB/MiB/GiB (powers of
 * 1024), in any case; `undefined` when it is none.
 */
export function parseSize(input: unknown): number | undefined {
  if (typeof input === "number") return wholeNonNegative(input);
  if (typeof input !== "string") return undefined;
  const m = SIZE.exec(input.trim());
  if (m === null) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? "b").toLowerCase()]!;
  return wholeNonNegative(Math.round(Number(m[1]) * unit));
}

function wholeNonNegative(n: number): number | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The first address (as a 32-bit number) and the size of an IPv4 multicast
 * range `"a.b.c.d/n"`; `undefined` when it is not one inside 224.0.0.0/4.
 */
export function parseMulticastRange(
  text: string,
): { base: number; size: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(
    text.trim(),
  );
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 4 || bits > 32) return undefined;
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) |
    octets[3]!) >>> 0;
  const size = 2 ** (32 - bits);
  const base = ip - (ip % size);
  if (base >>> 28 !== 0xe) return undefined; // not 224.0.0.0/4
  return { base, size };
}
