/**
 * One HTTP-FLV player: a reader of the stream's FLV output whose response
 * body is written like a socket, on the shared tick, under the same
 * slow-reader policy as every other reader.
 *
 * @module
 */

import { flvHeader } from "../../flv/file.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";
import { FlvOutput, type FlvReader } from "../../egress/flv_output.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { BatchWriter, type WriteBatcher } from "../../net/batch_writer.ts";
import { BodySink } from "../../net/body_sink.ts";
import type { ServerConfig } from "../_config.ts";
import type { SessionInfo } from "../session_info.ts";

/** Options of {@link FlvPlayer}. */
export interface FlvPlayerOptions {
  stream: Stream;
  config: ServerConfig;
  log: Logger;
  /** The shared tick of every reader. */
  batcher: WriteBatcher;
  /** Called once when the player is gone (it left, the stream ended, or it was dropped). */
  onClosed: () => void;
  /** Called when the player is dropped for staying behind. */
  onDropped: () => void;
  /** Its id among the server's sessions (`flv-3`). @default {"flv"} */
  id?: string;
  /** `host:port` of the player. @default {""} */
  remoteAddress?: string;
}

/** A reader of the stream's FLV output, written to an HTTP response body. */
export class FlvPlayer implements FlvReader {
  readonly queue: ReaderQueue;
  readonly #sink: BodySink;
  readonly #writer: BatchWriter;
  readonly #lag: ReaderLag;
  readonly #stream: Stream;
  readonly #output: FlvOutput;
  readonly #log: Logger;
  readonly #onClosed: () => void;
  readonly #onDropped: () => void;
  #closed = false;
  readonly #id: string;
  readonly #remote: string;
  readonly #since = Date.now();

  constructor(options: FlvPlayerOptions) {
    const { stream, config } = options;
    this.#stream = stream;
    this.#id = options.id ?? "flv";
    this.#remote = options.remoteAddress ?? "";
    this.#log = options.log;
    this.#onClosed = options.onClosed;
    this.#onDropped = options.onDropped;
    this.#sink = new BodySink(() => this.#close("player left"));
    this.queue = new ReaderQueue({
      maxBytes: config.writeQueueSize,
      onReady: (urgent) => this.#writer.kick(urgent),
    });
    this.#writer = new BatchWriter(this.#sink, () => this.queue.drain(), {
      batcher: options.batcher,
      onError: () => this.#close("player left"),
    });
    this.#lag = new ReaderLag(this.queue, {
      protocol: "flv",
      writeTimeoutMs: config.writeTimeout,
    });
    this.#output = stream.output<FlvOutput>(
      "flv",
      (cached) =>
        new FlvOutput(cached, { framing: "flv", tick: options.batcher }),
    );
    const known = this.#output.hasAudio || this.#output.hasVideo;
    this.queue.offer({
      bytes: flvHeader(
        known ? this.#output.hasAudio : true,
        known ? this.#output.hasVideo : true,
      ),
      kind: PACKET_KIND.CONTROL,
    });
    this.#output.addReader(this);
    this.#log.info("playing", { path: stream.path });
  }

  /** What the API shows of this player. */
  info(): SessionInfo {
    return {
      id: this.#id,
      protocol: "flv",
      remoteAddress: this.#remote,
      path: this.#stream.path,
      role: "reader",
      state: this.#closed ? "closed" : "playing",
      since: this.#since,
      bytesIn: 0,
      bytesOut: this.#writer.bytesOut,
      packetsOut: this.queue.mediaPackets,
      firstFrameMs: this.queue.firstMediaMs === undefined
        ? undefined
        : this.queue.firstMediaMs - this.#since,
    };
  }

  /** The response body. */
  get body(): ReadableStream<Uint8Array> {
    return this.#sink.body;
  }

  /** The stream ended: what is queued still goes out, then the body ends. */
  onEnd(): void {
    this.#log.info("stream ended", { path: this.#stream.path });
    void this.#writer.drained().then(() => {
      this.#sink.close();
      this.#close("stream ended");
    });
  }

  /** Ends the body at once (shutdown). */
  end(reason: string): void {
    this.#sink.error(reason);
    this.#close(reason);
  }

  /** The slow-reader policy, once a tick. */
  tick(now: number): void {
    if (this.#closed) return;
    const v = this.#lag.check(now, this.#writer.stalledMs(), this.#stream);
    if (!v.drop) {
      if (v.firstSkip) {
        this.#log.info("reader fell behind: skipping to the next keyframe", {
          path: this.#stream.path,
        });
      }
      return;
    }
    this.#onDropped();
    this.#log.warn("dropping reader: it stayed behind", {
      path: this.#stream.path,
      behindMs: v.behindMs,
    });
    this.end("reader too slow");
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lag.countDrops(this.#stream);
    this.#output.removeReader(this);
    this.queue.close();
    this.#log.debug("closed", { reason });
    this.#onClosed();
  }
}
