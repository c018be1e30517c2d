/**
 * The RTMP benchmark player.
 *
 * It connects (TCP_NODELAY; for RTMPS a TLS session), runs the plain handshake, sends `connect`, then
 * Window Ack Size + `createStream`, then `play` + Set Buffer Length (each
 * one write at chunk size 128), answers ping requests and acknowledges as
 * the server's window asks, and demuxes chunks only until the first video
 * keyframe. From then on it only counts bytes (see `player.ts`) and keeps
 * acknowledging by byte count.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { closeQuietly, writeAll } from "../../../lib/net/tcp.ts";
import { ChunkDemuxer } from "../../../lib/rtmp/chunk_demuxer.ts";
import { encodeMessage } from "../../../lib/rtmp/chunk_muxer.ts";
import {
  decodeCommand,
  encodeCommand,
  type RtmpCommand,
} from "../../../lib/rtmp/command.ts";
import {
  acknowledgement,
  decodeControl,
  decodeUserControl,
  pingResponse,
  setBufferLength,
  windowAckSize,
} from "../../../lib/rtmp/control.ts";
import { HandshakeClient } from "../../../lib/rtmp/handshake.ts";
import {
  CHUNK_STREAM,
  DEFAULT_CHUNK_SIZE,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../../lib/rtmp/message.ts";
import {
  connectPlayer,
  countReads,
  emptyResult,
  errorText,
  isFlvKeyframe,
  keyframeDeadline,
  type Player,
  type PlayerOptions,
  type PlayerResult,
  type PlayerTarget,
  SETUP_READ_SIZE,
  TLS_READ_SIZE,
} from "./player.ts";

/** The Window Acknowledgement Size the player announces to the server. */
const WINDOW_ACK_SIZE = 2_500_000;
/** The buffer length sent with `play`, ms. */
const BUFFER_LENGTH_MS = 3000;

/** One RTMP player of `rtmp://host:port/<app>/<stream>`, `path` being `app/stream`. */
export class RtmpPlayer implements Player {
  readonly #target: PlayerTarget;
  readonly #app: string;
  readonly #stream: string;
  readonly #firstFrameTimeoutMs: number;
  readonly #readTickMs: number;
  #conn: Deno.Conn | undefined;
  readonly #caCerts: string[] | undefined;
  readonly #scheme: "rtmp" | "rtmps";
  #closed = false;
  #startMs = 0;
  #playMs = 0;
  #serverWindow = 0;
  #lastAck = 0;
  #txn = 1;
  #state: "connect" | "createStream" | "play" | "counting" = "connect";
  #onKeyframe: (() => void) | undefined;
  readonly result: PlayerResult = emptyResult();

  /** With `tls`, RTMPS: the connection is a TLS session trusting `options.caCerts`. */
  constructor(target: PlayerTarget, options: PlayerOptions = {}, tls = false) {
    this.#target = target;
    this.#caCerts = tls ? options.caCerts ?? [] : undefined;
    this.#scheme = tls ? "rtmps" : "rtmp";
    const slash = target.path.indexOf("/");
    this.#app = slash < 0 ? target.path : target.path.slice(0, slash);
    this.#stream = slash < 0 ? "" : target.path.slice(slash + 1);
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 15_000;
    this.#readTickMs = options.readTickMs ?? 50;
  }

  get playing(): boolean {
    return this.result.ttffConnectMs !== undefined;
  }

