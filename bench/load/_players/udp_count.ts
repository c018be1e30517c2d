/**
 * Counting UDP players read with `recvmmsg(2)` through FFI, on a shared
 * tick, instead of one Deno `receive()` per datagram.
 *
 * A Deno `receive()` costs the load client about 6 µs a datagram: at 1000
 * RTSP players over UDP (about 290 000 datagrams a second) two client
 * processes needed 113 % of this 2-core machine's CPU and still dropped a
 * third of the datagrams at full receive buffers, whatever the server. Here
 * each RTP socket of a player that has its keyframe is drained by
 * `recvmmsg` every tick, 64 datagrams a call, into one shared buffer whose
 * contents are never looked at; its receive buffer is raised to
 * {@link RECEIVE_BUFFER} so a tick (and a keyframe sent at once) fits.
 *
 * Deno gives no descriptor of its sockets: {@link UdpCounter.adopt} finds
 * it by its local port among `/proc/self/fd`, as `lib/net/_sendmmsg.ts`
 * does for the server's socket. {@link UdpCounter.detach} then gives the
 * player a descriptor of its own and Deno's socket closes, leaving Deno's
 * epoll set: there every datagram woke the client's event loop, a
 * cross-CPU wakeup that on loopback the sending server pays for (1.75
 * against 1.1 µs of the sender's CPU per datagram, sending to 2000
 * sockets of another process as 1000 players get the stream).
 * Linux on x86_64 or aarch64 with `--allow-ffi` only; elsewhere
 * {@link openUdpCounter} returns undefined and players keep `receive()`.
 *
 * @module
 */

// <sys/socket.h>, <netinet/in.h>, <errno.h>
const AF_INET = 2;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_RCVBUF = 8;
const F_DUPFD_CLOEXEC = 1030;
const SOCK_DGRAM = 2;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
/** `struct mmsghdr`: msghdr (name, namelen, iov, iovlen, control, controllen, flags), then msg_len. */
const MSG_SIZE = 64;
const MSG_LEN_AT = 56;
/** Messages per `recvmmsg` call. */
const BATCH = 64;
/** Receive buffer asked for each RTP socket (the kernel doubles it; `net.core.rmem_max` caps it). */
export const RECEIVE_BUFFER = 2 * 1024 * 1024;
/** Least time between two scans of `/proc/self/fd` while sockets wait for theirs. */
const SCAN_EVERY_MS = 20;
/** `recvmmsg` calls per socket and tick at most: a bound, far above a tick's datagrams. */
const MAX_CALLS = 64;

