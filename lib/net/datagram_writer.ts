/**
 * Many UDP datagrams handed to the kernel in few calls. `Deno.DatagramConn`
 * sends one datagram per `send()`: one async op, one promise and one
 * `sendto` each, about 8 µs of CPU per datagram on loopback. This writer
 * queues (bytes, address) pairs during a turn of the event loop and, on
 * Linux with `--allow-ffi`, passes them to `sendmmsg(2)` up to 1024 at
 * a time on the server's own socket, which keeps receiving through Deno as
 * before. Runs of same-sized datagrams to one address go as one UDP GSO
 * message (`UDP_SEGMENT`, Linux 4.18) that the kernel cuts into datagrams.
 * Elsewhere it sends one datagram at a time with the socket's `send()`.
 *
 * @module
 */

import {
  encodeSockaddr,
  ERRNO,
  errnoName,
  type MessageBatch,
  openBatch,
} from "./_sendmmsg.ts";
import { CallbackQueue, COMPACT_AT } from "./_callback_queue.ts";
import { DatagramPacer, newTarget, type Target } from "./_datagram_pacer.ts";

/** Options of {@link DatagramWriter}. */
export interface DatagramWriterOptions {
  /**
   * `"auto"` uses `sendmmsg` through FFI on Linux (x86_64, aarch64) when
   * `--allow-ffi` is granted for every library (Deno's pointer calls refuse
   * `--allow-ffi=<path>`), and the socket's `send()` otherwise; `"send"`
   * always sends one datagram per `send()`.
   * @default {"auto"}
   */
  mode?: "auto" | "send";
  /** Datagrams handed to the kernel per call (at most 1024 messages go in one). @default {1024} */
  batchSize?: number;
  /**
   * Sends consecutive datagrams to one address that share a size (the last
   * may be shorter) as one UDP GSO message; turns itself off for good when
   * the route refuses one (no checksum offload, a segment over the MTU).
   * @default {true}
   */
  segmentation?: boolean;
  /** How long one flush may hold the event loop before other work runs. @default {4} */
  sliceMs?: number;
  /**
   * Bytes bound for the kernel (held datagrams do not count) from which
   * {@link DatagramWriter.backlogged} is true.
   * @default {4194304}
   */
  highWaterMark?: number;
  /** Queued bytes past which {@link DatagramWriter.send} refuses a datagram and counts it. @default {67108864} */
  maxQueuedBytes?: number;
  /**
   * Bytes one destination gets per `burstIntervalMs` (at least one datagram);
   * the rest waits, in order, for the next interval. A player's receive
   * buffer (208 KiB by default on Linux) overflows when a GOP of several
   * hundred KiB arrives in one burst. `Infinity` sends without pacing.
   * @default {65536}
   */
  burstBytes?: number;
  /** The pacing interval of `burstBytes`. @default {1} */
  burstIntervalMs?: number;
  /** The C library that FFI loads (musl: `"libc.musl-x86_64.so.1"`). @default {"libc.so.6"} */
  library?: string;
}

/** How a {@link DatagramWriter} hands datagrams to the kernel. */
export type DatagramWriterMode = "sendmmsg" | "send";

/** The socket as the writer needs it: its own address finds its descriptor. */
export type DatagramSocket = Pick<Deno.DatagramConn, "send" | "addr">;

/** Segments per GSO message (UDP_MAX_SEGMENTS is 64 before Linux 6.2). */
const MAX_SEGMENTS = 64;
/** Bytes per GSO message, under IPv4's 65507 bytes of UDP payload. */
const MAX_GSO_BYTES = 65000;
/** Errors of a GSO message that mean this route cannot segment. */
const GSO_REFUSED = new Set([ERRNO.EIO, ERRNO.EINVAL, ERRNO.EMSGSIZE]);
/**
 * Sends datagrams from one UDP socket, batched per turn of the event loop.
 * `send()` only queues; what a turn queued goes to the kernel at its end, in
 * order, in as few calls as the kernel takes, in slices of `sliceMs` so
 * receiving and requests go on. A full send buffer (EAGAIN) waits for room
 * through the socket's own `send()`, so nothing is lost there; what the
 * kernel refuses is counted in {@link refused}, what the writer does not
 * take in {@link dropped}.
 *
 * With FFI the writer sends through its own duplicate of the socket's
 * descriptor: close it with the socket, since the port stays bound until
 * both are closed.
 */
