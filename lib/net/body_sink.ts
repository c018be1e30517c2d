/**
 * An HTTP response body that a {@link BatchWriter} writes to as it writes to
 * a socket: a write resolves when the body has handed the bytes on (the
 * HTTP server pulled them), so a slow client backs up exactly as a slow TCP
 * peer does and the same slow-reader policy sees it.
 *
 * @module
 */

/** A response body fed by writes. */
export class BodySink {
  readonly body: ReadableStream<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Resolves the write waiting for the body to take its bytes. */
  #taken: (() => void) | undefined;
  #done = false;

  /** `onCancel` runs once when the client goes away. */
  constructor(onCancel: () => void) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#release(),
      cancel: () => {
        this.#done = true;
        this.#release();
        onCancel();
      },
    }, { highWaterMark: 0 });
  }

  /** Queues `bytes` on the body; resolves once the body has taken them. */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#done) {
      return Promise.reject(new Error("Cannot write: the body has ended"));
    }
    this.#controller!.enqueue(bytes);
    if ((this.#controller!.desiredSize ?? 0) > 0) {
      return Promise.resolve(bytes.length);
    }
    return new Promise((resolve) => {
      this.#taken = () => resolve(bytes.length);
    });
  }

  /** Ends the body after what was written. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release();
    try {
      this.#controller?.close();
    } catch {
      // the client went already
    }
  }

  /** Ends the body with an error (the client sees the transfer fail). */
  error(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#release();
    try {
      this.#controller?.error(new Error(reason));
    } catch {
      // the client went already
    }
  }

  #release(): void {
    const taken = this.#taken;
    this.#taken = undefined;
    taken?.();
  }
}