const SYMBOLS = {
  recvmmsg: {
    parameters: ["i32", "buffer", "u32", "i32", "pointer"],
    result: "i32",
  },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;
type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A socket drained on the tick. */
interface Counted {
  fd: number;
  onBytes: (n: number) => void;
}

/** The sockets of one load-client process that are counted with `recvmmsg`. */
export class UdpCounter {
  readonly #libc: Libc;
  readonly #errno: Int32Array;
  readonly #tickMs: number;
  /** The message headers, all pointing at one iovec of {@link #data}. */
  readonly #hdr = new Uint8Array(BATCH * MSG_SIZE);
  readonly #hdr32 = new Uint32Array(this.#hdr.buffer);
  readonly #iov = new Uint8Array(4096);
  readonly #data = new Uint8Array(65536);
  /** Local ports whose descriptor is wanted, and who wants it. */
  #wanted = new Map<number, ((fd: number | undefined) => void)[]>();
  /** Descriptors handed out and not yet released: live sockets, never reused meanwhile. */
  #adopted = new Set<number>();
  #scanTimer: ReturnType<typeof setTimeout> | undefined;
  #lastScan = -Infinity;
  #counted = new Set<Counted>();
  #tick: ReturnType<typeof setInterval> | undefined;
  /** Datagrams read so far. */
  datagrams = 0;
  /** `recvmmsg` calls so far. */
  calls = 0;

  constructor(libc: Libc, errno: Int32Array, tickMs: number) {
    this.#libc = libc;
    this.#errno = errno;
    this.#tickMs = tickMs;
    const iov = new Uint32Array(this.#iov.buffer);
    put64(iov, 0, pointerOf(this.#data));
    put64(iov, 8, this.#data.length);
    const iovAt = pointerOf(this.#iov);
    for (let m = 0; m < BATCH; m++) {
      put64(this.#hdr32, m * MSG_SIZE + 16, iovAt); // msg_iov
      put64(this.#hdr32, m * MSG_SIZE + 24, 1); // msg_iovlen
    }
  }

  /**
   * The descriptor of this process's UDP socket bound to `port` (undefined
   * when none is found), with its receive buffer raised. Lookups of one
   * moment share one scan of `/proc/self/fd`. Call {@link release} before
   * the socket closes.
   */
  adopt(port: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const list = this.#wanted.get(port);
      if (list !== undefined) list.push(resolve);
      else this.#wanted.set(port, [resolve]);
      const wait = Math.max(
        0,
        this.#lastScan + SCAN_EVERY_MS - performance.now(),
      );
      this.#scanTimer ??= setTimeout(() => this.#scan(), wait);
    });
  }

  /** Reads `fd` on every tick from now on, calling `onBytes` with the bytes of what it read; the returned function stops. */
  count(fd: number, onBytes: (n: number) => void): () => void {
    const c: Counted = { fd, onBytes };
    this.#counted.add(c);
    this.#tick ??= setInterval(() => this.#drainAll(), this.#tickMs);
    return () => {
      this.#counted.delete(c);
      if (this.#counted.size === 0 && this.#tick !== undefined) {
        clearInterval(this.#tick);
        this.#tick = undefined;
      }
    };
  }

  /** Forgets `fd`: its socket is about to close, and the number may name another one. */
  release(fd: number): void {
    this.#adopted.delete(fd);
  }

  /**
   * A descriptor of our own for the socket of adopted `fd` (undefined if
   * none can be had): close Deno's socket then, and {@link close} this one
   * at the end. Deno's runtime keeps every socket in its epoll set, so
   * every datagram that reaches one wakes the load client's event loop
   * through a cross-CPU wakeup, paid on loopback by the sending server (a
   * fifth of Sluice's CPU at 1000 players); a socket only this module
   * reads is in no epoll set.
   */
  detach(fd: number): number | undefined {
    const own = this.#libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return undefined;
    this.#adopted.add(own);
    return own;
  }

  /** Closes a descriptor of {@link detach}. */
  close(fd: number): void {
    this.#adopted.delete(fd);
    this.#libc.close(fd);
  }

  #scan(): void {
    this.#scanTimer = undefined;
    this.#lastScan = performance.now();
    const wanted = this.#wanted;
    this.#wanted = new Map();
    const name = new Uint8Array(32);
    const length = new Uint8Array(4);
    const length32 = new Uint32Array(length.buffer);
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      if (wanted.size === 0) break;
      const fd = Number(entry.name);
      if (!Number.isInteger(fd) || this.#adopted.has(fd)) continue;
      length32[0] = name.length;
      if (this.#libc.getsockname(fd, name, length) !== 0) continue;
      if (name[0] !== AF_INET || length32[0] !== 16) continue; // sa_family, host order
      const port = (name[2]! << 8) | name[3]!;
      const waiting = wanted.get(port);
      if (waiting === undefined || this.#option(fd, SO_TYPE) !== SOCK_DGRAM) {
        continue; // a TCP socket may hold the same port number
      }
      wanted.delete(port);
      this.#adopted.add(fd);
      const size = new Uint32Array([RECEIVE_BUFFER]);
      this.#libc.setsockopt(
        fd,
        SOL_SOCKET,
        SO_RCVBUF,
        new Uint8Array(size.buffer),
        4,
      );
      for (const resolve of waiting) resolve(fd);
    }
    for (const waiting of wanted.values()) {
      for (const resolve of waiting) resolve(undefined);
    }
  }

  #option(fd: number, key: number): number {
    const value = new Uint32Array(1);
    const length = new Uint32Array([4]);
    return this.#libc.getsockopt(
        fd,
        SOL_SOCKET,
        key,
        new Uint8Array(value.buffer),
        new Uint8Array(length.buffer),
      ) === 0
      ? value[0]!
      : -1;
  }

  #drainAll(): void {
    for (const c of this.#counted) {
      const n = this.#drain(c.fd);
      if (n > 0) c.onBytes(n);
      else if (n < 0) this.#counted.delete(c); // not a socket to read any more
    }
  }

  /** Reads what `fd` holds now: its bytes, or -1 when it cannot be read. */
  #drain(fd: number): number {
    let bytes = 0;
    for (let call = 0; call < MAX_CALLS; call++) {
      this.calls++;
      const r = this.#libc.recvmmsg(fd, this.#hdr, BATCH, MSG_DONTWAIT, null);
      if (r < 0) {
        const errno = this.#errno[0];
        if (errno === EINTR) continue;
        if (errno !== EAGAIN) return bytes > 0 ? bytes : -1;
        break;
      }
      for (let m = 0; m < r; m++) {
        bytes += this.#hdr32[(m * MSG_SIZE + MSG_LEN_AT) >> 2]!;
      }
      this.datagrams += r;
      if (r < BATCH) break;
    }
    return bytes;
  }
}

let opened: UdpCounter | null | undefined;

/**
 * This process's {@link UdpCounter} for `tickMs`, or undefined where FFI
 * cannot read sockets (not Linux on x86_64 or aarch64, no `--allow-ffi`, a
 * tick of 0).
 */
export function openUdpCounter(tickMs: number): UdpCounter | undefined {
  if (tickMs <= 0) return undefined;
  if (opened !== undefined) return opened ?? undefined;
  opened = null;
  if (
    Deno.build.os !== "linux" ||
    (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") ||
    Deno.permissions.querySync({ name: "ffi" }).state !== "granted" ||
    Deno.permissions.querySync({ name: "read", path: "/proc/self/fd" })
        .state !== "granted"
  ) return undefined;
  try {
    const libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    const at = libc.__errno_location();
    if (at === null) return undefined;
    const errno = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(at, 4));
    opened = new UdpCounter(libc, errno, tickMs);
  } catch {
    return undefined;
  }
  return opened;
}

/** The address of a buffer's first byte: an ArrayBuffer this large lives off the V8 heap and never moves. */
function pointerOf(b: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** A 64-bit little-endian field at byte `at`. */
function put64(h: Uint32Array, at: number, value: number): void {
  h[at >> 2] = value >>> 0;
  h[(at >> 2) + 1] = Math.floor(value / 0x100000000);
}