export class DatagramWriter {
  readonly #socket: DatagramSocket;
  readonly #batch: MessageBatch | undefined;
  readonly #sliceMs: number;
  readonly #highWaterMark: number;
  readonly #maxQueuedBytes: number;
  readonly #pacer: DatagramPacer;
  #segmentation: boolean;
  #targets = new WeakMap<Deno.NetAddr, Target>();
  #bytes: Uint8Array[] = [];
  #to: Target[] = [];
  #head = 0;
  #queued = 0;
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #idle: (() => void)[] = [];
  /** Readers waiting for {@link whenReady}, oldest first. */
  readonly #waiting = new CallbackQueue();
  /** Datagrams handed to the kernel. */
  sent = 0;
  /** Datagrams the kernel refused (see {@link lastError}). */
  refused = 0;
  /** Datagrams not taken: the queue was past `maxQueuedBytes`, or the writer closed. */
  dropped = 0;
  /** Calls into the kernel: `sendmmsg` calls and `send()` ops. */
  calls = 0;
  /** Times the socket's send buffer was full and the writer waited for room. */
  waits = 0;
  /** The last error the kernel gave, e.g. `"EPERM"` or `"PermissionDenied"`. */
  lastError: string | undefined;
  /** How datagrams reach the kernel: `"sendmmsg"` through FFI, or `"send"`. */
  readonly mode: DatagramWriterMode;

