/**
 * The kernel's socket numbers as Deno names them: a `sockaddr` as a
 * `Deno.NetAddr`, an `errno` as the error Deno's own sockets throw (private
 * to `net/`, for Sluice's own sockets: `fd_conn.ts`, `fd_listener.ts`).
 *
 * @module
 */

import { AF_INET, AF_INET6, ERRNO } from "./_libc.ts";

/** The error a failed socket call rejects with, as Deno's own sockets name it. */
export function socketError(errno: number, call: string): Error {
  switch (errno) {
    case ERRNO.ECONNRESET:
      return new Deno.errors.ConnectionReset(`${call}: connection reset`);
    case ERRNO.EPIPE:
      return new Deno.errors.BrokenPipe(`${call}: broken pipe`);
    case ERRNO.ETIMEDOUT:
      return new Deno.errors.TimedOut(`${call}: timed out`);
    case ERRNO.ECONNABORTED:
      return new Deno.errors.ConnectionAborted(`${call}: connection aborted`);
    case ERRNO.EADDRINUSE:
      return new Deno.errors.AddrInUse(`${call}: address in use`);
    default:
      return new Error(`${call}: errno ${errno}`);
  }
}

/** A `sockaddr_in`/`sockaddr_in6` as Deno names an address. */
export function decodeSockaddr(name: Uint8Array): Deno.NetAddr {
  const port = (name[2]! << 8) | name[3]!;
  const family = name[0]! | (name[1]! << 8);
  if (family === AF_INET) {
    return {
      transport: "tcp",
      hostname: `${name[4]}.${name[5]}.${name[6]}.${name[7]}`,
      port,
    };
  }
  if (family !== AF_INET6) return { transport: "tcp", hostname: "", port };
  const a = name.subarray(8, 24);
  const mapped = a.subarray(0, 10).every((b) => b === 0) &&
    a[10] === 0xff && a[11] === 0xff;
  if (mapped) {
    return {
      transport: "tcp",
      hostname: `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`,
      port,
    };
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
  // RFC 5952: the longest run of two or more zero groups becomes "::"
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  const hostname = best < 0
    ? hex(groups)
    : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
  return { transport: "tcp", hostname, port };
}
