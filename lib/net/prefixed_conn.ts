/**
 * A connection whose first bytes were already read: they are read again
 * before anything more comes from the socket. A REGISTER exchange reads up
 * to the end of its answer, and the next owner of the connection (Sluice's
 * RTSP server) must see whatever followed it in that read.
 *
 * @module
 */

import type { StreamConn } from "./tcp.ts";

/** `conn`, with `prefix` read first. */
export class PrefixedConn implements StreamConn {
  readonly #conn: StreamConn;
  #prefix: Uint8Array;

  constructor(conn: StreamConn, prefix: Uint8Array) {
    this.#conn = conn;
    this.#prefix = prefix;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#prefix.length === 0) return this.#conn.read(p);
    const n = Math.min(p.length, this.#prefix.length);
    p.set(this.#prefix.subarray(0, n));
    this.#prefix = this.#prefix.subarray(n);
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  close(): void {
    this.#prefix = new Uint8Array(0);
    this.#conn.close();
  }

  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }
}
