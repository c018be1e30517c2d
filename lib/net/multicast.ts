/**
 * IPv4 multicast sockets. A sender's time to live and outgoing interface
 * are socket options (IP_MULTICAST_TTL, IP_MULTICAST_IF) that Deno sets
 * only through the membership of a group the socket joined; on Linux with
 * `--allow-ffi` they are set with `setsockopt(2)` on the socket's own
 * descriptor, as the datagram writer finds it. A receiver is a socket on
 * the group's port, shared with the other receivers of the host, joined to
 * the group.
 *
 * @module
 */

import { encodeSockaddr, findSocket } from "./_sendmmsg.ts";
import { listenError } from "./tcp.ts";

// <netinet/in.h>
const IPPROTO_IP = 0;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  getdtablesize: { parameters: [], result: "i32" },
} as const;
type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let loaded: Libc | undefined;

/** Options of {@link multicastSender}. */
export interface MulticastSenderOptions {
  /** Routers a datagram may cross (IP_MULTICAST_TTL). */
  ttl: number;
  /**
   * The IPv4 address of the interface multicast leaves by (IP_MULTICAST_IF);
   * `"0.0.0.0"` or a name leaves it to the routing table.
   */
  interfaceAddress: string;
  /** The C library FFI loads. @default {"libc.so.6"} */
  library?: string;
}

/** A socket that sends multicast, and how its options were set. */
export interface MulticastSender {
  socket: Deno.DatagramConn;
  /**
   * `"setsockopt"`: TTL and interface set through FFI; `"membership"`:
   * only the TTL, through Deno's membership of a group the socket joined;
   * `"none"`: the kernel's defaults (TTL 1, the routing table's interface).
   */
  options: "setsockopt" | "membership" | "none";
}

/**
 * Binds a UDP socket on `hostname` (any port) that sends multicast with
 * `options.ttl` from `options.interfaceAddress`, looped back to receivers of
 * this host (IP_MULTICAST_LOOP: players on the server's machine, and tests).
 * Without FFI the TTL is set through a membership of `fallbackGroup`, which
 * the socket then holds (it receives nothing of it: no one sends to its
 * port).
 */
export async function multicastSender(
  hostname: string,
  fallbackGroup: string,
  options: MulticastSenderOptions,
): Promise<MulticastSender> {
  let socket: Deno.DatagramConn;
  try {
    socket = Deno.listenDatagram({
      transport: "udp",
      hostname,
      port: 0,
      loopback: true,
    });
  } catch (e) {
    throw listenError("UDP", hostname, 0, e);
  }
  if (setOptions(socket.addr, options)) {
    return { socket, options: "setsockopt" };
  }
  try {
    const m = await socket.joinMulticastV4(fallbackGroup, "0.0.0.0");
    await m.setTTL(options.ttl);
    await m.setLoopback(true);
    return { socket, options: "membership" };
  } catch {
    return { socket, options: "none" };
  }
}

/** IP_MULTICAST_TTL and IP_MULTICAST_IF on the socket bound to `local`; false when FFI cannot. */
function setOptions(
  local: Deno.Addr,
  options: MulticastSenderOptions,
): boolean {
  if (
    Deno.build.os !== "linux" || local.transport !== "udp" ||
    typeof Deno.dlopen !== "function" ||
    Deno.permissions.querySync({ name: "ffi" }).state !== "granted"
  ) return false;
  const want = encodeSockaddr(local.hostname, local.port);
  if (want === undefined) return false;
  try {
    loaded ??= Deno.dlopen(options.library ?? "libc.so.6", SYMBOLS).symbols;
    const fd = findSocket(loaded, want);
    if (fd < 0) return false;
    const ttl = new Uint8Array(new Uint32Array([options.ttl]).buffer);
    if (loaded.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl, 4) !== 0) {
      return false;
    }
    const iface = encodeSockaddr(options.interfaceAddress, 0);
    if (iface !== undefined && iface.length === 16) {
      // struct in_addr: the four address bytes of the sockaddr_in, after family and port
      const addr = new Uint8Array(iface.words.buffer).slice(4, 8);
      if (loaded.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, addr, 4) !== 0) {
        return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * A socket bound to `group`:`port`, shared with the host's other receivers
 * of it (SO_REUSEADDR), joined to `group` on the interface the routing
 * table gives for it. Bound to the group, not to every address: on Linux a
 * socket on `0.0.0.0:port` also gets every other group of that port that
 * any socket of the host joined (IP_MULTICAST_ALL), and the tracks of a
 * stream share their ports (ffmpeg and GStreamer bind to the group too).
 */
export async function joinMulticast(
  group: string,
  port: number,
): Promise<Deno.DatagramConn> {
  let socket: Deno.DatagramConn;
  try {
    socket = Deno.listenDatagram({
      transport: "udp",
      hostname: group,
      port,
      reuseAddress: true,
      loopback: true,
    });
  } catch (e) {
    throw listenError("UDP", group, port, e);
  }
  try {
    await socket.joinMulticastV4(group, "0.0.0.0");
  } catch (e) {
    socket.close();
    throw new Error(
      `Cannot join multicast group ${group}: ${
        e instanceof Error ? e.message : e
      }`,
      { cause: e },
    );
  }
  return socket;
}

/** Whether `address` is an IPv4 multicast address (224.0.0.0/4). */
export function isMulticastV4(address: string): boolean {
  const m = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(address);
  return m !== null && Number(m[1]) >= 224 && Number(m[1]) <= 239 &&
    encodeSockaddr(address, 0) !== undefined;
}
