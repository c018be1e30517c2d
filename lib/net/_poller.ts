/**
 * One readiness wait for many sockets: Linux `epoll(7)` through Deno's FFI.
 *
 * Deno gives every TCP socket its own resource and every pending read its
 * own operation: about 13 KiB of native memory per quiet connection, which a
 * thousand players pay a thousand times. Here Sluice's own descriptors are
 * registered once, edge-triggered, with one epoll instance, which reports
 * which sockets became readable or writable. The kernel wakes the
 * JavaScript thread through an io_uring ring where it can (`_ring_wake.ts`),
 * else a single `epoll_wait` runs on one of Deno's blocking threads. Reads
 * and writes are non-blocking calls on the JavaScript thread; a socket costs
 * the kernel's socket and a few JavaScript fields.
 *
 * An `eventfd` in the same set wakes a blocking wait when the last socket
 * leaves, and the ring closes then, so that an idle process holds no
 * pending operation and may exit.
 *
 * @module
 */

import {
  EPOLLET,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  type Libc,
  loadNative,
  type Native,
  size,
} from "./_libc.ts";
import { RingWake } from "./_ring_wake.ts";

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
/** Events one wait takes. */
const MAX_EVENTS = 1024;
/** An eventfd's 8-byte counter, as the FFI's `size_t`. */
const WORD_SIZE = size(8);

/** What a descriptor's epoll events are handed to. */
export interface ReadyTarget {
  ready(events: number): void;
}

/**
 * `struct epoll_event`: packed on x86_64 (12 bytes, data at 4), natural
 * alignment elsewhere (16 bytes, data at 8).
 */
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_AT = Deno.build.arch === "x86_64" ? 4 : 8;

/** Options of a {@link Poller}. */
export interface PollerOptions {
  /**
   * Wake the JavaScript thread through an io_uring ring where the kernel
   * allows it (`_ring_wake.ts`); default true. False: always by a
   * blocking wait on one of Deno's blocking threads.
   */
  ring?: boolean;
}

/**
 * The epoll set of the process and its one waiting call. Descriptors are
 * registered edge-triggered for input, output and hang-up: an edge with no
 * read or write waiting is ignored, and the socket is tried again the next
 * time someone reads or writes it.
 *
 * While sockets are registered, the set is waited on in one of two ways.
 * First, and wherever the kernel refuses io_uring, by an `epoll_wait` on
 * one of Deno's blocking threads. Once a ring is open ({@link RingWake}),
 * by the ring: the kernel wakes the JavaScript thread itself, and the set
 * is read there without waiting. The ring is closed when the last socket
 * leaves.
 */