  constructor(socket: DatagramSocket, options: DatagramWriterOptions = {}) {
    this.#socket = socket;
    this.#sliceMs = options.sliceMs ?? 4;
    this.#highWaterMark = options.highWaterMark ?? 4 * 1024 * 1024;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
    this.#pacer = new DatagramPacer({
      burstBytes: options.burstBytes ?? 65536,
      burstIntervalMs: Math.max(1, options.burstIntervalMs ?? 1),
      pass: (bytes, to) => {
        this.#bytes.push(bytes);
        this.#to.push(to);
      },
      released: () => {
        if (
          this.#head < this.#bytes.length && !this.#scheduled &&
          !this.#flushing
        ) {
          this.#scheduled = true;
          queueMicrotask(() => this.#flush());
        }
      },
    });
    this.#segmentation = options.segmentation ?? true;
    if ((options.mode ?? "auto") === "auto") {
      this.#batch = openBatch(
        socket.addr,
        options.library ?? "libc.so.6",
        Math.max(1, options.batchSize ?? 1024),
      );
    }
    this.mode = this.#batch !== undefined ? "sendmmsg" : "send";
  }

  /** Bytes queued and not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Whether the bytes bound for the kernel are past `highWaterMark`: a
   * reader should hold its packets until {@link whenReady}. Datagrams held
   * for their destination's next burst do not count: one destination's
   * pacing never stops the others.
   */
  get backlogged(): boolean {
    return this.#queued - this.#pacer.heldBytes >= this.#highWaterMark;
  }

  /** Whether runs of datagrams go as UDP GSO messages. */
  get segmentation(): boolean {
    return this.#batch !== undefined && this.#segmentation;
  }

  /**
   * Queues a datagram for `to`; returns false, and counts it in
   * {@link dropped}, when the writer is closed or past `maxQueuedBytes`.
   * `bytes` is read when the batch goes out: never change it after. Reuse
   * one `to` object per destination: its `sockaddr` is encoded once, and
   * its fields must not change.
   */
  send(bytes: Uint8Array, to: Deno.NetAddr): boolean {
    if (this.#closed || this.#queued + bytes.length > this.#maxQueuedBytes) {
      this.dropped++;
      return false;
    }
    let target = this.#targets.get(to);
    if (target === undefined) {
      target = newTarget(to, encodeSockaddr(to.hostname, to.port));
      this.#targets.set(to, target);
    }
    this.#queued += bytes.length;
    if (!this.#scheduled && !this.#flushing) {
      this.#pacer.tickInterval(); // once per turn: sends of one turn share an interval
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
    this.#admit(bytes, target);
    return true;
  }

  /** Queues a datagram for the kernel, or holds it while its destination is over its burst. */
  #admit(bytes: Uint8Array, to: Target): void {
    if (!this.#pacer.admit(bytes, to)) return;
    this.#bytes.push(bytes);
    this.#to.push(to);
  }

  /**
   * Calls `callback` when a backlogged reader may send again: at once
   * (synchronously) when the writer is not {@link backlogged} or is
   * closed; else once the bytes bound for the kernel fell below half of
   * `highWaterMark`, in the order readers asked, each only while the
   * writer is still not backlogged. A reader should send what it holds in
   * `callback` (which must not throw): the next one runs right after it,
   * so none is woken only to find the queue full again, and the queue does
   * not run empty while readers wait.
   */
  whenReady(callback: () => void): void {
    if (!this.backlogged || this.#closed) callback();
    else this.#waiting.push(callback);
  }

  /**
   * Resolves as {@link whenReady} calls back; what runs after an `await`
   * runs later, so many waiting readers may all send at once.
   */
  ready(): Promise<void> {
    return new Promise((resolve) => this.whenReady(resolve));
  }

  /** Resolves when everything queued has gone to the kernel, or the writer closed. */
  drained(): Promise<void> {
    if (
      this.#head === this.#bytes.length && !this.#flushing &&
      !this.#pacer.holding
    ) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what is queued (counted in {@link dropped}) and closes the writer's descriptor. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.dropped += this.#bytes.length - this.#head;
    this.dropped += this.#pacer.close();
    this.#reset();
    this.#queued = 0;
    this.#batch?.close();
    this.#wake();
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      let slice = performance.now();
      while (!this.#closed && this.#head < this.#bytes.length) {
        if (this.#batch !== undefined) await this.#sendBatch(this.#batch);
        else await this.#sendOne();
        if (this.#head >= COMPACT_AT) this.#compact();
        if (
          performance.now() - slice >= this.#sliceMs &&
          this.#head < this.#bytes.length
        ) {
          if (this.#batch !== undefined) await this.#batch.pause();
          else await new Promise((resolve) => setTimeout(resolve, 0));
          slice = performance.now();
        }
      }
      if (!this.#closed) this.#reset();
    } finally {
      this.#flushing = false;
      this.#wake();
    }
  }

  /** The datagram at the head through `send()`: the fallback, a name to resolve, a full send buffer. */
  async #sendOne(): Promise<void> {
    const bytes = this.#bytes[this.#head]!;
    const to = this.#to[this.#head]!;
    this.#advance(1);
    try {
      this.calls++;
      await this.#socket.send(bytes, to.addr);
      this.sent++;
    } catch (e) {
      if (e instanceof Deno.errors.BadResource) return this.close();
      this.refused++;
      this.lastError = e instanceof Error ? e.name : String(e);
    }
  }

  /** One `sendmmsg` of what is queued from the head, then what its result asks for. */
  async #sendBatch(batch: MessageBatch): Promise<void> {
    batch.clear();
    const counts: number[] = [];
    const end = this.#bytes.length;
    let i = this.#head;
    while (i < end) {
      const to = this.#to[i]!;
      if (to.sockaddr === undefined) break; // a name: `send()` resolves it
      const size = this.#bytes[i]!.length;
      let n = 1;
      if (this.#segmentation && size > 0) {
        // A GSO run: one address, one size, the last datagram may be shorter.
        const most = Math.min(
          MAX_SEGMENTS,
          batch.maxIovecs - batch.iovecs,
          end - i,
          Math.floor(MAX_GSO_BYTES / size),
        );
        while (
          n < most && this.#to[i + n] === to &&
          this.#bytes[i + n - 1]!.length === size &&
          this.#bytes[i + n]!.length <= size && this.#bytes[i + n]!.length > 0
        ) n++;
      }
      if (!batch.add(to.sockaddr, this.#bytes, i, n, size)) break;
      counts.push(n);
      i += n;
    }
    if (batch.count === 0) return await this.#sendOne();
    this.calls++;
    const r = batch.send();
    if (r > 0) {
      let datagrams = 0;
      for (let k = 0; k < r; k++) datagrams += counts[k]!;
      this.sent += datagrams;
      this.#advance(datagrams);
      return; // after a partial send, the failed message heads the next batch
    }
    const errno = -r;
    const n = counts[0]!;
    if (errno === ERRNO.EINTR) return;
    if (errno === ERRNO.EAGAIN) {
      // The send buffer is full: the socket's `send()` waits for room, then batches go on.
      this.waits++;
      for (let k = 0; k < n && !this.#closed; k++) await this.#sendOne();
      return;
    }
    if (n > 1 && GSO_REFUSED.has(errno)) {
      this.#segmentation = false; // the same datagrams go again, one message each
      this.lastError = `${errnoName(errno)} (segmentation turned off)`;
      return;
    }
    this.refused += n;
    this.lastError = errnoName(errno);
    this.#advance(n);
  }

  #advance(datagrams: number): void {
    for (let k = 0; k < datagrams; k++) {
      this.#queued -= this.#bytes[this.#head + k]!.length;
    }
    this.#head += datagrams;
    if (
      this.#waiting.waiting &&
      this.#queued - this.#pacer.heldBytes < this.#highWaterMark / 2
    ) this.#wakeWaiting();
  }

  /** Lets go of what was sent while the queue never ran empty. */
  #compact(): void {
    this.#bytes = this.#bytes.slice(this.#head);
    this.#to = this.#to.slice(this.#head);
    this.#head = 0;
  }

  /** Forgets the sent queue (what is held for a later interval stays). */
  #reset(): void {
    this.#bytes = [];
    this.#to = [];
    this.#head = 0;
  }

  /** Lets waiting readers go, oldest first, one at a time while the queue has room. */
  #wakeWaiting(): void {
    this.#waiting.run(() => this.#closed || !this.backlogged);
  }

  #wake(): void {
    if (!this.backlogged || this.#closed) this.#wakeWaiting();
    if (this.#pacer.holding && !this.#closed) return; // not drained yet
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}
