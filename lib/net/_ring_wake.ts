/**
 * Wakes the JavaScript thread when the poller's epoll set has events,
 * without a second thread: an `io_uring` poll on the epoll descriptor,
 * linked to a one-byte send into a Unix socket whose other end is a
 * `Deno.Conn`. The kernel makes that send itself when the poll fires, and
 * Deno's own event loop, which already waits on its sockets, sees the byte.
 *
 * A blocking `epoll_wait` on one of Deno's blocking threads costs two
 * thread hand-overs per wake (the waiting thread wakes the JavaScript
 * thread, and the next wait wakes a blocking thread again); on a virtual
 * machine each is an inter-processor interrupt. Here the kernel wakes the
 * JavaScript thread directly.
 *
 * @module
 */

import {
  type Libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  size,
  SOCK_CLOEXEC,
  SOCK_STREAM,
} from "./_libc.ts";

const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;
const IORING_OFF_SQ_RING = 0;
const IORING_OFF_CQ_RING = 0x8000000;
const IORING_OFF_SQES = 0x10000000;
const IORING_FEAT_SINGLE_MMAP = 1;
/** Linux 5.7: a ring this recent links a poll to a send, as here. */
const IORING_FEAT_FAST_POLL = 1 << 5;
const IORING_OP_POLL_ADD = 6;
const IORING_OP_SEND = 26;
const IOSQE_IO_LINK = 1 << 2;
const POLLIN = 1;
const PROT_READ_WRITE = 3;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;
const AF_UNIX = 1;
const ENTRIES = 4;
const SQE_SIZE = 64;
const CQE_SIZE = 16;

interface Mapped {
  pointer: Deno.PointerObject;
  length: number;
}

