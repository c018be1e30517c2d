/**
 * TCP listeners of Sluice's own sockets (`fd_conn.ts`): a socket bound and
 * accepted through FFI, its connections waiting on the process's one epoll
 * set. {@link listenFd} returns null where they cannot be used (not Linux,
 * no `--allow-ffi`, a host name instead of an IP literal), and the caller
 * listens with `Deno.listen` instead.
 *
 * @module
 */

import { encodeSockaddr } from "./_sendmmsg.ts";
import {
  AF_INET,
  AF_INET6,
  EPOLLIN,
  ERRNO,
  IPPROTO_TCP,
  loadNative,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./_libc.ts";
import { type Poller, thePoller } from "./_poller.ts";
import { FdConn } from "./fd_conn.ts";
import { decodeSockaddr, socketError } from "./_socket_names.ts";

/** Pending connections the kernel keeps for an accept. */
const BACKLOG = 4096;
/** Room for a `sockaddr_in6` (28 bytes). */
const NAME_SIZE = 32;
/** A pause in accepting after the process ran out of descriptors. */
const ACCEPT_RETRY_MS = 100;

/** A listening socket of {@link listenFd}. */
export interface FdListener {
  readonly hostname: string;
  readonly port: number;
  close(): void;
}

/** Options of {@link listenFd}. */
export interface ListenFdOptions {
  hostname: string;
  port: number;
  onConnection(conn: FdConn): void;
  onError?(error: unknown): void;
  /** The epoll set to watch its sockets with; the process's own by default. */
  poller?: Poller;
}

/**
 * Listens on an IP literal with a socket of Sluice's own (SO_REUSEADDR, as
 * `Deno.listen`), accepting with TCP_NODELAY set on every connection.
 * Null where FFI sockets cannot be used or `hostname` is not an IP literal;
 * throws when the address cannot be bound.
 */
export function listenFd(options: ListenFdOptions): FdListener | null {
  const n = loadNative();
  const poller = options.poller ?? thePoller();
  const want = encodeSockaddr(options.hostname, options.port);
  if (n === null || poller === null || want === undefined) return null;
  const { libc, errno } = n;
  const v6 = want.length === 28;
  const fd = libc.socket(
    v6 ? AF_INET6 : AF_INET,
    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) throw socketError(errno[0]!, "socket");
  const one = new Uint8Array(new Uint32Array([1]).buffer);
  const addr = new Uint8Array(want.words.buffer, 0, want.length);
  if (
    libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0 ||
    libc.bind(fd, addr, want.length) !== 0 ||
    libc.listen(fd, BACKLOG) !== 0
  ) {
    const e = socketError(errno[0]!, "bind");
    libc.close(fd);
    throw e;
  }
  const name = new Uint8Array(NAME_SIZE);
  const length = new Uint32Array(1);
  const length8 = new Uint8Array(length.buffer);
  length[0] = NAME_SIZE;
  libc.getsockname(fd, name, length8);
  const local = decodeSockaddr(name);
  let open = true;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const accept = (): void => {
    retry = undefined;
    while (open) {
      length[0] = NAME_SIZE;
      const c = libc.accept4(fd, name, length8, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) {
        const e = errno[0]!;
        if (e === ERRNO.EAGAIN) return;
        if (e === ERRNO.EINTR || e === ERRNO.ECONNABORTED) continue;
        options.onError?.(socketError(e, "accept"));
        // out of descriptors or memory: the edge is spent, so look again later
        retry = setTimeout(accept, ACCEPT_RETRY_MS);
        return;
      }
      libc.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, one, 4);
      let conn: FdConn;
      try {
        conn = new FdConn(libc, errno, poller, c, decodeSockaddr(name), local);
      } catch (e) {
        libc.close(c);
        options.onError?.(e);
        continue;
      }
      options.onConnection(conn);
    }
  };
  poller.add(fd, {
    ready(events) {
      if ((events & EPOLLIN) !== 0 && retry === undefined) accept();
    },
  });
  return {
    hostname: local.hostname,
    port: local.port,
    close() {
      if (!open) return;
      open = false;
      if (retry !== undefined) clearTimeout(retry);
      poller.remove(fd);
      libc.close(fd);
    },
  };
}
