/**
 * libc through Deno's FFI: the process's one set of bindings, and the
 * constants and `errno` values its callers act on. The poller
 * (`_poller.ts`), the sockets, the TLS socket options (`_tls_socket.ts`),
 * the memory files and the C heap's policy (`malloc_trim.ts`) use them.
 *
 * @module
 */

// <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h>, <sys/epoll.h>, <errno.h>
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_WR = 1;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
/** `errno` values sockets act on. */
export const ERRNO = {
  EINTR: 4,
  EAGAIN: 11,
  EMFILE: 24,
  ENFILE: 23,
  EPIPE: 32,
  EADDRINUSE: 98,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOMEM: 12,
  ETIMEDOUT: 110,
};

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  // ssize_t results fit in 32 bits: no read or write here is 2 GiB long
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // zero-copy sends of bytes many clients ask for (memory_files.ts)
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  sendfile: { parameters: ["i32", "i32", "buffer", "usize"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  // the ring that wakes the JavaScript thread (_ring_wake.ts)
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  syscall3: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer"],
    result: "i32",
  },
  syscall6: {
    name: "syscall",
    parameters: ["i64", "i32", "u32", "u32", "u32", "pointer", "usize"],
    result: "i32",
  },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  epoll_wait_now: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  // the one blocking call, on one of Deno's blocking threads
  epoll_wait: {
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const;
/** The libc calls sockets make. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** libc and the JS thread's `errno`, loaded once per process. */
export interface Native {
  libc: Libc;
  /** `errno` of the JavaScript thread, valid right after a failed call. */
  errno: Int32Array;
}

let native: Native | null | undefined;

/**
 * libc with the JS thread's errno, or null where FFI sockets cannot be
 * used: not Linux on x86_64 or aarch64, or no `--allow-ffi`.
 */
export function loadNative(): Native | null {
  if (native !== undefined) return native;
  native = null;
  try {
    if (
      Deno.build.os !== "linux" ||
      (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") ||
      typeof Deno.dlopen !== "function" ||
      Deno.permissions.querySync({ name: "ffi" }).state !== "granted"
    ) return native;
    const libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    const at = libc.__errno_location();
    if (at === null) return native;
    const errno = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(at, 4));
    native = { libc, errno };
  } catch {
    native = null; // no such library, or a runtime that refuses it
  }
  return native;
}

/**
 * `n` (an integer) for a parameter Deno's FFI types as bigint (`size_t`,
 * `off_t`, a `syscall` number). Deno's FFI takes a number there too, but
 * then leaves V8's fast call for its generic one: a `send` of a number
 * took 184 ns, of a BigInt made for the call 99 (Deno 2.9.6). The BigInt
 * is 16 bytes of garbage per call, far less than the slow path costs.
 */
export function size(n: number): bigint {
  return BigInt(n);
}
