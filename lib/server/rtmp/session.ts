/**
 * One RTMP connection: its read loop, the handshake, the chunk stream cut
 * into messages, timeouts and the slow-reader check, what it sends, how it
 * closes, and the one place where any error ends this connection alone.
 *
 * @module
 */

import type { Vod } from "../../vod/vod.ts";
import type { Authenticator } from "../../auth/authenticator.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { OutputTick } from "../../egress/tick.ts";
import { ProtocolError } from "../../errors.ts";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import { readLoop } from "../../net/read_loop.ts";
import { BatchWriter, type WriteBatcher } from "../../net/batch_writer.ts";
import {
  closeQuietly,
  isConnectionEnd,
  remoteOf,
  type StreamConn,
} from "../../net/tcp.ts";
import { ChunkDemuxer } from "../../rtmp/chunk_demuxer.ts";
import { encodeMessage } from "../../rtmp/chunk_muxer.ts";
import { decodeCommand } from "../../rtmp/command.ts";
import { HandshakeServer } from "../../rtmp/handshake.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../rtmp/message.ts";
import { PeerControl } from "../../rtmp/peer_control.ts";
import { dispatch, errorAnswer } from "./commands.ts";
import {
  type CommandSession,
  type CommandSource,
  type CommandState,
  initialState,
  type RtmpServerConfig,
} from "./context.ts";
import { stopPlaying } from "./play.ts";
import type { SessionInfo } from "../session_info.ts";

/** Counters the session adds to. */
export interface RtmpSessionStats {
  protocolErrors: number;
  readersDropped: number;
}

/** What a session shares with the server and its other sessions. */
export interface RtmpSessionOptions {
  hub: Pick<Hub, "publish" | "waitForStream" | "readerLeft">;
  config: RtmpServerConfig;
  /** The server's logger: the session logs through a child of it. */
  log: Logger;
  stats: RtmpSessionStats;
  /** The shared tick of every reader. */
  batcher: WriteBatcher;
  /** Called once the socket is closed. */
  onClosed: () => void;
  /** The VOD folder: paths under `vod/` play its files. */
  vod?: Vod;
  /** Who may publish and play; one built from `config` when left out. */
  auth?: Pick<Authenticator, "authorize">;
}

/** How long a closing connection may take to flush its last replies. */
const FLUSH_MS = 2000;

/** One RTMP connection, from the handshake to its close. */
export class RtmpSession implements CommandSession {
  readonly hub: RtmpSessionOptions["hub"];
  readonly auth: RtmpSessionOptions["auth"];
  readonly remoteHostname: string;
  readonly id: string;
  readonly config: RtmpServerConfig;
  readonly log: Logger;
  readonly vod: Vod | undefined;
  readonly state: CommandState = initialState();
  readonly queue: ReaderQueue;
  readonly outputTick: OutputTick;
  readonly #conn: StreamConn;
  readonly #stats: RtmpSessionStats;
  readonly #onClosed: () => void;
  readonly #writer: BatchWriter;
  readonly #abort = new AbortController();
  #handshake: HandshakeServer | undefined = new HandshakeServer({ timeMs: 0 });
  readonly #demuxer: ChunkDemuxer;
  readonly #peer = new PeerControl();
  readonly #lag: ReaderLag;
  #lastReadMs = Date.now();
  readonly #id: number;
  readonly #since = Date.now();
  #closing: Promise<void> | undefined;
  #closed = false;
  /** The command being answered, until its answer is sent. */
  #answering: CommandSource | undefined;