export class Poller {
  readonly #libc: Libc;
  readonly #errno: Int32Array;
  readonly #epfd: number;
  readonly #wakeFd: number;
  readonly #events = new Uint8Array(MAX_EVENTS * EVENT_SIZE);
  readonly #view = new DataView(this.#events.buffer);
  /** The ring's reads of the set: a blocking wait may still be filling {@link #events}. */
  readonly #ringEvents = new Uint8Array(MAX_EVENTS * EVENT_SIZE);
  readonly #ringView = new DataView(this.#ringEvents.buffer);
  readonly #ctl = new Uint8Array(16);
  readonly #ctlView = new DataView(this.#ctl.buffer);
  readonly #word = new Uint8Array(8);
  readonly #handlers = new Map<number, ReadyTarget>();
  #waiting = false;
  /** The ring that wakes the JavaScript thread, once open. */
  #ring: RingWake | undefined;
  /** A ring is being opened, or its wake loop runs. */
  #ringBusy = 0;
  /** No ring: not wanted, or the kernel refused one. */
  #ringRefused: boolean;
  /** Handlers run: the events buffer is being read, so no wait may refill it. */
  #dispatching = false;
  #idle: (() => void)[] = [];
  readonly #onWoken = (n: number): void => this.#woken(n);
  readonly #onFailed = (): void => {
    this.#waiting = false;
    this.#arm();
    this.#settle();
  };

  constructor(n: Native, options: PollerOptions = {}) {
    this.#ringRefused = options.ring === false;
    this.#libc = n.libc;
    this.#errno = n.errno;
    this.#epfd = n.libc.epoll_create1(EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new Error(`epoll_create1: errno ${n.errno[0]}`);
    this.#wakeFd = n.libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#wakeFd < 0) {
      n.libc.close(this.#epfd);
      throw new Error(`eventfd: errno ${n.errno[0]}`);
    }
    this.#control(EPOLL_CTL_ADD, this.#wakeFd, EPOLLIN);
  }

  /** How the JavaScript thread is woken now: by the ring, or by a blocking thread. */
  get wakesBy(): "ring" | "thread" {
    return this.#ring === undefined ? "thread" : "ring";
  }

  /** Descriptors registered. */
  get size(): number {
    return this.#handlers.size;
  }

  /** Watches `fd` (edge-triggered input, output and hang-up) until {@link remove}. */
  add(fd: number, target: ReadyTarget): void {
    if (
      this.#control(
        EPOLL_CTL_ADD,
        fd,
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
      ) !== 0
    ) {
      throw new Error(`epoll_ctl: errno ${this.#errno[0]}`);
    }
    this.#handlers.set(fd, target);
    this.#openRing();
    this.#arm();
  }

  /** Stops watching `fd`; call before closing it. */
  remove(fd: number): void {
    if (!this.#handlers.delete(fd)) return;
    this.#control(EPOLL_CTL_DEL, fd, 0);
    if (this.#handlers.size !== 0) return;
    if (this.#waiting) this.#wake();
    const ring = this.#ring;
    this.#ring = undefined;
    ring?.close();
  }

  /**
   * Resolves once no wait is in flight: nothing is registered, the last
   * blocking wait returned and the last ring is closed.
   */
  settled(): Promise<void> {
    if (!this.#waiting && this.#ringBusy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #control(op: number, fd: number, events: number): number {
    this.#ctlView.setUint32(0, events >>> 0, true);
    this.#ctlView.setInt32(DATA_AT, fd, true);
    return this.#libc.epoll_ctl(this.#epfd, op, fd, this.#ctl);
  }

  #wake(): void {
    this.#word.fill(0);
    this.#word[0] = 1;
    this.#libc.write(this.#wakeFd, this.#word, WORD_SIZE);
  }

  #openRing(): void {
    if (this.#ring !== undefined || this.#ringBusy !== 0 || this.#ringRefused) {
      return;
    }
    this.#ringBusy++;
    RingWake.open(this.#libc, this.#epfd).catch(() => null).then((ring) => {
      if (ring === null) {
        this.#ringRefused = true;
        this.#ringBusy--;
        this.#settle();
        return;
      }
      if (this.#handlers.size === 0) {
        ring.close();
        this.#ringBusy--;
        this.#settle();
        return;
      }
      this.#ring = ring;
      // a blocking wait in flight returns, and is not made again
      if (this.#waiting) this.#wake();
      this.#runRing(ring);
    });
  }

  async #runRing(ring: RingWake): Promise<void> {
    const byte = new Uint8Array(8);
    try {
      let armed = ring.arm();
      while (armed && this.#ring === ring) {
        const n = await ring.conn.read(byte);
        if (n === null || this.#ring !== ring) break;
        this.#drain();
        if (this.#ring === ring) armed = ring.arm();
      }
    } catch {
      // closed as the last socket left
    } finally {
      if (this.#ring === ring) {
        // the kernel stopped taking requests: wait on a blocking thread again
        this.#ring = undefined;
        this.#ringRefused = true;
        ring.close();
        this.#arm();
      }
      this.#ringBusy--;
      this.#settle();
    }
  }

  /** Takes every event the set has now, without waiting. */
  #drain(): void {
    if (this.#dispatching) return;
    for (;;) {
      const n = this.#libc.epoll_wait_now(
        this.#epfd,
        this.#ringEvents,
        MAX_EVENTS,
        0,
      );
      if (n <= 0) return;
      this.#dispatch(this.#ringView, n);
      if (n < MAX_EVENTS) return;
    }
  }

  #arm(): void {
    if (
      this.#ring !== undefined || this.#waiting || this.#dispatching ||
      this.#handlers.size === 0
    ) {
      return;
    }
    this.#waiting = true;
    this.#libc.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, -1)
      .then(this.#onWoken, this.#onFailed);
  }

  #woken(n: number): void {
    if (n < 0) {
      // EINTR, the one failure a valid set sees: wait again, a moment later
      setTimeout(this.#onFailed, 1);
      return;
    }
    this.#waiting = false;
    this.#dispatch(this.#view, n);
    this.#arm();
    this.#settle();
  }

  #dispatch(view: DataView, n: number): void {
    this.#dispatching = true;
    for (let i = 0; i < n; i++) {
      const at = i * EVENT_SIZE;
      const events = view.getUint32(at, true);
      const fd = view.getInt32(at + DATA_AT, true);
      if (fd === this.#wakeFd) {
        this.#libc.read(this.#wakeFd, this.#word, WORD_SIZE);
        continue;
      }
      const target = this.#handlers.get(fd);
      if (target === undefined) continue;
      try {
        target.ready(events);
      } catch {
        // a handler settles its own promises; nothing may stop the others
      }
    }
    this.#dispatching = false;
  }

  #settle(): void {
    if (this.#waiting || this.#ringBusy !== 0 || this.#idle.length === 0) {
      return;
    }
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}

let poller: Poller | null | undefined;

/** The process's poller, or null where FFI sockets cannot be used. */
export function thePoller(): Poller | null {
  if (poller !== undefined) return poller;
  const n = loadNative();
  try {
    poller = n === null ? null : new Poller(n);
  } catch {
    poller = null;
  }
  return poller;
}
