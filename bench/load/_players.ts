/**
 * The load client of the fan-out benchmark: N RTMP players in one process.
 *
 * Each player connects (TCP_NODELAY), runs the plain handshake, sends
 * `connect`, `createStream` and `play` (each one write), answers ping
 * requests and acknowledges as the server's window asks, and demuxes chunks
 * only until the first video keyframe (time to first frame). From then on it
 * only counts bytes and keeps acknowledging by byte count: no demuxing, so
 * the client stays cheap. Counting players read into one shared buffer, and
 * a read that did not fill it waits for a shared tick before the next one,
 * so a player costs at most one read per tick however the server batches
 * its writes (the kernel buffers what arrives meanwhile; the server sees no
 * backpressure, since a tick holds far less than a socket buffer).
 *
 * Run as a process (`deno run -A bench/load/_players.ts --port P --n N`) it
 * speaks the line protocol of `_crowd.ts` (`mark`, `stop`; `ready`, `final`);
 * `stop` closes every player.
 *
 * @module
 */

import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import { encodeMessage } from "../../lib/rtmp/chunk_muxer.ts";
import {
  decodeCommand,
  encodeCommand,
  type RtmpCommand,
} from "../../lib/rtmp/command.ts";
import {
  acknowledgement,
  decodeControl,
  decodeUserControl,
  pingResponse,
  setBufferLength,
  windowAckSize,
} from "../../lib/rtmp/control.ts";
import { HandshakeClient } from "../../lib/rtmp/handshake.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../lib/rtmp/message.ts";
import {
  type CrowdResult,
  errorText,
  keyframeDeadline,
  parseFlags,
  serveCrowd,
  startTick,
  stopTick,
  tick,
  writeAll,
} from "./_crowd.ts";

/** The chunk size a player writes with: it never sends Set Chunk Size. */
const OUT_CHUNK_SIZE = 128;
/** Read size while handshaking and demuxing. */
const SETUP_READ_SIZE = 16 * 1024;
/** The buffer every counting player reads into (contents are never looked at). */
const SHARED = new Uint8Array(256 * 1024);
/** FLV video tag: frame type 1 (keyframe) in the high nibble (FLV 10.1 §E.4.3.1). */
const FRAME_TYPE_KEY = 1;
/** FLV AVCPacketType 1: NAL units (0 is the sequence header, not a frame). */
const AVC_NALU = 1;
/** FLV video codec id 7: AVC. */
const CODEC_AVC = 7;

/** Where and what to play. */
export interface PlayerTarget {
  hostname: string;
  port: number;
  app: string;
  stream: string;
}

/** Options of {@link Player}. */
export interface PlayerOptions {
  /** Give up when no keyframe arrived this long after connecting. @default {15000} */
  firstFrameTimeoutMs?: number;
  /** Ms between reads of a counting player whose last read did not fill the buffer; 0 reads at once. @default {50} */
  readTickMs?: number;
  /** Window Acknowledgement Size the player announces to the server. @default {2500000} */
  windowAckSize?: number;
}

/** What one player measured. */
export interface PlayerResult extends CrowdResult {
  /** ms from the start of TCP connect to the first video keyframe. */
  ttffConnectMs: number | undefined;
  /** ms from writing `play` to the first video keyframe. */
  ttffPlayMs: number | undefined;
  /** Bytes received since the handshake ended. */
  bytes: number;
  /** Why it stopped early, if it did. */
  error: string | undefined;
}

/** One RTMP player; {@link Player.run} resolves when it ends. */
export class Player {
  readonly #target: PlayerTarget;
  readonly #firstFrameTimeoutMs: number;
  readonly #readTickMs: number;
  readonly #windowAckSize: number;
  #conn: Deno.TcpConn | undefined;
  #closed = false;
  #startMs = 0;
  #playMs = 0;
  #serverWindow = 0;
  #lastAck = 0;
  #streamId = 0;
  #txn = 1;
  #state: "connect" | "createStream" | "play" | "counting" = "connect";
  #onFrame: (() => void) | undefined;
  readonly result: PlayerResult = {
    ttffConnectMs: undefined,
    ttffPlayMs: undefined,
    bytes: 0,
    error: undefined,
  };

  constructor(target: PlayerTarget, options: PlayerOptions = {}) {
    this.#target = target;
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 15_000;
    this.#readTickMs = options.readTickMs ?? 50;
    this.#windowAckSize = options.windowAckSize ?? 2_500_000;
  }

  /** Whether the first keyframe arrived. */
  get playing(): boolean {
    return this.result.ttffConnectMs !== undefined;
  }