/** The ring, its maps and the socket pair of one poller. */
export class RingWake {
  readonly #libc: Libc;
  readonly #ring: number;
  readonly #epfd: number;
  readonly #sendFd: number;
  readonly #maps: Mapped[];
  readonly #sq: Uint32Array;
  readonly #sqTail: number;
  readonly #sqMask: number;
  readonly #sqArray: number;
  readonly #cq: Uint32Array;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #sqes: DataView;
  /** The byte sent on each wake; kept here so its memory stays put. */
  readonly #byte = new Uint8Array(new ArrayBuffer(8));
  readonly #bytePointer = BigInt(
    Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#byte)),
  );
  readonly #conn: Deno.Conn;

  private constructor(
    libc: Libc,
    ring: number,
    epfd: number,
    sendFd: number,
    conn: Deno.Conn,
    maps: Mapped[],
    params: DataView,
  ) {
    this.#libc = libc;
    this.#ring = ring;
    this.#epfd = epfd;
    this.#sendFd = sendFd;
    this.#conn = conn;
    this.#maps = maps;
    const rings = maps[0]!;
    const cqRing = maps[1] ?? rings;
    const u32 = (m: Mapped) =>
      new Uint32Array(
        Deno.UnsafePointerView.getArrayBuffer(m.pointer, m.length),
      );
    this.#sq = u32(rings);
    this.#cq = u32(cqRing);
    // struct io_sqring_offsets at 40, struct io_cqring_offsets at 80
    this.#sqTail = params.getUint32(44, true) / 4;
    this.#sqMask = this.#sq[params.getUint32(48, true) / 4]!;
    this.#sqArray = params.getUint32(64, true) / 4;
    this.#cqHead = params.getUint32(80, true) / 4;
    this.#cqTail = params.getUint32(84, true) / 4;
    const sqes = maps[maps.length - 1]!;
    this.#sqes = new DataView(
      Deno.UnsafePointerView.getArrayBuffer(sqes.pointer, sqes.length),
    );
  }

  /**
   * A ring watching `epfd`, and the connection its byte arrives on; null
   * where the kernel has no io_uring (or refuses it) or no Unix socket can
   * be made.
   */
  static async open(libc: Libc, epfd: number): Promise<RingWake | null> {
    const params = new Uint8Array(120);
    const view = new DataView(params.buffer);
    const ring = libc.syscall3(size(SYS_IO_URING_SETUP), ENTRIES, params);
    if (ring < 0) return null;
    const maps: Mapped[] = [];
    const release = (): null => {
      for (const m of maps) libc.munmap(m.pointer, size(m.length));
      libc.close(ring);
      return null;
    };
    const features = view.getUint32(20, true);
    if ((features & IORING_FEAT_FAST_POLL) === 0) return release();
    const sqEntries = view.getUint32(0, true);
    const cqEntries = view.getUint32(4, true);
    const sqLength = view.getUint32(64, true) + sqEntries * 4;
    const cqLength = view.getUint32(100, true) + cqEntries * CQE_SIZE;
    const map = (length: number, offset: number): boolean => {
      const p = libc.mmap(
        null,
        size(length),
        PROT_READ_WRITE,
        MAP_SHARED_POPULATE,
        ring,
        size(offset),
      );
      if (p === null || Deno.UnsafePointer.value(p) === -1n) return false;
      maps.push({ pointer: p, length });
      return true;
    };
    const single = (features & IORING_FEAT_SINGLE_MMAP) !== 0;
    const ok = single
      ? map(Math.max(sqLength, cqLength), IORING_OFF_SQ_RING)
      : map(sqLength, IORING_OFF_SQ_RING) &&
        map(cqLength, IORING_OFF_CQ_RING);
    if (!ok || !map(sqEntries * SQE_SIZE, IORING_OFF_SQES)) return release();
    let sendFd = -1;
    let listener: Deno.UnixListener | undefined;
    let dir: string | undefined;
    try {
      dir = Deno.makeTempDirSync({ prefix: "sluice-poller-" });
      const path = `${dir}/wake`;
      listener = Deno.listen({ transport: "unix", path });
      const accepted = listener.accept();
      sendFd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const name = new TextEncoder().encode(path);
      const addr = new Uint8Array(2 + name.length + 1);
      addr[0] = AF_UNIX;
      addr.set(name, 2);
      if (sendFd < 0 || libc.connect(sendFd, addr, addr.length) !== 0) {
        throw new Error("connect");
      }
      const conn = await accepted;
      return new RingWake(libc, ring, epfd, sendFd, conn, maps, view);
    } catch {
      if (sendFd >= 0) libc.close(sendFd);
      return release();
    } finally {
      listener?.close();
      try {
        if (dir !== undefined) Deno.removeSync(dir, { recursive: true });
      } catch {
        // a temporary folder left behind
      }
    }
  }

  /** Where the wake bytes arrive; read it to wait for the next events. */
  get conn(): Deno.Conn {
    return this.#conn;
  }

  /**
   * Asks for one byte on {@link conn} once the epoll set has events (at
   * once if it has some now). Call after each byte, once the set is drained.
   * False if the kernel did not take the request: no byte will come.
   */
  arm(): boolean {
    // completions are not looked at: move the head up to the tail
    const cq = this.#cq;
    cq[this.#cqHead] = cq[this.#cqTail]!;
    const sq = this.#sq;
    const tail = sq[this.#sqTail]!;
    const sqes = this.#sqes;
    for (let i = 0; i < 2; i++) {
      const slot = (tail + i) & this.#sqMask;
      const at = slot * SQE_SIZE;
      for (let b = 0; b < SQE_SIZE; b += 4) sqes.setUint32(at + b, 0, true);
      if (i === 0) {
        sqes.setUint8(at, IORING_OP_POLL_ADD);
        sqes.setUint8(at + 1, IOSQE_IO_LINK);
        sqes.setInt32(at + 4, this.#epfd, true);
        sqes.setUint32(at + 28, POLLIN, true);
      } else {
        sqes.setUint8(at, IORING_OP_SEND);
        sqes.setInt32(at + 4, this.#sendFd, true);
        sqes.setBigUint64(at + 16, this.#bytePointer, true);
        sqes.setUint32(at + 24, 1, true);
        sqes.setUint32(at + 28, MSG_DONTWAIT | MSG_NOSIGNAL, true);
      }
      sq[this.#sqArray + slot] = slot;
    }
    sq[this.#sqTail] = tail + 2;
    return this.#libc.syscall6(
      size(SYS_IO_URING_ENTER),
      this.#ring,
      2,
      0,
      0,
      null,
      size(0),
    ) === 2;
  }

  /** Closes the ring, the socket pair and the maps. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#libc.close(this.#sendFd);
    this.#libc.close(this.#ring);
    for (const m of this.#maps) this.#libc.munmap(m.pointer, size(m.length));
  }
}
