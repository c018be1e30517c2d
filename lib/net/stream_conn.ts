/**
 * What servers and clients read and write: the one interface of a byte
 * stream, whatever carries it.
 *
 * @module
 */

/**
 * A byte stream to a peer, as servers and clients read and write it: a TCP
 * socket, a TLS session on one, or a tunnel (RTSP over HTTP, RTMPT) that
 * carries the stream in HTTP requests. `Deno.TcpConn` and `Deno.TlsConn`
 * are ones.
 */
export interface StreamConn {
  /** Bytes read into `p`, or null once the peer closed. */
  read(p: Uint8Array): Promise<number | null>;
  /** Bytes of `p` written (possibly fewer than asked). */
  write(p: Uint8Array): Promise<number>;
  /**
   * Bytes of `p` the socket took at once, or -1 when it has no room now;
   * only where writing costs no promise (Sluice's own sockets).
   */
  tryWrite?(p: Uint8Array): number;
  /**
   * Hands every read to `onData` as a copy of exactly the bytes read, until
   * the peer closes (resolves) or `onData` returns false (resolves); rejects
   * as `read` would. Only where it costs less than a loop of `read` calls
   * (Sluice's own sockets: no buffer or promise per connection while the
   * peer is quiet); `readLoop` uses it when it is there.
   */
  readEach?(onData: (chunk: Uint8Array) => boolean | void): Promise<void>;
  /**
   * Sends up to `length` bytes of file `fd` from `offset` (resolves with the
   * bytes sent); only where the kernel can send from a file (Sluice's own
   * sockets, see `memory_files.ts`).
   */
  sendFile?(fd: number, offset: number, length: number): Promise<number>;
  /**
   * Bytes of file `fd` from `offset` the socket took at once, or -1 when
   * it has no room now: {@link sendFile} without a promise, where
   * {@link tryWrite} is.
   */
  trySendFile?(fd: number, offset: number, length: number): number;
  /** Bytes the socket took so far, where the socket counts them (Sluice's own). */
  readonly bytesSent?: number;
  close(): void;
  /** The peer: for a tunnel, the peer of the connection it came on. */
  readonly remoteAddr: Deno.Addr;
}
