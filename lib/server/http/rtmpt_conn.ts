/**
 * One RTMPT session seen as a socket: the RTMP session reads what the
 * client's `/send` requests carried and writes what the next answer (to a
 * `/send` or an `/idle`) carries back. The way back is bounded like a
 * socket's send buffer: past it a write waits for the client's next poll,
 * so a client that stops polling stalls the writer and the slow-reader
 * policy drops it, as it drops a TCP peer that stops reading.
 *
 * @module
 */

import { concat } from "@std/bytes";
import type { StreamConn } from "../../net/tcp.ts";

/** Options of {@link RtmptConn}. */
export interface RtmptConnOptions {
  /** The peer of the HTTP connection that opened the session. */
  remoteAddr: Deno.Addr;
  /**
   * Bytes queued for the client before a write waits for a poll, as a
   * socket's send buffer. @default {262144}
   */
  maxQueuedBytes?: number;
  /** Called once when the connection closes, by either side. */
  onClose?: () => void;
}

/** Default {@link RtmptConnOptions.maxQueuedBytes}. */
export const MAX_QUEUED_BYTES = 256 * 1024;

interface PendingRead {
  p: Uint8Array;
  resolve(n: number | null): void;
}

interface BlockedWrite {
  n: number;
  resolve(n: number): void;
  reject(e: unknown): void;
}

/** The byte stream of one RTMPT session: a {@link StreamConn} fed by HTTP requests. */
export class RtmptConn implements StreamConn {
  readonly remoteAddr: Deno.Addr;
  readonly #maxQueued: number;
  readonly #onClose: (() => void) | undefined;
  /** Bytes from the client not yet read, and the offset into the first. */
  #in: Uint8Array[] = [];
  #inAt = 0;
  #inBytes = 0;
  /** Callers of {@link push} waiting for their bytes to be read. */
  #drained: (() => void)[] = [];
  #reading: PendingRead | undefined;
  /** Bytes for the client, waiting for a poll. */
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #blocked: BlockedWrite | undefined;
  #ended = false;
  #closed = false;

  constructor(options: RtmptConnOptions) {
    this.remoteAddr = options.remoteAddr;
    this.#maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.#onClose = options.onClose;
  }

  /** Whether the connection is closed (the session ended or the client left). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting for the client's next poll. */
  get queuedBytes(): number {
    return this.#outBytes;
  }

  /** Bytes from the client the session has not read yet. */
  get unreadBytes(): number {
    return this.#inBytes;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#closed || (this.#ended && this.#inBytes === 0)) {
      return Promise.resolve(null);
    }
    if (this.#inBytes > 0) return Promise.resolve(this.#copyInto(p));
    if (this.#reading !== undefined) {
      return Promise.reject(new TypeError("Cannot read: a read is pending"));
    }
    return new Promise((resolve) => (this.#reading = { p, resolve }));
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("RTMPT session ended"));
    }
    if (this.#blocked !== undefined) {
      return Promise.reject(new TypeError("Cannot write: a write is pending"));
    }
    if (p.length === 0) return Promise.resolve(0);
    this.#out.push(p);
    this.#outBytes += p.length;
    if (this.#outBytes <= this.#maxQueued) return Promise.resolve(p.length);
    return new Promise((resolve, reject) => {
      this.#blocked = { n: p.length, resolve, reject };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#in = [];
    this.#inBytes = 0;
    const reading = this.#reading;
    this.#reading = undefined;
    reading?.resolve(null);
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.reject(new Deno.errors.BadResource("RTMPT session ended"));
    this.#release();
    this.#onClose?.();
  }

  /**
   * Hands bytes of a `/send` body to the session; resolves once it has read
   * them all (or the connection closed), so the answer can carry what the
   * session replied to them.
   */
  push(bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#ended || bytes.length === 0) {
      return Promise.resolve();
    }
    this.#in.push(bytes);
    this.#inBytes += bytes.length;
    const reading = this.#reading;
    if (reading !== undefined) {
      this.#reading = undefined;
      reading.resolve(this.#copyInto(reading.p));
    }
    if (this.#inBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** The client closed the session (`/close`): the session reads the end after what is left. */
  end(): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    if (this.#inBytes === 0) {
      const reading = this.#reading;
      this.#reading = undefined;
      reading?.resolve(null);
    }
  }

  /**
   * Everything queued for the client, in one buffer (empty when nothing
   * is): what an answer carries after its polling-interval byte. A write
   * waiting for room goes on. After a close it still gives what the
   * session wrote last (an error answer), once.
   */
  take(): Uint8Array {
    const out = this.#out;
    if (out.length === 0) return new Uint8Array(0);
    const bytes = out.length === 1 ? out[0]! : concat(out);
    this.#out = [];
    this.#outBytes = 0;
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.resolve(blocked.n);
    return bytes;
  }

  #copyInto(p: Uint8Array): number {
    let n = 0;
    while (n < p.length && this.#in.length > 0) {
      const head = this.#in[0]!;
      const take = Math.min(head.length - this.#inAt, p.length - n);
      p.set(head.subarray(this.#inAt, this.#inAt + take), n);
      n += take;
      this.#inAt += take;
      if (this.#inAt === head.length) {
        this.#in.shift();
        this.#inAt = 0;
      }
    }
    this.#inBytes -= n;
    if (this.#inBytes === 0) this.#release();
    return n;
  }

  #release(): void {
    const drained = this.#drained;
    this.#drained = [];
    for (const resolve of drained) resolve();
  }
}