  /** Connects and plays until {@link Player.close} or an error; never rejects. */
  async run(onFirstFrame?: () => void): Promise<PlayerResult> {
    this.#onFrame = onFirstFrame;
    this.#startMs = performance.now();
    const timer = keyframeDeadline(
      this.#firstFrameTimeoutMs,
      this,
      (e) => this.#fail(e),
    );
    try {
      const conn = await Deno.connect({
        hostname: this.#target.hostname,
        port: this.#target.port,
      });
      this.#conn = conn;
      if (this.#closed) throw new Error("closed while connecting");
      conn.setNoDelay(true);
      const rest = await this.#handshake(conn);
      await this.#demux(conn, rest);
      clearTimeout(timer);
      if (!this.#closed) await this.#count(conn);
    } catch (e) {
      if (!this.#closed) {
        this.#fail(errorText(e));
      }
    } finally {
      clearTimeout(timer);
      this.close();
    }
    return this.result;
  }

  /** Closes the socket; a running {@link Player.run} resolves soon after. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
  }

  #fail(error: string): void {
    if (this.result.error === undefined && !this.#closed) {
      this.result.error = error;
    }
    this.close();
  }

  async #handshake(conn: Deno.TcpConn): Promise<Uint8Array> {
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
    const { hostname, port, app } = this.#target;
    await this.#command(0, {
      name: "connect",
      transactionId: this.#txn++,
      commandObject: {
        app,
        flashVer: "LNX 9,0,124,2",
        tcUrl: `rtmp://${hostname}:${port}/${app}`,
        fpad: false,
        capabilities: 15,
        audioCodecs: 4071,
        videoCodecs: 252,
        videoFunction: 1,
      },
      args: [],
    });
    return hs.rest;
  }

  async #demux(conn: Deno.TcpConn, first: Uint8Array): Promise<void> {
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
          out.push(encodeMessage(pingResponse(ev.timestamp), OUT_CHUNK_SIZE));
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
        const p = m.payload;
        if (p.length < 2 || p[0]! >> 4 !== FRAME_TYPE_KEY) return;
        if ((p[0]! & 0x0f) === CODEC_AVC && p[1] !== AVC_NALU) return;
        const now = performance.now();
        this.result.ttffConnectMs = now - this.#startMs;
        this.result.ttffPlayMs = now - this.#playMs;
        this.#state = "counting";
        this.#onFrame?.();
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
      out.push(concatBytes([
        encodeMessage(windowAckSize(this.#windowAckSize), OUT_CHUNK_SIZE),
        commandBytes(0, {
          name: "createStream",
          transactionId: this.#txn++,
          commandObject: null,
          args: [],
        }),
      ]));
    } else if (this.#state === "createStream") {
      this.#streamId = typeof cmd.args[0] === "number" ? cmd.args[0] : 1;
      this.#state = "play";
      this.#playMs = performance.now();
      out.push(concatBytes([
        commandBytes(this.#streamId, {
          name: "play",
          transactionId: 0,
          commandObject: null,
          args: [this.#target.stream, -1000],
        }),
        encodeMessage(setBufferLength(this.#streamId, 3000), OUT_CHUNK_SIZE),
      ]));
    }
  }

  async #maybeAck(conn: Deno.TcpConn): Promise<void> {
    const bytes = this.result.bytes;
    if (this.#serverWindow > 0 && bytes - this.#lastAck >= this.#serverWindow) {
      this.#lastAck = bytes;
      await writeAll(
        conn,
        encodeMessage(acknowledgement(bytes), OUT_CHUNK_SIZE),
      );
    }
  }

  async #count(conn: Deno.TcpConn): Promise<void> {
    startTick(this.#readTickMs);
    try {
      while (!this.#closed) {
        const n = await conn.read(SHARED);
        if (n === null) {
          this.#fail("server closed the connection");
          return;
        }
        this.result.bytes += n;
        await this.#maybeAck(conn);
        if (n < SHARED.length && this.#readTickMs > 0) await tick();
      }
    } finally {
      stopTick();
    }
  }

  async #command(streamId: number, cmd: RtmpCommand): Promise<void> {
    await writeAll(this.#conn!, commandBytes(streamId, cmd));
  }
}

function commandBytes(streamId: number, cmd: RtmpCommand): Uint8Array {
  return encodeMessage({
    chunkStreamId: streamId === 0 ? CHUNK_STREAM.COMMAND : CHUNK_STREAM.DATA,
    typeId: MESSAGE_TYPE.COMMAND_AMF0,
    timestamp: 0,
    streamId,
    payload: encodeCommand(cmd),
  }, OUT_CHUNK_SIZE);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function describe(v: unknown): string {
  if (v !== null && typeof v === "object" && "code" in v) {
    return String((v as { code: unknown }).code);
  }
  return String(v);
}

if (import.meta.main) {
  const args = parseFlags(Deno.args);
  const target: PlayerTarget = {
    hostname: args.get("host") ?? "127.0.0.1",
    port: Number(args.get("port")),
    app: args.get("app") ?? "live",
    stream: args.get("stream") ?? "bench",
  };
  const options: PlayerOptions = {
    readTickMs: Number(args.get("read-tick-ms") ?? "50"),
    firstFrameTimeoutMs: Number(args.get("first-frame-timeout-ms") ?? "15000"),
  };
  await serveCrowd(args, () => new Player(target, options), {
    stop: (p) => p.close(),
    times: ["ttffConnectMs", "ttffPlayMs"],
  });
}
