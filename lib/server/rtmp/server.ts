/**
 * The RTMP server: accepts publishers (ffmpeg, OBS) and players (ffmpeg,
 * ffplay, VLC), runs the handshake and the command state machine, and links
 * both through the hub.
 *
 * @module
 */

import { ProtocolError } from "../../errors.ts";
import type { Track } from "../../media/track.ts";
import { type Hub, HubError, type Publisher } from "../../hub/hub.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import { BatchWriter, WriteBatcher } from "../../net/batch_writer.ts";
import {
  closeQuietly,
  isConnectionEnd,
  listenTcp,
  remoteOf,
  type TcpListener,
} from "../../net/tcp.ts";
import { ChunkDemuxer } from "../../rtmp/chunk_demuxer.ts";
import { encodeMessage } from "../../rtmp/chunk_muxer.ts";
import {
  decodeCommand,
  encodeCommand,
  encodeData,
  NET_STATUS,
  type RtmpCommand,
  statusInfo,
  type StatusLevel,
} from "../../rtmp/command.ts";
import {
  PEER_BANDWIDTH_LIMIT,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamEof,
  windowAckSize,
} from "../../rtmp/control.ts";
import { HandshakeServer } from "../../rtmp/handshake.ts";
import { PeerControl } from "../../rtmp/peer_control.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../rtmp/message.ts";
import {
  checkQueryCredentials,
  requiredCredentials,
} from "../../auth/credentials.ts";
import type { ServerConfig } from "../_config.ts";
import type { Config } from "../../config/schema.ts";
import { RtmpInput } from "../../ingest/rtmp_input.ts";
import { FlvOutput, type FlvReader } from "../../egress/flv_output.ts";
import { isValidPath } from "../../hub/path.ts";
import { rtmpPath } from "../../rtmp/url.ts";
import { ReaderLag } from "../../egress/reader_lag.ts";

/** What the RTMP server needs of the configuration (milliseconds and bytes). */
export type RtmpServerConfig =
  & ServerConfig
  & Pick<Config, "rtmpChunkSize" | "rtmpMaxMessageSize" | "rtmpMaxChunkSize">;

/** Options of {@link RtmpServer}. */
export interface RtmpServerOptions {
  hub: Pick<Hub, "publish" | "waitForStream" | "readerLeft">;
  config: RtmpServerConfig;
  log: Logger;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** The shared tick of every reader; one of its own when left out. */
  batcher?: WriteBatcher;
}

/** Acknowledgement window Sluice announces (bytes), as common servers do. */
const WINDOW_ACK_SIZE = 2_500_000;
/**
 * Read buffer of a publisher; every other connection gets a small one (a
 * pending read holds its buffer, and players send almost nothing).
 */
const PUBLISH_READ_SIZE = 64 * 1024;
const SMALL_READ_SIZE = 2 * 1024;
/** How long a closing connection may take to flush its last replies. */
const FLUSH_MS = 2000;
const TICK_MS = 1000;

type State =
  | "handshake"
  | "connecting"
  | "connected"
  | "waiting"
  | "playing"
  | "publishing"
  | "closed";

/** Counters over all connections. */
export interface RtmpServerStats {
  connections: number;
  protocolErrors: number;
  readersDropped: number;
}

