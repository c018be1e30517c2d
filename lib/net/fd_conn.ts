/**
 * TCP sockets that Sluice opens and accepts itself, through FFI, and waits
 * on with the process's one epoll set (`_poller.ts`): a connection costs the
 * kernel's socket and a small object, not a Deno resource and a pending
 * runtime operation each. Reads and writes try the socket at once and wait
 * for its readiness only when it has nothing to read or no room to write.
 * Their listener is `fd_listener.ts`.
 *
 * @module
 */

import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  ERRNO,
  type Libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SHUT_WR,
  size,
} from "./_libc.ts";
import type { Poller } from "./_poller.ts";
import type { StreamConn } from "./stream_conn.ts";
import { socketError } from "./_socket_names.ts";

/** Unread input a close drops before closing, at most. */
const DRAIN_SIZE = 64 * 1024;
/** Where reads land before their exact copy, and where a close drops unread input. */
const scratch = new Uint8Array(64 * 1024);
/** Its length as the FFI's `size_t`, made once: every read passes it. */
const SCRATCH_SIZE = size(scratch.length);
/** Reads one edge of input takes before the rest waits for a later task. */
const DRAIN_READS = 16;
/** Events that mean the peer is gone or failed: read on until recv says so. */
const ENDING = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

/** A read or write waiting for the socket to be ready. */
interface Waiting {
  bytes: Uint8Array;
  /** A send from a file instead. */
  file?: FileRange | undefined;
  resolve(n: number | null): void;
  reject(e: unknown): void;
}

/** Bytes of a file to send: its descriptor, offset and length. */
interface FileRange {
  fd: number;
  offset: number;
  length: number;
}

/** The system call that sends from `file`, or bytes, for error messages. */
function callOf(file: FileRange | undefined): string {
  return file === undefined ? "send" : "sendfile";
}

/** The `off_t` sendfile(2) reads the file offset from. */
const fileOffset = new DataView(new ArrayBuffer(8));
const fileOffsetBytes = new Uint8Array(fileOffset.buffer);
const NOTHING = new Uint8Array(0);

/**
 * One accepted TCP socket on its own descriptor. Like `Deno.TcpConn`: one
 * read and one write at a time, a read resolving null at the peer's end, a
 * second `close()` throwing `BadResource`, and pending calls rejecting with
 * `BadResource` when it closes.
 */
export class FdConn implements StreamConn {
  readonly #libc: Libc;
  readonly #errno: Int32Array;
  readonly #poller: Poller;
  #fd: number;
  #reading: Waiting | undefined;
  /** `onData` of {@link readEach} is running. */
  #inData = false;
  /** The loop of {@link readEach}, while it runs. */
  #each:
    | {
      onData(chunk: Uint8Array): boolean | void;
      resolve(): void;
      reject(e: unknown): void;
    }
    | undefined;
  #writing: Waiting | undefined;
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  /** Bytes the socket took so far. */
  bytesSent = 0;

  constructor(
    libc: Libc,
    errno: Int32Array,
    poller: Poller,
    fd: number,
    remoteAddr: Deno.NetAddr,
    localAddr: Deno.NetAddr,
  ) {
    this.#libc = libc;
    this.#errno = errno;
    this.#poller = poller;
    this.#fd = fd;
    this.remoteAddr = remoteAddr;
    this.localAddr = localAddr;
    poller.add(fd, this);
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#fd < 0) return Promise.reject(closed());
    if (this.#reading !== undefined) {
      return Promise.reject(new Deno.errors.Busy("a read is pending"));
    }
    if (p.length === 0) return Promise.resolve(0);
    const n = this.#libc.recv(this.#fd, p, size(p.length), MSG_DONTWAIT);
    if (n > 0) return Promise.resolve(n);
    if (n === 0) return Promise.resolve(null);
    const errno = this.#errno[0]!;
    if (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR) {
      return Promise.reject(socketError(errno, "recv"));
    }
    return new Promise((resolve, reject) => {
      this.#reading = { bytes: p, resolve, reject };
    });
  }

