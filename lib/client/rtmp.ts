/**
 * An RTMP client: connects to a server (`rtmp://`, or `rtmps://` in TLS),
 * then plays (pulls) or publishes (pushes) one stream. Relays, tests and the
 * load benchmark use it.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import {
  closeQuietly,
  connectTcp,
  type StreamConn,
  writeAll,
} from "../net/tcp.ts";
import { connectTls } from "../net/tls.ts";
import { ChunkDemuxer } from "../rtmp/chunk_demuxer.ts";
import { encodeMessage } from "../rtmp/chunk_muxer.ts";
import {
  setBufferLength,
  setChunkSize,
  windowAckSize,
} from "../rtmp/control.ts";
import { HandshakeClient } from "../rtmp/handshake.ts";
import { PeerControl } from "../rtmp/peer_control.ts";
import { PACKET_KIND, type PacketKind } from "../egress/packet.ts";
import { ReaderQueue } from "../egress/reader_queue.ts";
import { BatchWriter } from "../net/batch_writer.ts";
import { parseRtmpUrl, type RtmpUrl } from "../rtmp/url.ts";
import { withTimeout } from "./_timeout.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../rtmp/message.ts";
import { RtmpCommands, statusError } from "./rtmp/commands.ts";

export { RtmpStatusError } from "./rtmp/commands.ts";

/** Options of {@link RtmpClient.connect}. */
export interface RtmpClientOptions {
  /** Each step (TCP connect, handshake, each command) must finish within this. @default {10000} */
  timeoutMs?: number;
  /** Chunk size announced for what the client sends. @default {4096} */
  chunkSize?: number;
  /** Media messages buffered before the client stops reading the socket. @default {256} */
  maxQueued?: number;
  /** Bytes queued toward the server before media is dropped to the next keyframe. @default {8388608} */
  writeQueueSize?: number;
  /** `rtmps://`: PEM certificates trusted besides the system's roots (a private CA, a self-signed server). */
  caCerts?: string[];
}

/** One RTMP connection from the client side. */
export class RtmpClient {
  readonly url: RtmpUrl;
  readonly #conn: StreamConn;
  readonly #timeoutMs: number;
  readonly #chunkSize: number;
  readonly #maxQueued: number;
  readonly #demuxer = new ChunkDemuxer();
  readonly #commands: RtmpCommands;
  readonly #out: ReaderQueue;
  readonly #writer: BatchWriter;
  #queue: RtmpMessage[] = [];
  #wake: (() => void) | undefined;
  #room: (() => void) | undefined;
  #streamId = 0;
  readonly #peer = new PeerControl();
  #closed = false;
  #error: Error | undefined;
  #outChunkSize = 128;