/** The RTMP listener and its sessions. */
export class RtmpServer {
  readonly #options: RtmpServerOptions;
  readonly #sessions = new Set<RtmpSession>();
  readonly #batcher: WriteBatcher;
  #listener: TcpListener | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  readonly stats: RtmpServerStats = {
    connections: 0,
    protocolErrors: 0,
    readersDropped: 0,
  };

  constructor(options: RtmpServerOptions) {
    this.#options = options;
    this.#batcher = options.batcher ??
      new WriteBatcher(options.config.writeBatchInterval);
  }

  /** Starts listening; returns the port (useful with port 0). */
  start(): { hostname: string; port: number } {
    const { hostname, port, log } = this.#options;
    this.#listener = listenTcp({
      hostname,
      port,
      onConnection: (conn) => this.#accept(conn),
      onError: (e) =>
        log.warn("Cannot accept RTMP connection", { error: String(e) }),
    });
    this.#tick = setInterval(() => {
      const now = Date.now();
      for (const s of this.#sessions) s.tick(now);
    }, TICK_MS);
    log.info("RTMP listening", {
      address: `${this.#listener.hostname}:${this.#listener.port}`,
    });
    return { hostname: this.#listener.hostname, port: this.#listener.port };
  }

  /** Open connections. */
  get sessions(): number {
    return this.#sessions.size;
  }

  #accept(conn: Deno.TcpConn): void {
    const id = this.#nextId++;
    this.stats.connections++;
    const session = new RtmpSession(
      id,
      conn,
      this.#options,
      { stats: this.stats, batcher: this.#batcher },
      () => this.#sessions.delete(session),
    );
    this.#sessions.add(session);
    session.run();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener?.close();
    if (this.#tick !== undefined) clearInterval(this.#tick);
    await Promise.all(
      [...this.#sessions].map((s) => s.close("server shutting down")),
    );
  }
}

class RtmpSession {
  readonly #id: number;
  readonly #conn: Deno.TcpConn;
  readonly #opts: RtmpServerOptions;
  readonly #cfg: RtmpServerConfig;
  readonly #log: Logger;
  readonly #stats: RtmpServerStats;
  readonly #onClosed: () => void;
  readonly #queue: ReaderQueue;
  readonly #writer: BatchWriter;
  readonly #abort = new AbortController();
  #handshake: HandshakeServer | undefined = new HandshakeServer({ timeMs: 0 });
  readonly #demuxer: ChunkDemuxer;
  #state: State = "handshake";
  #outChunkSize = 128;
  #app = "";
  /** The query of the tcUrl (`rtmp://h/live?user=u&pass=p`), for credentials. */
  #appQuery = "";
  #objectEncoding = 0;
  #nextStreamId = 1;
  #lastReadMs = Date.now();
  readonly #peer = new PeerControl();
  #closing: Promise<void> | undefined;
  // publishing
  #publisher: Publisher | undefined;
  #publishStreamId = 0;
  #ingest: RtmpInput | undefined;
  // playing
  #stream: Stream | undefined;
  #output: FlvOutput | undefined;
  #reader: FlvReader | undefined;
  #playStreamId = 0;
  #path = "";
  readonly #lag: ReaderLag;

  constructor(
    id: number,
    conn: Deno.TcpConn,
    opts: RtmpServerOptions,
    shared: { stats: RtmpServerStats; batcher: WriteBatcher },
    onClosed: () => void,
  ) {
    this.#id = id;
    this.#conn = conn;
    this.#opts = opts;
    this.#cfg = opts.config;
    this.#stats = shared.stats;
    this.#onClosed = onClosed;
    this.#log = opts.log.child(`rtmp#${id} ${remoteOf(conn)}`);
    this.#queue = new ReaderQueue({
      maxBytes: this.#cfg.writeQueueSize,
      onReady: (urgent) => this.#writer.kick(urgent),
    });
    this.#lag = new ReaderLag(this.#queue, {
      protocol: "rtmp",
      writeTimeoutMs: this.#cfg.writeTimeout,
    });
    this.#writer = new BatchWriter(conn, () => this.#queue.take(), {
      onError: (e) => void this.close(`write failed: ${errorText(e)}`),
      batcher: shared.batcher,
    });
    this.#demuxer = new ChunkDemuxer({
      maxMessageSize: this.#cfg.rtmpMaxMessageSize,
      maxChunkSize: this.#cfg.rtmpMaxChunkSize,
      // room for a whole message on the video and the audio chunk stream at once
      maxPendingBytes: 2 * this.#cfg.rtmpMaxMessageSize,
    });
  }

  /** Reads until the peer goes or the session closes. */
  async run(): Promise<void> {
    this.#log.debug("connected");
    try {
      while (this.#state !== "closed") {
        const buf = new Uint8Array(
          this.#state === "publishing" ? PUBLISH_READ_SIZE : SMALL_READ_SIZE,
        );
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#lastReadMs = Date.now();
        this.#receive(buf.subarray(0, n));
      }
      await this.close("peer closed the connection");
    } catch (e) {
      await this.#fail(e);
    }
  }

  /** Logs one line for what ended the session and closes it. */
  async #fail(e: unknown): Promise<void> {
    if (this.#state === "closed") return;
    if (e instanceof ProtocolError) {
      this.#stats.protocolErrors++;
      this.#log.warn(`closing: ${e.message}`, { code: e.code });
    } else if (isConnectionEnd(e)) {
      this.#log.debug(`connection ended: ${errorText(e)}`);
    } else {
      this.#log.error(`closing after an unexpected error: ${errorText(e)}`);
    }
    await this.close("error", { flush: false });
  }

  /** Timeouts, checked once a second. */
  tick(now: number): void {
    if (this.#state === "closed") return;
    if (this.#state === "playing") {
      const v = this.#lag.check(now, this.#writer.stalledMs(), this.#stream);
      if (!v.drop) {
        if (v.firstSkip) this.#logSkip();
        return;
      }
      this.#stats.readersDropped++;
      this.#log.warn("dropping reader: it stayed behind", {
        path: this.#path,
        behindMs: v.behindMs,
      });
      void this.close("reader too slow", { flush: false });
      return;
    }
    if (this.#state === "waiting") return; // bounded by playWaitTimeout
    if (now - this.#lastReadMs > this.#cfg.readTimeout) {
      this.#log.warn("closing: nothing received", {
        state: this.#state,
        timeoutMs: this.#cfg.readTimeout,
      });
      void this.close("read timeout", { flush: false });
    }
  }

  #countDrops(): void {
    if (this.#lag.countDrops(this.#stream)) this.#logSkip();
  }

  #logSkip(): void {
    this.#log.info("reader fell behind: skipping to the next keyframe", {
      path: this.#path,
    });
  }

  #receive(chunk: Uint8Array): void {
    if (this.#handshake !== undefined) {
      const reply = this.#handshake.push(chunk);
      if (reply !== undefined) this.#sendRaw(reply);
      if (!this.#handshake.done) return;
      this.#state = "connecting";
      chunk = this.#handshake.rest;
      this.#handshake = undefined;
      if (chunk.length === 0) return;
    }
    this.#demuxer.push(chunk, { enqueue: (m) => this.#message(m) });
    const ack = this.#peer.ack(this.#demuxer.bytesIn);
    if (ack !== undefined) this.#send(ack);
  }

  #message(m: RtmpMessage): void {
    if (this.#state === "closed") return;
    switch (m.typeId) {
      case MESSAGE_TYPE.AUDIO:
      case MESSAGE_TYPE.VIDEO:
      case MESSAGE_TYPE.DATA_AMF0:
      case MESSAGE_TYPE.DATA_AMF3:
      case MESSAGE_TYPE.AGGREGATE:
        if (
          this.#ingest !== undefined && m.streamId === this.#publishStreamId
        ) this.#ingest.push(m);
        return;
      case MESSAGE_TYPE.COMMAND_AMF0:
      case MESSAGE_TYPE.COMMAND_AMF3:
        return this.#command(
          decodeCommand(m.payload, m.typeId === MESSAGE_TYPE.COMMAND_AMF3),
          m,
        );
      case MESSAGE_TYPE.USER_CONTROL:
      case MESSAGE_TYPE.WINDOW_ACK_SIZE: {
        const answer = this.#peer.handle(m);
        if (answer !== undefined) this.#send(answer);
        return;
      }
      default:
        return; // chunk size and abort were applied by the demuxer; acks need no answer
    }
  }

  // ---- commands ----

  #command(cmd: RtmpCommand, m: RtmpMessage): void {
    this.#log.debug(`command ${cmd.name}`, {
      txn: cmd.transactionId,
      stream: m.streamId,
    });
    switch (cmd.name) {
      case "connect":
        return this.#connect(cmd);
      case "createStream":
        return this.#result(cmd, null, this.#nextStreamId++);
      case "releaseStream":
      case "FCPublish":
      case "getStreamLength":
      case "_checkbw":
        if (cmd.transactionId > 0) {
          this.#result(
            cmd,
            null,
            cmd.name === "getStreamLength" ? 0 : undefined,
          );
        }
        return;
      case "FCUnpublish":
        return;
      case "publish":
        return this.#publish(cmd, m.streamId);
      case "play":
        this.#play(String(cmd.args[0] ?? ""), m.streamId).catch((e) =>
          this.#fail(e)
        );
        return;
      case "play2": {
        const params = cmd.args[0] as
          | { streamName?: unknown }
          | null
          | undefined;
        this.#play(String(params?.streamName ?? ""), m.streamId).catch((e) =>
          this.#fail(e)
        );
        return;
      }
      case "deleteStream":
      case "closeStream": {
        const id = cmd.name === "deleteStream"
          ? Number(cmd.args[0])
          : m.streamId;
        if (this.#publisher !== undefined && id === this.#publishStreamId) {
          this.#stopPublishing();
          this.#status(
            id,
            "status",
            NET_STATUS.UNPUBLISH_SUCCESS,
            `${this.#path} is now unpublished`,
          );
        }
        if (this.#reader !== undefined && id === this.#playStreamId) {
          this.#stopPlaying();
        }
        return;
      }
      case "pause": {
        if (this.#reader === undefined || this.#output === undefined) return;
        const pause = cmd.args[0] === true;
        if (pause) {
          this.#output.removeReader(this.#reader);
          this.#status(
            this.#playStreamId,
            "status",
            NET_STATUS.PAUSE_NOTIFY,
            `Paused ${this.#path}`,
          );
        } else {
          this.#status(
            this.#playStreamId,
            "status",
            NET_STATUS.UNPAUSE_NOTIFY,
            `Unpaused ${this.#path}`,
          );
          this.#output.addReader(this.#reader);
        }
        return;
      }
      case "receiveAudio":
      case "receiveVideo": {
        // Takes effect from the next frame: the shared packets are filtered per player.
        if (this.#reader === undefined) return;
        const on = cmd.args[0] !== false;
        if (cmd.name === "receiveAudio") this.#reader.audio = on;
        else this.#reader.video = on;
        return;
      }
      default:
        return;
    }
  }

  #connect(cmd: RtmpCommand): void {
    if (this.#state !== "connecting") {
      throw new ProtocolError("Cannot connect twice on one connection", {
        protocol: "rtmp",
        code: "sequence",
      });
    }
    const obj = (cmd.commandObject ?? {}) as Record<string, unknown>;
    this.#app = typeof obj.app === "string" ? obj.app : "";
    const tcUrl = typeof obj.tcUrl === "string" ? obj.tcUrl : "";
    this.#appQuery = tcUrl.includes("?")
      ? tcUrl.slice(tcUrl.indexOf("?") + 1)
      : "";
    this.#objectEncoding = obj.objectEncoding === 3 ? 3 : 0;
    this.#state = "connected";
    // One write for the whole answer: the client's delayed ACK would cost ~40 ms between small writes.
    this.#send(windowAckSize(WINDOW_ACK_SIZE));
    this.#send(setPeerBandwidth(WINDOW_ACK_SIZE, PEER_BANDWIDTH_LIMIT.DYNAMIC));
    this.#send(setChunkSize(this.#cfg.rtmpChunkSize));
    this.#outChunkSize = this.#cfg.rtmpChunkSize;
    this.#sendCommand(0, {
      name: "_result",
      transactionId: cmd.transactionId,
      commandObject: { fmsVer: "FMS/3,0,1,123", capabilities: 31, mode: 1 },
      args: [
        statusInfo(
          "status",
          NET_STATUS.CONNECT_SUCCESS,
          "Connection succeeded.",
          {
            objectEncoding: this.#objectEncoding,
          },
        ),
      ],
    });
    this.#log.debug("connect", {
      app: this.#app,
      tcUrl: String(obj.tcUrl ?? ""),
    });
  }

  #publish(cmd: RtmpCommand, streamId: number): void {
    this.#requireConnected();
    const name = String(cmd.args[0] ?? "");
    const codes = {
      invalid: NET_STATUS.PUBLISH_BAD_NAME,
      denied: NET_STATUS.PUBLISH_BAD_NAME,
    };
    const path = this.#admit(name, streamId, "publish", codes);
    if (path === undefined) return;
    if (this.#publisher !== undefined || this.#reader !== undefined) {
      return this.#refuse(
        streamId,
        NET_STATUS.PUBLISH_BAD_NAME,
        "This connection already publishes or plays",
      );
    }
    const override = this.#cfg.paths?.[path]?.overridePublisher ??
      this.#cfg.overridePublisher;
    let publisher: Publisher;
    try {
      publisher = this.#opts.hub.publish(path, {
        overridePublisher: override,
        // #admit checked them: a path with publish credentials only let
        // it this far with them
        authenticated:
          requiredCredentials(this.#cfg.paths, path, "publish") !== undefined,
        onTakenOver: () => {
          this.#log.info("another publisher took the path over", { path });
          this.#publisher = undefined;
          void this.close("taken over", { flush: false });
        },
      });
    } catch (e) {
      if (!(e instanceof HubError)) throw e;
      this.#log.info("publish refused: path is busy", {
        path,
        reason: e.message,
      });
      return this.#refuse(
        streamId,
        NET_STATUS.PUBLISH_BAD_NAME,
        `Stream ${path} is already publishing`,
        "path busy",
      );
    }
    this.#path = path;
    this.#publisher = publisher;
    this.#publishStreamId = streamId;
    this.#ingest = new RtmpInput(publisher, (track) => {
      this.#log.info("track", {
        path,
        codec: track.codec,
        ...trackFields(track),
      });
    });
    this.#state = "publishing";
    this.#send(streamBegin(streamId));
    this.#status(
      streamId,
      "status",
      NET_STATUS.PUBLISH_START,
      `${path} is now published`,
    );
    this.#log.info("publishing", { path, type: String(cmd.args[1] ?? "live") });
  }

  async #play(name: string, streamId: number): Promise<void> {
    this.#requireConnected();
    const codes = {
      invalid: NET_STATUS.PLAY_STREAM_NOT_FOUND,
      denied: NET_STATUS.PLAY_FAILED,
    };
    const path = this.#admit(name, streamId, "read", codes);
    if (path === undefined) return;
    if (
      this.#publisher !== undefined || this.#reader !== undefined ||
      this.#state === "waiting"
    ) {
      return this.#refuse(
        streamId,
        NET_STATUS.PLAY_FAILED,
        "This connection already publishes or plays",
      );
    }
    this.#path = path;
    this.#playStreamId = streamId;
    this.#state = "waiting";
    let stream: Stream;
    try {
      stream = await this.#opts.hub.waitForStream(path, {
        timeoutMs: this.#cfg.playWaitTimeout,
        signal: this.#abort.signal,
      });
    } catch (e) {
      if (this.#isClosed()) return;
      if (!(e instanceof HubError)) throw e;
      this.#log.info("play: stream not found", { path });
      this.#status(
        streamId,
        "error",
        NET_STATUS.PLAY_STREAM_NOT_FOUND,
        `Stream not found: ${path}`,
        { details: path },
      );
      await this.close("stream not found");
      return;
    }
    if (this.#isClosed()) return;
    this.#stream = stream;
    this.#state = "playing";
    this.#send(streamBegin(streamId));
    this.#status(
      streamId,
      "status",
      NET_STATUS.PLAY_RESET,
      `Playing and resetting ${path}`,
      { details: path },
    );
    this.#status(
      streamId,
      "status",
      NET_STATUS.PLAY_START,
      `Started playing ${path}`,
      { details: path },
    );
    this.#sendData(streamId, encodeData("|RtmpSampleAccess", true, true));
    this.#status(streamId, "status", NET_STATUS.DATA_START, "Data start");
    const chunkSize = this.#outChunkSize;
    const output = stream.output<FlvOutput>(
      `rtmp:${chunkSize}:${streamId}`,
      (cached) => new FlvOutput(cached, { chunkSize, streamId }),
    );
    const reader: FlvReader = {
      queue: this.#queue,
      onEnd: () => this.#streamEnded(),
    };
    this.#output = output;
    this.#reader = reader;
    output.addReader(reader);
    this.#writer.kick(true); // the GOP goes out now, not with the next batch
    this.#log.info("playing", { path });
  }

  #streamEnded(): void {
    if (this.#state !== "playing") return;
    this.#reader = undefined;
    this.#output = undefined;
    this.#send(streamEof(this.#playStreamId));
    this.#status(
      this.#playStreamId,
      "status",
      NET_STATUS.PLAY_UNPUBLISH_NOTIFY,
      `${this.#path} is now unpublished`,
    );
    this.#status(
      this.#playStreamId,
      "status",
      NET_STATUS.PLAY_STOP,
      `Stopped playing ${this.#path}`,
    );
    void this.close("stream ended");
  }

  /**
   * The path `name` names when it is valid and the client may `action` it;
   * otherwise the client gets the error status and the connection closes.
   */
  #admit(
    name: string,
    streamId: number,
    action: "read" | "publish",
    codes: { invalid: string; denied: string },
  ): string | undefined {
    const path = rtmpPath(this.#app, name);
    if (path === undefined || !isValidPath(path)) {
      this.#refuse(
        streamId,
        codes.invalid,
        `Invalid stream name "${name.slice(0, 64)}"`,
        "invalid stream name",
      );
      return undefined;
    }
    if (!this.#authorized(path, action, name)) {
      this.#refuse(
        streamId,
        codes.denied,
        "Authentication failed",
        "authentication failed",
      );
      return undefined;
    }
    return path;
  }

  /** An error status for the stream; with `closeReason`, the connection ends after it. */
  #refuse(
    streamId: number,
    code: string,
    description: string,
    closeReason?: string,
  ): void {
    this.#status(streamId, "error", code, description);
    if (closeReason !== undefined) void this.close(closeReason);
  }

  /**
   * Whether the stream name's query (`cam1?user=u&pass=p`), or the app's
   * (`live?user=u&pass=p`, from the tcUrl), carries the credentials the path
   * needs for `action`.
   */
  #authorized(path: string, action: "read" | "publish", name: string): boolean {
    const required = requiredCredentials(this.#cfg.paths, path, action);
    if (required === undefined) return true;
    const query = name.includes("?")
      ? name.slice(name.indexOf("?") + 1)
      : this.#appQuery;
    const ok = checkQueryCredentials(query, required);
    if (!ok) this.#log.info("authentication failed", { path, action });
    return ok;
  }

  #isClosed(): boolean {
    return this.#state === "closed" || this.#closing !== undefined;
  }

  #requireConnected(): void {
    if (this.#state === "connecting") {
      throw new ProtocolError("Cannot publish or play before connect", {
        protocol: "rtmp",
        code: "sequence",
      });
    }
  }

  // ---- media from a publisher ----

  // ---- sending ----

  #send(message: RtmpMessage): void {
    this.#sendRaw(encodeMessage(message, this.#outChunkSize));
  }

  #sendRaw(bytes: Uint8Array): void {
    this.#queue.offer({ bytes, kind: PACKET_KIND.CONTROL });
  }

  #sendCommand(streamId: number, cmd: RtmpCommand): void {
    this.#send({
      chunkStreamId: CHUNK_STREAM.COMMAND,
      typeId: MESSAGE_TYPE.COMMAND_AMF0,
      timestamp: 0,
      streamId,
      payload: encodeCommand(cmd),
    });
  }

  #sendData(streamId: number, payload: Uint8Array): void {
    this.#send({
      chunkStreamId: CHUNK_STREAM.DATA,
      typeId: MESSAGE_TYPE.DATA_AMF0,
      timestamp: 0,
      streamId,
      payload,
    });
  }

  #result(cmd: RtmpCommand, commandObject: unknown, value: unknown): void {
    this.#sendCommand(0, {
      name: "_result",
      transactionId: cmd.transactionId,
      commandObject,
      args: value === undefined ? [] : [value],
    });
  }

  #status(
    streamId: number,
    level: StatusLevel,
    code: string,
    description: string,
    extra?: Record<string, unknown>,
  ): void {
    this.#send({
      chunkStreamId: CHUNK_STREAM.DATA,
      typeId: MESSAGE_TYPE.COMMAND_AMF0,
      timestamp: 0,
      streamId,
      payload: encodeCommand({
        name: "onStatus",
        transactionId: 0,
        commandObject: null,
        args: [statusInfo(level, code, description, extra)],
      }),
    });
  }

  // ---- ending ----

  #stopPublishing(): void {
    if (this.#publisher === undefined) return;
    this.#publisher.close();
    this.#publisher = undefined;
    this.#ingest = undefined;
    this.#state = "connected";
    this.#log.info("unpublished", { path: this.#path });
  }

  #stopPlaying(): void {
    if (this.#reader === undefined) return;
    this.#output?.removeReader(this.#reader);
    this.#countDrops();
    this.#reader = undefined;
    this.#output = undefined;
    if (this.#stream !== undefined) this.#opts.hub.readerLeft(this.#stream);
    this.#stream = undefined;
    this.#state = "connected";
  }

  /** Ends the session: flushes the last replies (unless told not to), then closes the socket. */
  close(reason: string, options: { flush?: boolean } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      this.#log.debug("closing", { reason });
      this.#abort.abort(new Error(reason));
      if (this.#publisher !== undefined) {
        this.#publisher.close();
        this.#log.info("publisher gone", { path: this.#path, reason });
      }
      this.#publisher = undefined;
      this.#stopPlaying();
      if (options.flush ?? true) {
        await Promise.race([
          this.#writer.drained(),
          new Promise((r) => setTimeout(r, FLUSH_MS)),
        ]);
      }
      this.#state = "closed";
      this.#queue.close();
      closeQuietly(this.#conn);
      this.#onClosed();
    })();
    return this.#closing;
  }
}

function trackFields(track: Track) {
  return track.kind === "video"
    ? { width: track.width, height: track.height }
    : { sampleRate: track.sampleRate, channels: track.channels };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