  async run(onKeyframe?: () => void): Promise<PlayerResult> {
    this.#onKeyframe = onKeyframe;
    this.#startMs = performance.now();
    const timer = keyframeDeadline(
      this.#firstFrameTimeoutMs,
      this,
      (e) => this.#fail(e),
    );
    try {
      const conn = await connectPlayer(this.#target, this.#caCerts);
      this.#conn = conn;
      if (this.#closed) throw new Error("closed while connecting");
      const rest = await this.#handshake(conn);
      await this.#demux(conn, rest);
      clearTimeout(timer);
      if (this.#closed) return this.result;
      const ended = await countReads(conn, this.#readTickMs, async (n) => {
        this.result.bytes += n;
        await this.#maybeAck(conn);
        return !this.#closed;
      }, this.#caCerts === undefined ? undefined : TLS_READ_SIZE);
      if (ended) this.#fail("server closed the connection");
    } catch (e) {
      this.#fail(errorText(e));
    } finally {
      clearTimeout(timer);
      this.#close();
    }
    return this.result;
  }

  stop(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#conn !== undefined) closeQuietly(this.#conn);
  }

  #fail(error: string): void {
    if (this.result.error === undefined && !this.#closed) {
      this.result.error = error;
    }
    this.#close();
  }

  async #handshake(conn: Deno.Conn): Promise<Uint8Array> {
    const hs = new HandshakeClient();
    await writeAll(conn, hs.start());
    while (!hs.done) {
      const buf = new Uint8Array(SETUP_READ_SIZE);
      const n = await conn.read(buf);
      if (n === null) throw new Error("server closed during the handshake");
      const c2 = hs.push(buf.subarray(0, n));
      if (c2 !== undefined) await writeAll(conn, c2);
    }
    // C2 and connect go out back to back; connect is one write of its own.
    const { hostname, port } = this.#target;
    await writeAll(
      conn,
      commandBytes(0, {
        name: "connect",
        transactionId: this.#txn++,
        commandObject: {
          app: this.#app,
          flashVer: "LNX 9,0,124,2",
          tcUrl: `${this.#scheme}://${hostname}:${port}/${this.#app}`,
          fpad: false,
          capabilities: 15,
          audioCodecs: 4071,
          videoCodecs: 252,
          videoFunction: 1,
        },
        args: [],
      }),
    );
    return hs.rest;
  }

  async #demux(conn: Deno.Conn, first: Uint8Array): Promise<void> {
    const demuxer = new ChunkDemuxer();
    const pending: Uint8Array[] = [];
    const sink = { enqueue: (m: RtmpMessage) => this.#message(m, pending) };
    let chunk = first;
    for (;;) {
      if (chunk.length > 0) {
        this.result.bytes += chunk.length;
        demuxer.push(chunk, sink);
        for (const out of pending.splice(0)) await writeAll(conn, out);
        await this.#maybeAck(conn);
        if (this.#state === "counting" || this.#closed) return;
      }
      const buf = new Uint8Array(SETUP_READ_SIZE);
      const n = await conn.read(buf);
      if (n === null) {
        throw new Error(
          `server closed before the first keyframe (${this.#state})`,
        );
      }
      chunk = buf.subarray(0, n);
    }
  }

  #message(m: RtmpMessage, out: Uint8Array[]): void {
    if (this.#state === "counting") return; // the rest of this read is only counted
    switch (m.typeId) {
      case MESSAGE_TYPE.WINDOW_ACK_SIZE: {
        const c = decodeControl(m);
        if (c?.type === "windowAckSize") this.#serverWindow = c.size;
        return;
      }
      case MESSAGE_TYPE.USER_CONTROL: {
        const ev = decodeUserControl(m.payload);
        if (ev.type === "pingRequest") {
          out.push(
            encodeMessage(pingResponse(ev.timestamp), DEFAULT_CHUNK_SIZE),
          );
        }
        return;
      }
      case MESSAGE_TYPE.COMMAND_AMF0:
      case MESSAGE_TYPE.COMMAND_AMF3:
        return this.#reply(
          decodeCommand(m.payload, m.typeId === MESSAGE_TYPE.COMMAND_AMF3),
          out,
        );
      case MESSAGE_TYPE.VIDEO: {
        if (!isFlvKeyframe(m.payload)) return;
        const now = performance.now();
        this.result.ttffConnectMs = now - this.#startMs;
        this.result.ttffPlayMs = now - this.#playMs;
        this.result.keyframePlayMs = this.result.ttffPlayMs;
        this.#state = "counting";
        this.#onKeyframe?.();
        return;
      }
      default:
        return;
    }
  }

  #reply(cmd: RtmpCommand, out: Uint8Array[]): void {
    if (cmd.name === "_error") {
      throw new Error(`${this.#state} refused: ${describe(cmd.args[0])}`);
    }
    if (cmd.name === "onStatus") {
      const info = cmd.args[0] as
        | { level?: unknown; code?: unknown }
        | undefined;
      if (info?.level === "error") {
        throw new Error(`onStatus ${String(info.code)}`);
      }
      return;
    }
    if (cmd.name !== "_result") return;
    if (this.#state === "connect") {
      this.#state = "createStream";
      // Window Ack Size and createStream in one write, as ffmpeg sends them together.
      out.push(concat([
        encodeMessage(windowAckSize(WINDOW_ACK_SIZE), DEFAULT_CHUNK_SIZE),
        commandBytes(0, {
          name: "createStream",
          transactionId: this.#txn++,
          commandObject: null,
          args: [],
        }),
      ]));
    } else if (this.#state === "createStream") {
      const streamId = typeof cmd.args[0] === "number" ? cmd.args[0] : 1;
      this.#state = "play";
      this.#playMs = performance.now();
      out.push(concat([
        commandBytes(streamId, {
          name: "play",
          transactionId: 0,
          commandObject: null,
          args: [this.#stream, -1000],
        }),
        encodeMessage(
          setBufferLength(streamId, BUFFER_LENGTH_MS),
          DEFAULT_CHUNK_SIZE,
        ),
      ]));
    }
  }

  async #maybeAck(conn: Deno.Conn): Promise<void> {
    const bytes = this.result.bytes;
    if (this.#serverWindow > 0 && bytes - this.#lastAck >= this.#serverWindow) {
      this.#lastAck = bytes;
      await writeAll(
        conn,
        encodeMessage(acknowledgement(bytes), DEFAULT_CHUNK_SIZE),
      );
    }
  }
}

/** A command message on the command chunk stream (stream 0) or the data one. */
function commandBytes(streamId: number, cmd: RtmpCommand): Uint8Array {
  return encodeMessage({
    chunkStreamId: streamId === 0 ? CHUNK_STREAM.COMMAND : CHUNK_STREAM.DATA,
    typeId: MESSAGE_TYPE.COMMAND_AMF0,
    timestamp: 0,
    streamId,
    payload: encodeCommand(cmd),
  }, DEFAULT_CHUNK_SIZE);
}

/** The `code` of an `_error`'s info object, or the value itself. */
function describe(v: unknown): string {
  if (v !== null && typeof v === "object" && "code" in v) {
    return String((v as { code: unknown }).code);
  }
  return String(v);
}
