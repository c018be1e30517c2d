/**
 * Client address ranges (`"10.0.0.0/8"`, `"::1"`, `"fd00::/8"`) as users'
 * `ips` name them, and whether an address falls inside one. IPv4 and IPv6;
 * an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket
 * reports) matches IPv4 ranges.
 *
 * @module
 */

/** A parsed range: the address bits and how many of them must match. */
export interface IpRange {
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
  prefix: number;
}

/** The bytes of an IPv4 or IPv6 address, or `undefined` when it is none. */
export function parseIp(text: string): Uint8Array | undefined {
  const s = text.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (s.includes(":")) return parseIpv6(s);
  return parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length > 45) return undefined;
  let tail: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1)); // RFC 4291 §2.2 form 3
    if (tail === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [
    ...head,
    ...Array(halves.length === 2 ? missing : 0).fill("0"),
    ...rest,
  ];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail !== undefined) out.set(tail, 12);
  return out;
}

/** `"10.0.0.0/8"`, `"fd00::/8"` or a single address; `undefined` when it is none. */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf("/");
  const bytes = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const p = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
  return { bytes, prefix: Number(p) };
}

/** Whether `ip` (as a socket reports it) lies in `range`. */
export function ipInRange(ip: string, range: IpRange): boolean {
  let bytes = parseIp(ip);
  if (bytes === undefined) return false;
  if (bytes.length === 16 && range.bytes.length === 4 && isV4Mapped(bytes)) {
    bytes = bytes.subarray(12);
  }
  if (bytes.length !== range.bytes.length) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) {
    if (bytes[i] !== range.bytes[i]) return false;
  }
  const bits = range.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (bytes[whole]! & mask) === (range.bytes[whole]! & mask);
}

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1 or its IPv4-mapped form). */
export function isLoopback(ip: string): boolean {
  return LOOPBACK.some((r) => ipInRange(ip, r));
}

const LOOPBACK = [parseIpRange("127.0.0.0/8")!, parseIpRange("::1")!];

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