  write(p: Uint8Array): Promise<number> {
    return this.#send(p, undefined, p.length);
  }

  /**
   * Sends up to `length` bytes of file `fd` from `offset` with
   * sendfile(2): the kernel takes them from the file's pages, with no copy
   * through JavaScript (`memory_files.ts`). Resolves with the bytes sent,
   * as `write` does.
   */
  sendFile(fd: number, offset: number, length: number): Promise<number> {
    return this.#send(NOTHING, { fd, offset, length }, length);
  }

  /** A send of `bytes`, or of `file` where given: now, or once the socket has room. */
  #send(
    bytes: Uint8Array,
    file: FileRange | undefined,
    length: number,
  ): Promise<number> {
    if (this.#fd < 0) return Promise.reject(closed());
    if (this.#writing !== undefined) {
      return Promise.reject(new Deno.errors.Busy("a write is pending"));
    }
    if (length === 0) return Promise.resolve(0);
    const n = this.#attempt(bytes, file);
    if (n >= 0) return Promise.resolve(n);
    const errno = this.#errno[0]!;
    if (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR) {
      return Promise.reject(socketError(errno, callOf(file)));
    }
    return new Promise<number | null>((resolve, reject) => {
      this.#writing = { bytes, file, resolve, reject };
    }) as Promise<number>;
  }

  /** One send(2) of `bytes`, or sendfile(2) of `file`: bytes sent, or -1 (errno set). */
  #attempt(bytes: Uint8Array, file: FileRange | undefined): number {
    if (file !== undefined) {
      return this.#sendfile(file.fd, file.offset, file.length);
    }
    const n = this.#libc.send(
      this.#fd,
      bytes,
      size(bytes.length),
      MSG_DONTWAIT | MSG_NOSIGNAL,
    );
    if (n > 0) this.bytesSent += n;
    return n;
  }

  #sendfile(fd: number, offset: number, length: number): number {
    fileOffset.setUint32(0, offset >>> 0, true);
    fileOffset.setUint32(4, Math.floor(offset / 2 ** 32), true);
    const n = this.#libc.sendfile(
      this.#fd,
      fd,
      fileOffsetBytes,
      size(length),
    );
    if (n > 0) this.bytesSent += n;
    return n;
  }

  /**
   * Reads with no buffer of its own: each edge of input is drained into a
   * scratch buffer shared by every connection and handed on as an exact
   * copy, so a quiet connection holds only `onData` and one promise.
   */
  readEach(onData: (chunk: Uint8Array) => boolean | void): Promise<void> {
    if (this.#fd < 0) return Promise.reject(closed());
    if (this.#reading !== undefined || this.#each !== undefined) {
      return Promise.reject(new Deno.errors.Busy("a read is pending"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#each = { onData, resolve, reject };
      this.#drain();
    });
  }

  /**
   * Reads until the socket has nothing more (the edge is spent), the peer
   * closes, or the loop ends; a flood yields to other work after
   * {@link DRAIN_READS} reads and goes on in a later task.
   *
   * Where the poller's `events` are known and say nothing of an end, a read
   * shorter than the buffer spent the edge: the socket's queue was empty,
   * and input that arrives later raises a new edge. The `recv` that would
   * only say EAGAIN (one per HTTP request) is not made.
   */
  #drain(events = -1): void {
    for (let i = 0; i < DRAIN_READS; i++) {
      const each = this.#each;
      if (each === undefined || this.#fd < 0) return;
      const n = this.#libc.recv(
        this.#fd,
        scratch,
        SCRATCH_SIZE,
        MSG_DONTWAIT,
      );
      if (n < 0) {
        const errno = this.#errno[0]!;
        if (errno === ERRNO.EAGAIN) return;
        if (errno === ERRNO.EINTR) continue;
        this.#each = undefined;
        return each.reject(socketError(errno, "recv"));
      }
      if (n === 0) {
        this.#each = undefined;
        return each.resolve();
      }
      let more: boolean | void;
      this.#inData = true;
      try {
        more = each.onData(scratch.slice(0, n));
      } catch (e) {
        this.#each = undefined;
        return each.reject(e);
      } finally {
        this.#inData = false;
      }
      if (more === false || this.#fd < 0) {
        // closed by `onData` itself: the loop ends as `readLoop`'s would
        if (this.#each === each) this.#each = undefined;
        return more === false ? each.resolve() : each.reject(closed());
      }
      if (n < scratch.length && events >= 0 && (events & ENDING) === 0) return;
    }
    setTimeout(this.#onDrain, 0);
  }

  readonly #onDrain = (): void => this.#drain();

  /**
   * Bytes of `p` the socket took at once, or -1 when it has no room (or a
   * write is pending); throws what a failed send means. No promise: the
   * writer of a thousand players' batches calls this ten thousand times a
   * second.
   */
  tryWrite(p: Uint8Array): number {
    if (!this.#mayTry(p.length)) return -1;
    return this.#tried(this.#attempt(p, undefined), "send");
  }

  /**
   * Bytes of file `fd` from `offset` the socket took at once, or -1 when it
   * has no room (or a write is pending): {@link tryWrite} from a file.
   */
  trySendFile(fd: number, offset: number, length: number): number {
    if (!this.#mayTry(length)) return -1;
    return this.#tried(this.#sendfile(fd, offset, length), "sendfile");
  }

  /** Whether a try of `length` bytes may send now; throws once closed. */
  #mayTry(length: number): boolean {
    if (this.#fd < 0) throw closed();
    return this.#writing === undefined && length > 0;
  }

  /** What a try's `n` from `call` gives: `n`, -1 for no room, or a throw. */
  #tried(n: number, call: string): number {
    if (n >= 0) return n;
    const errno = this.#errno[0]!;
    if (errno === ERRNO.EAGAIN || errno === ERRNO.EINTR) return -1;
    throw socketError(errno, call);
  }

  /**
   * Sends FIN after what was written, drops what the peer sent and nobody
   * read (up to {@link DRAIN_SIZE}: unread input would make the kernel
   * answer with a reset, which can destroy the last replies still in the
   * peer's buffer), then closes the descriptor.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) throw closed();
    this.#fd = -1;
    this.#poller.remove(fd);
    const libc = this.#libc;
    libc.shutdown(fd, SHUT_WR);
    for (let left = DRAIN_SIZE; left > 0;) {
      const n = libc.recv(fd, scratch, SCRATCH_SIZE, MSG_DONTWAIT);
      if (n <= 0) break;
      left -= n;
    }
    libc.close(fd);
    const reading = this.#reading, writing = this.#writing;
    this.#reading = this.#writing = undefined;
    reading?.reject(closed());
    writing?.reject(closed());
    if (!this.#inData) {
      const each = this.#each;
      this.#each = undefined;
      each?.reject(closed());
    }
  }

  /**
   * Retries what waits for the socket; an edge with nothing waiting is left
   * for the next call. Called by the poller only.
   */
  ready(events: number): void {
    if (
      this.#each !== undefined &&
      (events & (EPOLLIN | ENDING)) !== 0
    ) this.#drain(events);
    if (
      this.#reading !== undefined &&
      (events & (EPOLLIN | ENDING)) !== 0
    ) {
      const w = this.#reading;
      const n = this.#libc.recv(
        this.#fd,
        w.bytes,
        size(w.bytes.length),
        MSG_DONTWAIT,
      );
      const errno = this.#errno[0]!;
      if (n >= 0 || (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR)) {
        this.#reading = undefined;
        if (n > 0) w.resolve(n);
        else if (n === 0) w.resolve(null);
        else w.reject(socketError(errno, "recv"));
      }
    }
    if (
      this.#writing !== undefined && this.#fd >= 0 &&
      (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) !== 0
    ) {
      const w = this.#writing;
      const n = this.#attempt(w.bytes, w.file);
      const errno = this.#errno[0]!;
      if (n >= 0 || (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR)) {
        this.#writing = undefined;
        if (n >= 0) w.resolve(n);
        else w.reject(socketError(errno, callOf(w.file)));
      }
    }
  }
}

function closed(): Error {
  return new Deno.errors.BadResource("connection closed");
}
