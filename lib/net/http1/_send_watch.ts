/**
 * The send timeout of an HTTP/1.1 connection: whether its response's writes
 * still move (private to `http1/`).
 *
 * @module
 */

import type { StreamConn } from "../stream_conn.ts";
import type { ResponseTarget } from "./_whole.ts";

/**
 * Watches a connection's response writes and calls `onStalled` when one
 * made no progress for a whole `timeoutMs`: no write started or ended and
 * the socket took no byte between two checks while a write was pending (a
 * client that stopped reading). A streamed body that is merely quiet
 * between writes is not timed.
 *
 * Counts, not a timer per write, since a thousand HTTP-FLV players make ten
 * thousand writes a second; one timer per `timeoutMs` runs while
 * `writing()` holds.
 */
export class SendWatch {
  /**
   * What responses are written to: the socket where it counts the bytes it
   * took (Sluice's own), else a wrapper that counts what its writes return.
   */
  readonly target: ResponseTarget;
  readonly #conn: StreamConn;
  readonly #timeoutMs: number;
  readonly #writing: () => boolean;
  readonly #onStalled: () => void;
  #started = 0;
  #ended = 0;
  /** Bytes written through {@link target}'s wrapper. */
  #written = 0;
  #checkedStarted = 0;
  #checkedEnded = 0;
  #checkedSent = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Told when a write of a streamed body starts (`true`) and when the body is awaited (`false`). */
  readonly onWrite = (pending: boolean): void => {
    if (pending) this.#started++;
    else this.#ended++;
  };
  readonly #check = (): void => {
    this.#timer = undefined;
    if (!this.#writing()) return;
    const started = this.#started, ended = this.#ended;
    if (
      started > ended && started === this.#checkedStarted &&
      ended === this.#checkedEnded && this.#sent() === this.#checkedSent
    ) return this.#onStalled();
    this.#watch();
  };

  constructor(
    conn: StreamConn,
    timeoutMs: number,
    writing: () => boolean,
    onStalled: () => void,
  ) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
    this.#writing = writing;
    this.#onStalled = onStalled;
    this.target = conn.bytesSent !== undefined ? conn : {
      write: (p) =>
        conn.write(p).then((n) => {
          this.#written += n;
          return n;
        }),
      close: () => conn.close(),
    };
  }

  /** A response's first write (its head, or a whole answer) starts. */
  begin(): void {
    this.#watch();
    this.#started++;
  }

  /** The response is written: nothing is pending. */
  end(): void {
    this.#ended = this.#started;
  }

  /** No more checks: the connection is closed. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sent(): number {
    return this.#conn.bytesSent ?? this.#written;
  }

  #watch(): void {
    if (this.#timer !== undefined || !this.#writing()) return;
    this.#checkedStarted = this.#started;
    this.#checkedEnded = this.#ended;
    this.#checkedSent = this.#sent();
    this.#timer = setTimeout(this.#check, this.#timeoutMs);
  }
}
