/**
 * Linux's `sendmmsg(2)` through Deno's FFI, on the descriptor of a socket
 * that Deno opened: the message headers, the payloads they point to and the
 * UDP GSO control messages, laid out for x86_64 and aarch64 (LP64,
 * little-endian; glibc and musl agree there).
 *
 * @module
 */

// <sys/socket.h>, <netinet/udp.h>, <fcntl.h>, <errno.h>
const AF_INET = 2;
const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_TYPE = 3;
const SO_REUSEPORT = 15;
const SOCK_DGRAM = 2;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
const MSG_DONTWAIT = 0x40;
const F_DUPFD_CLOEXEC = 1030;
/** `errno` values the writer acts on. */
export const ERRNO = { EINTR: 4, EIO: 5, EAGAIN: 11, EINVAL: 22, EMSGSIZE: 90 };
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  5: "EIO",
  13: "EACCES",
  22: "EINVAL",
  90: "EMSGSIZE",
  97: "EAFNOSUPPORT",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  113: "EHOSTUNREACH",
};
/** `struct mmsghdr`: msghdr (name, namelen, iov, iovlen, control, controllen, flags), then msg_len. */
const MSG_SIZE = 64;
/** `struct iovec`: base, length. */
const IOV_SIZE = 16;
/** Room for a `sockaddr_in6` (28 bytes). */
const NAME_SIZE = 32;
/** `CMSG_SPACE(sizeof(uint16_t))`; `cmsg_len` is `CMSG_LEN(2)`. */
const CMSG_SIZE = 24;
const CMSG_LEN = 18;
/** UIO_MAXIOV: messages per call. */
export const MAX_MESSAGES = 1024;
/** Descriptors searched for the socket: it is among the first a server opens. */
const MAX_FD = 65536;

