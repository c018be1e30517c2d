/**
 * The HTTP-FLV benchmark player: `GET http://host:port/<path>.flv`.
 *
 * It connects (TCP_NODELAY), writes one HTTP/1.1 GET, reads the response
 * head (status 200 or an error), then undoes the chunked transfer coding
 * (RFC 9112 §7.1) and cuts the body into FLV tags with {@link FlvDemuxer}
 * only until the first video keyframe. From then on it only counts bytes
 * (see `player.ts`): every body byte after the head, chunk framing
 * included (a few bytes per write of the server).
 *
 * @module
 */

import { indexOfNeedle } from "@std/bytes";
import { FlvDemuxer } from "../../../lib/flv/file.ts";
import { FLV_TAG_TYPE, type FlvTag } from "../../../lib/flv/tag.ts";
import { closeQuietly, writeAll } from "../../../lib/net/tcp.ts";
import {
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
} from "./player.ts";

/** The longest response head read before giving up. */
const MAX_HEAD_SIZE = 16 * 1024;
/** The longest chunk-size line (hex size and extensions). */
const MAX_CHUNK_LINE = 1024;
const CRLF = new Uint8Array([0x0d, 0x0a]);
const CRLF_CRLF = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]);

/** One HTTP-FLV player. */
export class FlvPlayer implements Player {
  readonly #target: PlayerTarget;
  readonly #firstFrameTimeoutMs: number;
  readonly #readTickMs: number;
  #conn: Deno.TcpConn | undefined;
  #closed = false;
  #startMs = 0;
  #playMs = 0;
  #onKeyframe: (() => void) | undefined;
  readonly result: PlayerResult = emptyResult();

  constructor(target: PlayerTarget, options: PlayerOptions = {}) {
    this.#target = target;
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
      const { hostname, port, path } = this.#target;
      const conn = await Deno.connect({ hostname, port });
      this.#conn = conn;
      if (this.#closed) throw new Error("closed while connecting");
      conn.setNoDelay(true);
      this.#playMs = performance.now();
      await writeAll(
        conn,
        new TextEncoder().encode(
          `GET /${path}.flv HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
            "User-Agent: sluice-bench\r\nAccept: */*\r\n\r\n",
        ),
      );
      const { chunked, rest } = await this.#head(conn);
      await this.#demux(conn, chunked, rest);
      clearTimeout(timer);
      if (this.#closed) return this.result;
      const ended = await countReads(conn, this.#readTickMs, (n) => {
        this.result.bytes += n;
        return !this.#closed;
      });
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

  /** Reads the response head; returns whether the body is chunked and the body bytes read with it. */
  async #head(
    conn: Deno.TcpConn,
  ): Promise<{ chunked: boolean; rest: Uint8Array }> {
    const head = new Uint8Array(MAX_HEAD_SIZE);
    let size = 0;
    for (;;) {
      if (size === head.length) {
        throw new Error(`response head longer than ${MAX_HEAD_SIZE} bytes`);
      }
      const n = await conn.read(head.subarray(size));
      if (n === null) throw new Error("server closed before the response");
      size += n;
      const end = indexOfNeedle(head.subarray(0, size), CRLF_CRLF);
      if (end < 0) continue;
      const text = new TextDecoder().decode(head.subarray(0, end));
      const [status, ...fields] = text.split("\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})(.*)$/.exec(status ?? "");
      if (m === null) throw new Error(`Cannot read status line "${status}"`);
      if (m[1] !== "200") throw new Error(`GET answered ${m[1]}${m[2]}`);
      const chunked = fields.some((f) =>
        /^transfer-encoding:.*\bchunked\b/i.test(f)
      );
      // Copied: `head` is this player's own buffer, reused by nothing else.
      return { chunked, rest: head.slice(end + 4, size) };
    }
  }

  async #demux(
    conn: Deno.TcpConn,
    chunked: boolean,
    first: Uint8Array,
  ): Promise<void> {
    const demuxer = new FlvDemuxer();
    const sink = {
      enqueue: (tag: FlvTag) => {
        if (this.playing || tag.type !== FLV_TAG_TYPE.VIDEO) return;
        if (!isFlvKeyframe(tag.data)) return;
        const now = performance.now();
        this.result.ttffConnectMs = now - this.#startMs;
        this.result.ttffPlayMs = now - this.#playMs;
        this.result.keyframePlayMs = this.result.ttffPlayMs;
        this.#onKeyframe?.();
      },
    };
    const dechunker = chunked ? new Dechunker() : undefined;
    const body = {
      enqueue: (b: Uint8Array) => demuxer.push(b, sink),
    };
    let chunk = first;
    for (;;) {
      this.result.bytes += chunk.length;
      if (dechunker !== undefined) dechunker.push(chunk, body);
      else body.enqueue(chunk);
      if (this.playing || this.#closed) return;
      const buf = new Uint8Array(SETUP_READ_SIZE);
      const n = await conn.read(buf);
      if (n === null) {
        throw new Error("server closed before the first keyframe");
      }
      chunk = buf.subarray(0, n);
    }
  }
}

/**
 * Undoes the chunked transfer coding of RFC 9112 §7.1: `chunk-size (hex)
 * [; ext] CRLF data CRLF`, ending with a chunk of size 0. Data comes out as
 * views of the input.
 */
class Dechunker {
  #state: "size" | "data" | "crlf" = "size";
  #line = "";
  #left = 0;

  push(chunk: Uint8Array, out: { enqueue(b: Uint8Array): void }): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#state === "data") {
        const n = Math.min(this.#left, chunk.length - at);
        out.enqueue(chunk.subarray(at, at + n));
        at += n;
        this.#left -= n;
        if (this.#left === 0) {
          this.#state = "crlf";
          this.#left = CRLF.length;
        }
      } else if (this.#state === "crlf") {
        const n = Math.min(this.#left, chunk.length - at);
        at += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = "size";
      } else {
        const lf = chunk.indexOf(0x0a, at);
        const end = lf < 0 ? chunk.length : lf;
        this.#line += new TextDecoder().decode(chunk.subarray(at, end));
        if (this.#line.length > MAX_CHUNK_LINE) {
          throw new Error(`chunk-size line longer than ${MAX_CHUNK_LINE}`);
        }
        at = end;
        if (lf < 0) break;
        at++; // the LF
        const hex = this.#line.replace(/;.*$/, "").trim();
        this.#line = "";
        const size = parseInt(hex, 16);
        if (!/^[0-9a-fA-F]+$/.test(hex) || !Number.isSafeInteger(size)) {
          throw new Error(`Cannot read chunk size "${hex}"`);
        }
        if (size === 0) throw new Error("server ended the body");
        this.#state = "data";
        this.#left = size;
      }
    }
  }
}