  private constructor(
    url: RtmpUrl,
    conn: StreamConn,
    options: RtmpClientOptions,
  ) {
    this.url = url;
    this.#conn = conn;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#chunkSize = options.chunkSize ?? 4096;
    this.#maxQueued = options.maxQueued ?? 256;
    this.#commands = new RtmpCommands((m) => this.#send(m), this.#timeoutMs);
    this.#out = new ReaderQueue({
      maxBytes: options.writeQueueSize ?? 8 * 1024 * 1024,
      onReady: () => this.#writer.kick(true),
    });
    this.#writer = new BatchWriter(conn, () => this.#out.drain(), {
      onError: (e) => this.#end(e instanceof Error ? e : new Error(String(e))),
    });
  }

  /**
   * What goes to the server, queued: an egress reader publishes through it
   * (with {@link chunkSize} and {@link streamId}), the same way players of
   * Sluice are written to.
   */
  get queue(): ReaderQueue {
    return this.#out;
  }

  /** Statuses received (codes), oldest first. */
  get statuses(): string[] {
    return this.#commands.statuses;
  }

  /** The chunk size the server was told. */
  get chunkSize(): number {
    return this.#outChunkSize;
  }

  /** The message stream of the current play or publish. */
  get streamId(): number {
    return this.#streamId;
  }

  /** Connects, runs the handshake and the `connect` command. */
  static async connect(
    url: string,
    options: RtmpClientOptions = {},
  ): Promise<RtmpClient> {
    const u = parseRtmpUrl(url);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const conn = await withTimeout<StreamConn>(
      u.secure
        ? connectTls(u.hostname, u.port, { caCerts: options.caCerts })
        : connectTcp(u.hostname, u.port),
      timeoutMs,
      u.secure ? "TLS connect" : "TCP connect",
    );
    const client = new RtmpClient(u, conn, options);
    try {
      await withTimeout(client.#handshake(), timeoutMs, "handshake");
      client.#readLoop();
      client.#send(setChunkSize(client.#chunkSize));
      client.#outChunkSize = client.#chunkSize;
      const reply = await client.#commands.call("connect", {
        app: u.app,
        flashVer: "FMLE/3.0 (compatible; Sluice)",
        tcUrl: u.tcUrl,
        type: "nonprivate",
        fpad: false,
        capabilities: 15,
        audioCodecs: 3191,
        videoCodecs: 252,
        videoFunction: 1,
      });
      if (reply.name !== "_result") throw statusError("connect", reply);
      client.#send(windowAckSize(2_500_000));
      return client;
    } catch (e) {
      client.close();
      throw e;
    }
  }

  /** Plays `name` (default: the URL's); resolves on NetStream.Play.Start. */
  async play(name = this.url.name): Promise<void> {
    this.#streamId = await this.#commands.createStream();
    const started = this.#commands.waitStatus((code) =>
      code === "NetStream.Play.Start"
    );
    this.#send(setBufferLength(this.#streamId, 1000));
    this.#commands.invoke("play", this.#streamId, 0, null, name, -1000);
    await started;
  }

  /** Publishes `name` (default: the URL's) live; resolves on NetStream.Publish.Start. */
  async publish(name = this.url.name): Promise<void> {
    const commands = this.#commands;
    commands.invoke("releaseStream", 0, commands.nextTransaction(), null, name);
    commands.invoke("FCPublish", 0, commands.nextTransaction(), null, name);
    this.#streamId = await this.#commands.createStream();
    const started = this.#commands.waitStatus((code) =>
      code === "NetStream.Publish.Start"
    );
    this.#commands.invoke("publish", this.#streamId, 0, null, name, "live");
    await started;
  }

  /** Sends a command on the stream being played or published (`receiveVideo`, `pause` …); no answer is awaited. */
  command(name: string, ...args: unknown[]): void {
    this.#commands.invoke(name, this.#streamId, 0, null, ...args);
  }

  /**
   * Sends one audio, video or data message on the published stream, never
   * dropped; resolves once the queue toward the server is short again, so a
   * caller that awaits it sends no faster than the socket takes.
   */
  async sendMedia(
    typeId: number,
    timestamp: number,
    payload: Uint8Array,
  ): Promise<void> {
    this.queueMedia(typeId, timestamp, payload, PACKET_KIND.CONTROL);
    if (this.#out.bytes > 256 * 1024) await this.#writer.drained();
  }

  /**
   * Queues one message without waiting: over the queue's budget media is
   * dropped until the next `KEY` (a relay pushing to a slow server must not
   * grow without bound). Returns whether it was queued.
   */
  queueMedia(
    typeId: number,
    timestamp: number,
    payload: Uint8Array,
    kind: PacketKind,
  ): boolean {
    if (this.#closed) return false;
    const chunkStreamId = typeId === MESSAGE_TYPE.AUDIO
      ? CHUNK_STREAM.AUDIO
      : typeId === MESSAGE_TYPE.VIDEO
      ? CHUNK_STREAM.VIDEO
      : CHUNK_STREAM.DATA;
    const bytes = encodeMessage(
      {
        chunkStreamId,
        typeId,
        timestamp: timestamp >>> 0,
        streamId: this.#streamId,
        payload,
      },
      this.#outChunkSize,
    );
    return this.#out.offer({ bytes, kind });
  }

  /** Media and data messages of the stream played, until the connection ends. */
  async *messages(): AsyncGenerator<RtmpMessage> {
    for (;;) {
      if (this.#queue.length > 0) {
        const m = this.#queue.shift()!;
        if (this.#queue.length < this.#maxQueued / 2) this.#room?.();
        yield m;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((r) => this.#wake = r);
    }
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection. */
  close(): void {
    this.#end(undefined);
  }

  async #handshake(): Promise<void> {
    const hs = new HandshakeClient();
    await writeAll(this.#conn, hs.start());
    const buf = new Uint8Array(8192);
    while (!hs.done) {
      const n = await this.#conn.read(buf);
      if (n === null) {
        throw new ProtocolError("Cannot finish handshake: server closed", {
          protocol: "rtmp",
          code: "truncated",
        });
      }
      const reply = hs.push(buf.subarray(0, n));
      if (reply !== undefined) await writeAll(this.#conn, reply);
    }
    if (hs.rest.length > 0) {
      this.#demuxer.push(hs.rest.slice(), { enqueue: (m) => this.#message(m) });
    }
  }

  async #readLoop(): Promise<void> {
    try {
      while (!this.#closed) {
        if (this.#queue.length >= this.#maxQueued) {
          await new Promise<void>((r) => this.#room = r);
          continue;
        }
        const buf = new Uint8Array(64 * 1024);
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#demuxer.push(buf.subarray(0, n), {
          enqueue: (m) => this.#message(m),
        });
        const ack = this.#peer.ack(this.#demuxer.bytesIn);
        if (ack !== undefined) this.#send(ack);
      }
      this.#end(undefined);
    } catch (e) {
      this.#end(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #message(m: RtmpMessage): void {
    switch (m.typeId) {
      case MESSAGE_TYPE.COMMAND_AMF0:
      case MESSAGE_TYPE.COMMAND_AMF3:
        return this.#commands.handle(m);
      case MESSAGE_TYPE.USER_CONTROL:
      case MESSAGE_TYPE.WINDOW_ACK_SIZE: {
        const answer = this.#peer.handle(m);
        if (answer !== undefined) this.#send(answer);
        return;
      }
      case MESSAGE_TYPE.AUDIO:
      case MESSAGE_TYPE.VIDEO:
      case MESSAGE_TYPE.DATA_AMF0:
      case MESSAGE_TYPE.DATA_AMF3:
      case MESSAGE_TYPE.AGGREGATE:
        this.#queue.push(m);
        this.#wake?.();
        return;
      default:
        return;
    }
  }

  #send(message: RtmpMessage): void {
    if (this.#closed) return;
    this.#out.offer({
      bytes: encodeMessage(message, this.#outChunkSize),
      kind: PACKET_KIND.CONTROL,
    });
  }

  #end(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    closeQuietly(this.#conn);
    this.#out.close();
    const reason = error ?? new Error("Connection closed");
    this.#commands.fail(reason);
    this.#wake?.();
    this.#room?.();
  }
}
