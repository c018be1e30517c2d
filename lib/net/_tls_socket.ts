/**
 * What Deno's TLS sockets lack, done on their descriptors through FFI (Linux,
 * `--allow-ffi`): TCP_NODELAY on a TLS listener (Linux copies it to every
 * socket the listener accepts) and `shutdown(2)` of a socket whose TLS
 * handshake stalls (Deno runs a server handshake in a task of its own that
 * `close()` does not stop: the socket would stay open until the peer sends
 * something or leaves).
 *
 * A descriptor is found by its addresses: `getsockname(2)` (and
 * `getpeername(2)`) of every open descriptor, listed in `/proc/self/fd`.
 * Where FFI or that list is out of reach, both do nothing and say so.
 *
 * @module
 */

import {
  IPPROTO_TCP,
  type Libc,
  loadNative,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./_libc.ts";
import { encodeSockaddr, type Sockaddr } from "./_sendmmsg.ts";

const SO_TYPE = 3;
const SO_ACCEPTCONN = 30;
const SHUT_RDWR = 2;
/** Room for a `sockaddr_in6` (28 bytes). */
const NAME_SIZE = 32;

/** libc, once; null where FFI is not granted or not on Linux. */
function load(): Libc | null {
  return loadNative()?.libc ?? null;
}

/** Open descriptors, from `/proc/self/fd`; empty where it cannot be read. */
function openDescriptors(): number[] {
  try {
    const out: number[] = [];
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(e.name);
      if (Number.isInteger(fd)) out.push(fd);
    }
    return out;
  } catch {
    return [];
  }
}

const name = new Uint8Array(NAME_SIZE);
const name32 = new Uint32Array(name.buffer);
const length = new Uint8Array(4);
const length32 = new Uint32Array(length.buffer);
const value = new Uint8Array(4);
const value32 = new Uint32Array(value.buffer);

function sameAddress(
  c: Libc,
  call: "getsockname" | "getpeername",
  fd: number,
  want: Sockaddr,
): boolean {
  name.fill(0);
  length32[0] = NAME_SIZE;
  if (c[call](fd, name, length) !== 0 || length32[0] !== want.length) {
    return false;
  }
  for (let w = 0; w < want.length >> 2; w++) {
    if (name32[w] !== want.words[w]) return false;
  }
  return true;
}

function option(c: Libc, fd: number, key: number): number {
  length32[0] = 4;
  return c.getsockopt(fd, SOL_SOCKET, key, value, length) === 0
    ? value32[0]!
    : -1;
}

/**
 * Sets TCP_NODELAY on the TCP listener bound to `hostname:port`; every
 * socket it accepts from then on has it. False where it could not.
 */
export function setListenerNoDelay(hostname: string, port: number): boolean {
  const c = load();
  const want = encodeSockaddr(hostname, port);
  if (c === null || want === undefined) return false;
  for (const fd of openDescriptors()) {
    if (!sameAddress(c, "getsockname", fd, want)) continue;
    if (option(c, fd, SO_TYPE) !== SOCK_STREAM) continue;
    if (option(c, fd, SO_ACCEPTCONN) !== 1) continue;
    value32[0] = 1;
    return c.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, value, 4) === 0;
  }
  return false;
}

/** The descriptor of the TCP socket from `local` to `remote`, or -1. */
function findConnected(
  c: Libc,
  local: Deno.NetAddr,
  remote: Deno.NetAddr,
): number {
  const mine = encodeSockaddr(local.hostname, local.port);
  const theirs = encodeSockaddr(remote.hostname, remote.port);
  if (mine === undefined || theirs === undefined) return -1;
  for (const fd of openDescriptors()) {
    if (!sameAddress(c, "getpeername", fd, theirs)) continue;
    if (sameAddress(c, "getsockname", fd, mine)) return fd;
  }
  return -1;
}

/**
 * Shuts down (both directions) the TCP socket from `local` to `remote`, so
 * whatever holds it sees its end. False where it could not.
 */
export function shutdownSocket(
  local: Deno.NetAddr,
  remote: Deno.NetAddr,
): boolean {
  const c = load();
  const fd = c === null ? -1 : findConnected(c, local, remote);
  return fd >= 0 && c!.shutdown(fd, SHUT_RDWR) === 0;
}

/** Sets TCP_NODELAY on the TCP socket from `local` to `remote`. False where it could not. */
export function setSocketNoDelay(
  local: Deno.NetAddr,
  remote: Deno.NetAddr,
): boolean {
  const c = load();
  const fd = c === null ? -1 : findConnected(c, local, remote);
  if (fd < 0) return false;
  value32[0] = 1;
  return c!.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, value, 4) === 0;
}

/**
 * Whether the TCP socket from `local` to `remote` has TCP_NODELAY set;
 * undefined where it cannot be told.
 */
export function socketNoDelay(
  local: Deno.NetAddr,
  remote: Deno.NetAddr,
): boolean | undefined {
  const c = load();
  const fd = c === null ? -1 : findConnected(c, local, remote);
  if (fd < 0) return undefined;
  length32[0] = 4;
  if (c!.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, value, length) !== 0) {
    return undefined;
  }
  return value32[0] !== 0;
}