  constructor(id: number, conn: StreamConn, options: RtmpSessionOptions) {
    this.#conn = conn;
    this.#id = id;
    this.hub = options.hub;
    this.vod = options.vod;
    this.auth = options.auth;
    this.id = `rtmp#${id}`;
    this.remoteHostname = (conn.remoteAddr as Deno.NetAddr).hostname ?? "";
    this.config = options.config;
    this.#stats = options.stats;
    this.#onClosed = options.onClosed;
    this.log = options.log.child(`rtmp#${id} ${remoteOf(conn)}`);
    this.outputTick = options.batcher;
    this.queue = new ReaderQueue({
      maxBytes: this.config.writeQueueSize,
      onReady: (urgent) => this.#writer.kick(urgent),
    });
    this.#lag = new ReaderLag(this.queue, {
      protocol: "rtmp",
      writeTimeoutMs: this.config.writeTimeout,
    });
    this.#writer = new BatchWriter(conn, () => this.queue.drain(), {
      onError: (e) => void this.close(`write failed: ${errorText(e)}`),
      batcher: options.batcher,
    });
    this.#demuxer = new ChunkDemuxer({
      maxMessageSize: this.config.rtmpMaxMessageSize,
      maxChunkSize: this.config.rtmpMaxChunkSize,
      // room for a whole message on the video and the audio chunk stream at once
      maxPendingBytes: 2 * this.config.rtmpMaxMessageSize,
    });
  }

  /** What the API shows of this connection. */
  info(): SessionInfo {
    const { phase, path } = this.state;
    return {
      id: `rtmp-${this.#id}`,
      protocol: "rtmp",
      remoteAddress: remoteOf(this.#conn),
      path: path === "" ? undefined : path,
      role: phase === "publishing"
        ? "publisher"
        : phase === "playing" || phase === "waiting"
        ? "reader"
        : "none",
      state: phase,
      since: this.#since,
      bytesIn: this.#demuxer.bytesIn,
      bytesOut: this.#writer.bytesOut,
      packetsOut: this.queue.mediaPackets,
      firstFrameMs: this.queue.firstMediaMs === undefined
        ? undefined
        : this.queue.firstMediaMs - this.#since,
    };
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get closing(): boolean {
    return this.#closed || this.#closing !== undefined;
  }

  /** Reads until the peer goes or the session closes. */
  async run(): Promise<void> {
    this.log.debug("connected");
    try {
      // One buffer per connection that grows for a publisher and stays
      // small for a player: a pending read holds it while the peer is quiet.
      await readLoop(this.#conn, (chunk) => {
        this.#lastReadMs = Date.now();
        this.#receive(chunk);
        return !this.#closed;
      });
      await this.close("peer closed the connection");
    } catch (e) {
      await this.fail(e, this.#answering);
    }
  }

  /**
   * What any error ends the session with: a protocol error gets the RTMP
   * answer of the command it came from when there is one ({@link errorAnswer}),
   * then one line is logged and the session closes, this one alone.
   */
  async fail(e: unknown, source?: CommandSource): Promise<void> {
    if (this.#closed) return;
    if (e instanceof ProtocolError) {
      this.#stats.protocolErrors++;
      this.log.warn(`closing: ${e.message}`, { code: e.code });
      const answer = source === undefined ? undefined : errorAnswer(e, source);
      if (answer !== undefined) {
        this.send(answer);
        return this.close("error"); // after the answer
      }
    } else if (isConnectionEnd(e)) {
      this.log.debug(`connection ended: ${errorText(e)}`);
    } else {
      this.log.error(`closing after an unexpected error: ${errorText(e)}`);
    }
    await this.close("error", { flush: false });
  }

  /** Timeouts and the slow-reader check, once a second. */
  tick(now: number): void {
    if (this.#closed) return;
    const { phase } = this.state;
    if (phase === "playing") {
      const v = this.#lag.check(
        now,
        this.#writer.stalledMs(),
        this.state.stream,
      );
      if (!v.drop) {
        if (v.firstSkip) this.#logSkip();
        return;
      }
      this.#stats.readersDropped++;
      this.log.warn("dropping reader: it stayed behind", {
        path: this.state.path,
        behindMs: v.behindMs,
      });
      void this.close("reader too slow", { flush: false });
      return;
    }
    if (phase === "waiting") return; // bounded by playWaitTimeout
    if (now - this.#lastReadMs > this.config.readTimeout) {
      this.log.warn("closing: nothing received", {
        state: this.#handshake === undefined ? phase : "handshake",
        timeoutMs: this.config.readTimeout,
      });
      void this.close("read timeout", { flush: false });
    }
  }

  countDrops(): void {
    if (this.#lag.countDrops(this.state.stream)) this.#logSkip();
  }

  #logSkip(): void {
    this.log.info("reader fell behind: skipping to the next keyframe", {
      path: this.state.path,
    });
  }

  #receive(chunk: Uint8Array): void {
    if (this.#handshake !== undefined) {
      const reply = this.#handshake.push(chunk);
      if (reply !== undefined) this.#sendRaw(reply);
      if (!this.#handshake.done) return;
      chunk = this.#handshake.rest;
      this.#handshake = undefined;
      if (chunk.length === 0) return;
    }
    this.#demuxer.push(chunk, { enqueue: (m) => this.#message(m) });
    const ack = this.#peer.ack(this.#demuxer.bytesIn);
    if (ack !== undefined) this.send(ack);
  }

  #message(m: RtmpMessage): void {
    if (this.#closed) return;
    switch (m.typeId) {
      case MESSAGE_TYPE.AUDIO:
      case MESSAGE_TYPE.VIDEO:
      case MESSAGE_TYPE.DATA_AMF0:
      case MESSAGE_TYPE.DATA_AMF3:
      case MESSAGE_TYPE.AGGREGATE: {
        const { ingest, publishStreamId } = this.state;
        if (ingest !== undefined && m.streamId === publishStreamId) {
          ingest.push(m);
        }
        return;
      }
      case MESSAGE_TYPE.COMMAND_AMF0:
      case MESSAGE_TYPE.COMMAND_AMF3: {
        const cmd = decodeCommand(
          m.payload,
          m.typeId === MESSAGE_TYPE.COMMAND_AMF3,
        );
        // kept when dispatch throws: run() hands it to fail()
        this.#answering = { cmd, streamId: m.streamId };
        dispatch(this, cmd, m.streamId);
        this.#answering = undefined;
        return;
      }
      case MESSAGE_TYPE.USER_CONTROL:
      case MESSAGE_TYPE.WINDOW_ACK_SIZE: {
        const answer = this.#peer.handle(m);
        if (answer !== undefined) this.send(answer);
        return;
      }
      default:
        return; // chunk size and abort were applied by the demuxer; acks need no answer
    }
  }

  send(message: RtmpMessage): void {
    this.#sendRaw(encodeMessage(message, this.state.outChunkSize));
  }

  #sendRaw(bytes: Uint8Array): void {
    this.queue.offer({ bytes, kind: PACKET_KIND.CONTROL });
  }

  flush(): void {
    this.#writer.kick(true);
  }

  /** Ends the session: flushes the last replies (unless told not to), then closes the socket. */
  close(reason: string, options: { flush?: boolean } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      this.log.debug("closing", { reason });
      this.#abort.abort(new Error(reason));
      const { state } = this;
      if (state.publisher !== undefined) {
        state.publisher.close();
        this.log.info("publisher gone", { path: state.path, reason });
      }
      state.publisher = undefined;
      stopPlaying(this);
      if (options.flush ?? true) {
        await Promise.race([
          this.#writer.drained(),
          new Promise((r) => setTimeout(r, FLUSH_MS)),
        ]);
      }
      this.#closed = true;
      this.queue.close();
      closeQuietly(this.#conn);
      this.#onClosed();
    })();
    return this.#closing;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