const SYMBOLS = {
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getdtablesize: { parameters: [], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // on one of Deno's blocking threads: see MessageBatch.pause
  sched_yield: { parameters: [], result: "i32", nonblocking: true },
} as const;
type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
const LOADED = new Map<string, Libc>();

/** A `sockaddr_in` or `sockaddr_in6` as 32-bit words, and its length. */
export interface Sockaddr {
  words: Uint32Array;
  length: number;
}

/**
 * The messages of one `sendmmsg` call. Payloads are copied into one staging
 * buffer, each distinct `Uint8Array` once per batch (a fan-out sends the same
 * packet to every reader), so the kernel reads memory that never moves.
 */
export class MessageBatch {
  readonly #libc: Libc;
  #fd: number;
  readonly #errno: Int32Array;
  /** Messages one call takes. */
  readonly maxMessages: number;
  /** Payloads (datagrams, or GSO segments) one call takes. */
  readonly maxIovecs: number;
  readonly #hdr: Uint8Array;
  readonly #h: Uint32Array;
  readonly #base: number;
  readonly #iovAt: number;
  readonly #nameAt: number;
  readonly #cmsgAt: number;
  #data = new Uint8Array(0);
  #dataBase = 0;
  #dataEnd = 0;
  #staged = new Map<Uint8Array, number>();
  /** Messages in the batch. */
  count = 0;
  /** Payloads (iovecs) in the batch. */
  iovecs = 0;

  constructor(libc: Libc, fd: number, errno: Int32Array, iovecs: number) {
    this.#libc = libc;
    this.#fd = fd;
    this.#errno = errno;
    this.maxIovecs = iovecs;
    this.maxMessages = Math.min(MAX_MESSAGES, iovecs);
    this.#iovAt = this.maxMessages * MSG_SIZE;
    this.#nameAt = this.#iovAt + iovecs * IOV_SIZE;
    this.#cmsgAt = this.#nameAt + this.maxMessages * NAME_SIZE;
    // well past V8's 64-byte limit for typed arrays on its moving heap
    this.#hdr = new Uint8Array(
      Math.max(4096, this.#cmsgAt + this.maxMessages * CMSG_SIZE),
    );
    this.#h = new Uint32Array(this.#hdr.buffer);
    this.#base = pointerOf(this.#hdr);
    this.#grow(2 * 1024 * 1024);
  }

  /** Empties the batch. */
  clear(): void {
    this.count = 0;
    this.iovecs = 0;
    this.#dataEnd = 0;
    this.#staged.clear();
  }

  /**
   * Adds one message to `to` with `payloads[from]` up to `payloads[from + n]`;
   * with more than one, `segmentSize` is its UDP_SEGMENT (the kernel cuts the
   * joined payloads into datagrams of that size). Returns false, leaving the
   * batch as it was, when the batch has no room for it.
   */
  add(
    to: Sockaddr,
    payloads: readonly Uint8Array[],
    from: number,
    n: number,
    segmentSize: number,
  ): boolean {
    if (this.count >= this.maxMessages || this.iovecs + n > this.maxIovecs) {
      return false;
    }
    const h = this.#h;
    const mark = this.#dataEnd;
    const iov0 = this.#iovAt + this.iovecs * IOV_SIZE;
    for (let k = 0; k < n; k++) {
      const p = payloads[from + k]!;
      const at = this.#stage(p);
      if (at < 0) {
        // forget the copies made for this message: the next one may overwrite them
        for (let j = 0; j < k; j++) {
          const q = payloads[from + j]!;
          if (this.#staged.get(q)! >= mark) this.#staged.delete(q);
        }
        this.#dataEnd = mark;
        return false;
      }
      put64(h, iov0 + k * IOV_SIZE, this.#dataBase + at);
      put64(h, iov0 + k * IOV_SIZE + 8, p.length);
    }
    const m = this.count * MSG_SIZE;
    const name = this.#nameAt + this.count * NAME_SIZE;
    h.set(to.words, name >> 2);
    put64(h, m, this.#base + name);
    put64(h, m + 8, to.length);
    put64(h, m + 16, this.#base + iov0);
    put64(h, m + 24, n);
    if (n > 1) {
      const c = this.#cmsgAt + this.count * CMSG_SIZE;
      put64(h, c, CMSG_LEN);
      h[(c >> 2) + 2] = SOL_UDP;
      h[(c >> 2) + 3] = UDP_SEGMENT;
      h[(c >> 2) + 4] = segmentSize; // u16 gso_size, then padding
      put64(h, m + 32, this.#base + c);
      put64(h, m + 40, CMSG_SIZE);
    } else {
      put64(h, m + 32, 0);
      put64(h, m + 40, 0);
    }
    put64(h, m + 48, 0); // msg_flags
    put64(h, m + 56, 0); // msg_len
    this.count++;
    this.iovecs += n;
    return true;
  }

  /** Hands the batch to the kernel without waiting: the messages sent, or -errno for the first. */
  send(): number {
    const r = this.#libc.sendmmsg(
      this.#fd,
      this.#hdr,
      this.count,
      MSG_DONTWAIT,
    );
    return r >= 0 ? r : -this.#errno[0]!;
  }

  /**
   * Lets the event loop poll its sockets. A call that completes on another
   * thread makes Deno's loop wait in epoll, which delivers every ready
   * socket too (about 0.1 ms); `setImmediate` would not let sockets in, and
   * `setTimeout(0)` waits 1-2 ms.
   */
  async pause(): Promise<void> {
    await this.#libc.sched_yield();
  }

  /** Closes the writer's descriptor (the socket stays Deno's). */
  close(): void {
    if (this.#fd >= 0) this.#libc.close(this.#fd);
    this.#fd = -1;
  }

  /** Where `p` lies in the staging buffer, copied there if new; -1 when full. */
  #stage(p: Uint8Array): number {
    let at = this.#staged.get(p);
    if (at !== undefined) return at;
    if (this.#dataEnd + p.length > this.#data.length) {
      if (this.count > 0 || this.#dataEnd > 0) return -1;
      this.#grow(2 * p.length); // one datagram larger than the buffer
    }
    at = this.#dataEnd;
    this.#data.set(p, at);
    this.#dataEnd += (p.length + 7) & ~7;
    this.#staged.set(p, at);
    return at;
  }

  #grow(size: number): void {
    this.#data = new Uint8Array(Math.max(size, this.#data.length));
    this.#dataBase = pointerOf(this.#data);
  }
}

/**
 * A batch on the descriptor of `local`'s socket, or undefined where FFI
 * cannot reach it: not Linux on x86_64 or aarch64, no `--allow-ffi` for
 * `library`, no such socket, or one that may share its address.
 */
export function openBatch(
  local: Deno.Addr,
  library: string,
  iovecs: number,
): MessageBatch | undefined {
  if (
    Deno.build.os !== "linux" ||
    (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") ||
    typeof Deno.dlopen !== "function" ||
    local.transport !== "udp" ||
    // Pointers need FFI for all libraries: `--allow-ffi=<path>` is not enough.
    Deno.permissions.querySync({ name: "ffi" }).state !== "granted"
  ) return undefined;
  const want = encodeSockaddr(local.hostname, local.port);
  if (want === undefined) return undefined;
  let fd = -1;
  try {
    let libc = LOADED.get(library);
    if (libc === undefined) {
      libc = Deno.dlopen(library, SYMBOLS).symbols;
      LOADED.set(library, libc); // loaded once, for the life of the process
    }
    const errnoPointer = libc.__errno_location();
    const found = findSocket(libc, want);
    if (found < 0 || errnoPointer === null) return undefined;
    // Our own descriptor: should Deno close its one, ours never names another socket.
    fd = libc.fcntl(found, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return undefined;
    // errno of the calling thread: FFI calls without `nonblocking` run on the JS thread.
    const errno = new Int32Array(
      Deno.UnsafePointerView.getArrayBuffer(errnoPointer, 4),
    );
    return new MessageBatch(libc, fd, errno, iovecs);
  } catch {
    if (fd >= 0) LOADED.get(library)?.close(fd);
    return undefined; // no such library, or a runtime that refuses a call
  }
}

/**
 * The descriptor of the datagram socket bound to `local`. A socket without
 * SO_REUSEADDR and SO_REUSEPORT holds its address alone, so the first match
 * is the one; with either, another may share it: -1.
 */
export function findSocket(
  libc: Pick<Libc, "getsockname" | "getsockopt" | "getdtablesize">,
  local: Sockaddr,
): number {
  const name = new Uint8Array(NAME_SIZE);
  const name32 = new Uint32Array(name.buffer);
  const length = new Uint8Array(4);
  const length32 = new Uint32Array(length.buffer);
  const value = new Uint8Array(4);
  const option = (fd: number, key: number) => {
    length32[0] = 4;
    return libc.getsockopt(fd, SOL_SOCKET, key, value, length) === 0
      ? new Uint32Array(value.buffer)[0]!
      : -1;
  };
  const limit = Math.min(MAX_FD, libc.getdtablesize());
  for (let fd = 0; fd < limit; fd++) {
    name.fill(0);
    length32[0] = NAME_SIZE;
    if (libc.getsockname(fd, name, length) !== 0) continue;
    if (length32[0] !== local.length) continue;
    let same = true;
    for (let w = 0; w < local.length >> 2; w++) {
      if (name32[w] !== local.words[w]) same = false;
    }
    if (!same || option(fd, SO_TYPE) !== SOCK_DGRAM) continue;
    if (option(fd, SO_REUSEADDR) !== 0 || option(fd, SO_REUSEPORT) !== 0) {
      return -1;
    }
    return fd;
  }
  return -1;
}

/** `sockaddr_in` or `sockaddr_in6` of an IP literal; undefined for a name or a zone. */
export function encodeSockaddr(
  hostname: string,
  port: number,
): Sockaddr | undefined {
  const v4 = parseIpv4(hostname);
  const v6 = v4 === undefined ? parseIpv6(hostname) : undefined;
  if (v4 === undefined && v6 === undefined) return undefined;
  const b = new Uint8Array(NAME_SIZE);
  b[0] = v4 !== undefined ? AF_INET : AF_INET6; // sa_family, host order
  b[2] = port >> 8;
  b[3] = port & 0xff;
  if (v4 !== undefined) b.set(v4, 4); // sin_addr
  else b.set(v6!, 8); // after sin6_flowinfo
  return { words: new Uint32Array(b.buffer), length: v4 ? 16 : 28 };
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]!) || Number(parts[i]) > 255) {
      return undefined;
    }
    out[i] = Number(parts[i]);
  }
  return out;
}

/** RFC 4291 §2.2 text forms: `::` once, an IPv4 tail; no zone. */
function parseIpv6(s: string): Uint8Array | undefined {
  if (!s.includes(":") || s.includes("%")) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const fields = part.split(":");
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (i === fields.length - 1 && f.includes(".")) {
        const v4 = parseIpv4(f);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(f)) out.push(parseInt(f, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const gap = 8 - head.length - tail.length;
  if (halves.length === 2 ? gap < 1 : gap !== 0) return undefined;
  const all = [...head, ...new Array<number>(gap).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The name of an `errno` value, e.g. `"EPERM"`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** The address of a buffer's first byte: an ArrayBuffer this large lives off the V8 heap and never moves. */
function pointerOf(b: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** A 64-bit little-endian field at byte `at` (user-space addresses fit in 53 bits). */
function put64(h: Uint32Array, at: number, value: number): void {
  h[at >> 2] = value >>> 0;
  h[(at >> 2) + 1] = Math.floor(value / 0x100000000);
}
