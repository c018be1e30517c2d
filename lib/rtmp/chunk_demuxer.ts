/**
 * Cuts the RTMP chunk stream into messages (Adobe RTMP specification 1.0,
 * §5.3). Set Chunk Size and Abort Message are applied here and also passed on.
 *
 * ```
 * basic header (§5.3.1.1)   fmt (2 bits) | csid (6 bits): 2..63
 *                           fmt | 0 | csid - 64 (1 byte): 64..319
 *                           fmt | 1 | csid - 64 (2 bytes, little-endian): 64..65599
 * message header (§5.3.1.2) type 0: timestamp (3) | length (3) | type id (1) | stream id (4, LE)
 *                           type 1: timestamp delta (3) | length (3) | type id (1)
 *                           type 2: timestamp delta (3)
 *                           type 3: nothing
 * extended timestamp        4 bytes when the 3-byte field is 0xFFFFFF (§5.3.1.3)
 * chunk data                min(chunk size, bytes left in the message)
 * ```
 *
 * @module
 */
import { concat } from "@std/bytes";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import {
  DEFAULT_CHUNK_SIZE,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "./message.ts";
import { type ChunkStream, drop, newStream, spill } from "./_chunk_stream.ts";

/** A 3-byte timestamp field of 0xFFFFFF announces the 4-byte extended one (§5.3.1.3). */
const EXTENDED = 0xffffff;
/** The longest chunk header: 3-byte basic header, type 0, extended timestamp. */
const MAX_HEADER_SIZE = 3 + 11 + 4;
const EMPTY = new Uint8Array(0);

/** Options of {@link ChunkDemuxer}. */
export interface ChunkDemuxerOptions {
  /** Longest message a header may announce; more is a `limit` error. @default {16777216} */
  maxMessageSize?: number;
  /** Largest chunk size the peer may set; more is a `limit` error. @default {16777216} */
  maxChunkSize?: number;
  /** Most chunk stream ids that may carry state at once. @default {64} */
  maxChunkStreams?: number;
  /**
   * Most bytes of unfinished messages held over all chunk streams together:
   * without it, a peer could start a large message on every chunk stream.
   * @default {33554432}
   */
  maxPendingBytes?: number;
  /** The chunk size the peer starts with (§5.4.1). @default {128} */
  chunkSize?: number;
}

/**
 * The chunk stream demuxer: socket bytes in (after the handshake), whole
 * {@link RtmpMessage}s out.
 *
 * The extended timestamp on type-3 chunks: §5.3.1.3 says it is present when
 * the latest type 0/1/2 header of that chunk stream used one. ffmpeg, FMLE
 * and OBS (its librtmp since 2024) repeat it on the type-3 continuation chunks
 * of a message; rtmpdump does not. Sluice reads the 4 bytes after a
 * continuation header and takes them as the repeated field only when they
 * equal the value the message's first chunk carried (or the message's
 * absolute timestamp, which some senders write instead of the delta);
 * otherwise they are chunk data. A type-3 chunk that starts a new message
 * always carries the field: it is the delta for that message. (Chunk data
 * that happens to start with those 4 bytes would be misread, and such a
 * continuation waits for 4 bytes even when its data is shorter; a sender that
 * omits the field makes both unavoidable.)
 */
export class ChunkDemuxer implements StageCore<Uint8Array, RtmpMessage> {
  readonly #streams = new Map<number, ChunkStream>();
  readonly #maxMessageSize: number;
  readonly #maxChunkSize: number;
  readonly #maxChunkStreams: number;
  #chunkSize: number;
  /** Header bytes that arrived without the rest of their header. */
  #partial: Uint8Array = EMPTY;
  /** The chunk stream whose chunk data is being read. */
  #current: ChunkStream | undefined;
  /** Chunk data bytes still to come in the current chunk. */
  #left = 0;
  #bytesIn = 0;
  readonly #maxPending: number;
  /** Bytes of unfinished messages held now, over all chunk streams. */
  #pending = 0;
  #pushId = 0;
  /** Chunk streams that took views of the current push's input. */
  readonly #touched: ChunkStream[] = [];

  constructor(options: ChunkDemuxerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.#maxChunkSize = options.maxChunkSize ?? 16 * 1024 * 1024;
    this.#maxChunkStreams = options.maxChunkStreams ?? 64;
    this.#maxPending = options.maxPendingBytes ?? 32 * 1024 * 1024;
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /** Bytes pushed so far, for Acknowledgement messages (§5.4.3); not wrapped at 2^32. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** The chunk size the peer currently uses. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  push(chunk: Uint8Array, out: Sink<RtmpMessage>): void {
    this.#bytesIn += chunk.length;
    this.#pushId++;
    let buf = chunk;
    let pos = 0;
    if (this.#partial.length > 0) {
      // Complete the header from a few bytes; the chunk data is read from `chunk` itself.
      const head = this.#partial;
      const joined = concat([head, chunk.subarray(0, MAX_HEADER_SIZE)]);
      const n = this.#header(joined, 0, out);
      if (n < 0) {
        this.#partial = joined; // all of `chunk` was too little
        return;
      }
      this.#partial = EMPTY;
      if (n >= head.length) pos = n - head.length;
      // Rare: the 4 bytes looked at for a repeated extended timestamp were chunk data.
      else buf = concat([head.subarray(n), chunk]);
    }
    const end = buf.length;
    while (pos < end) {
      if (this.#left === 0) {
        const n = this.#header(buf, pos, out);
        if (n < 0) {
          this.#partial = buf.slice(pos);
          break;
        }
        pos += n;
        continue;
      }
      const stream = this.#current!;
      const take = this.#left < end - pos ? this.#left : end - pos;
      if (stream.received === 0 && take === stream.length) {
        // The whole message in one chunk, all in this read: a view, no copy.
        this.#left = 0;
        stream.active = false;
        this.#emit(stream, buf.subarray(pos, pos + take), out);
        pos += take;
        continue;
      }
      if (stream.pushId !== this.#pushId) {
        stream.pushId = this.#pushId;
        this.#touched.push(stream);
      }
      this.#pending += take;
      if (this.#pending > this.#maxPending) {
        throw fail(
          "limit",
          `${this.#pending} bytes of unfinished messages exceed ${this.#maxPending}`,
        );
      }
      stream.views.push(buf.subarray(pos, pos + take));
      stream.received += take;
      this.#left -= take;
      pos += take;
      if (stream.received === stream.length) this.#complete(stream, out);
    }
    // Views of this read that outlive it would pin the whole read buffer, and
    // one piece per read would let tiny reads pile up objects: copy them.
    for (const stream of this.#touched) {
      if (stream.active && stream.views.length > 0) spill(stream);
    }
    this.#touched.length = 0;
  }

  end(): void {
    if (this.#partial.length > 0) {
      throw fail("truncated", "input ended inside a chunk header");
    }
    for (const stream of this.#streams.values()) {
      if (stream.active) {
        throw fail(
          "truncated",
          `input ended inside a message on chunk stream ${stream.id}`,
        );
      }
    }
  }

  /** Reads one chunk header at `pos`; returns its size, or -1 when more bytes are needed. */
  #header(buf: Uint8Array, pos: number, out: Sink<RtmpMessage>): number {
    const end = buf.length;
    const b0 = buf[pos]!;
    const fmt = b0 >>> 6;
    let id = b0 & 0x3f;
    let at = pos + 1;
    if (id === 0) {
      if (end - pos < 2) return -1;
      id = 64 + buf[pos + 1]!;
      at = pos + 2;
    } else if (id === 1) {
      if (end - pos < 3) return -1;
      id = 64 + buf[pos + 1]! + buf[pos + 2]! * 256;
      at = pos + 3;
    }
    let stream = this.#streams.get(id);

    if (fmt === 3) {
      if (stream === undefined) throw noPrevious(3, id);
      if (stream.active) {
        // A continuation chunk: the extended field may or may not be repeated.
        if (stream.extended) {
          if (end - at < 4) return -1;
          const value = readU32(buf, at);
          if (value === stream.firstExtended || value === stream.timestamp) {
            at += 4;
          }
        }
      } else {
        // A new message with the previous header and delta (§5.3.1.2.4).
        let delta = stream.delta;
        if (stream.extended) {
          if (end - at < 4) return -1;
          delta = readU32(buf, at);
          at += 4;
          stream.delta = delta;
          stream.firstExtended = delta;
        }
        stream.timestamp = (stream.timestamp + delta) >>> 0;
        this.#start(stream);
      }
      return this.#chunkData(stream, at - pos, out);
    }

    const size = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
    if (end - at < size) return -1;
    let field = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
    const extended = field === EXTENDED;
    if (extended) {
      if (end - at < size + 4) return -1;
      field = readU32(buf, at + size);
    }
    if (stream === undefined) {
      if (fmt !== 0) throw noPrevious(fmt, id);
      if (this.#streams.size >= this.#maxChunkStreams) {
        throw fail(
          "limit",
          `chunk stream ${id} exceeds ${this.#maxChunkStreams} chunk streams`,
        );
      }
    } else if (stream.active) {
      throw fail(
        "sequence",
        `type-${fmt} header on chunk stream ${id} before its ${stream.length}-byte message ended`,
      );
    }
    if (fmt <= 1) {
      const length = (buf[at + 3]! << 16) | (buf[at + 4]! << 8) | buf[at + 5]!;
      if (length > this.#maxMessageSize) {
        throw fail(
          "limit",
          `message of ${length} bytes exceeds ${this.#maxMessageSize}`,
        );
      }
      if (stream === undefined) {
        stream = newStream(id);
        this.#streams.set(id, stream);
      }
      stream.length = length;
      stream.typeId = buf[at + 6]!;
      if (fmt === 0) {
        stream.streamId =
          (buf[at + 7]! | (buf[at + 8]! << 8) | (buf[at + 9]! << 16) |
            (buf[at + 10]! << 24)) >>> 0;
      }
    }
    stream = stream!;
    stream.extended = extended;
    stream.firstExtended = field;
    stream.delta = field;
    stream.timestamp = fmt === 0 ? field : (stream.timestamp + field) >>> 0;
    this.#start(stream);
    return this.#chunkData(stream, at + size + (extended ? 4 : 0) - pos, out);
  }

  #start(stream: ChunkStream): void {
    stream.active = true;
    stream.received = 0;
  }

  /** Sets up reading the chunk data that follows a header of `headerSize` bytes. */
  #chunkData(
    stream: ChunkStream,
    headerSize: number,
    out: Sink<RtmpMessage>,
  ): number {
    const left = stream.length - stream.received;
    this.#current = stream;
    this.#left = left < this.#chunkSize ? left : this.#chunkSize;
    if (left === 0) {
      stream.active = false;
      this.#emit(stream, EMPTY, out);
    }
    return headerSize;
  }

  #complete(stream: ChunkStream, out: Sink<RtmpMessage>): void {
    let payload: Uint8Array;
    if (stream.spill === undefined) {
      const views = stream.views;
      payload = views.length === 1 ? views[0]! : concat(views);
    } else {
      spill(stream); // grows to exactly the message length
      payload = stream.spill;
    }
    this.#pending -= stream.received;
    drop(stream);
    this.#emit(stream, payload, out);
  }

  #emit(
    stream: ChunkStream,
    payload: Uint8Array,
    out: Sink<RtmpMessage>,
  ): void {
    if (stream.typeId === MESSAGE_TYPE.SET_CHUNK_SIZE) {
      this.#setChunkSize(payload);
    } else if (stream.typeId === MESSAGE_TYPE.ABORT) this.#abort(payload);
    out.enqueue({
      chunkStreamId: stream.id,
      typeId: stream.typeId,
      timestamp: stream.timestamp,
      streamId: stream.streamId,
      payload,
    });
  }

  /** §5.4.1: 31 bits, zero not allowed; applies to the chunks that follow. */
  #setChunkSize(payload: Uint8Array): void {
    if (payload.length < 4) {
      throw fail("truncated", `Set Chunk Size of ${payload.length} bytes`);
    }
    const size = readU32(payload, 0);
    if (size === 0 || size > 0x7fffffff) {
      throw fail("malformed", `chunk size ${size}`);
    }
    if (size > this.#maxChunkSize) {
      throw fail("limit", `chunk size ${size} exceeds ${this.#maxChunkSize}`);
    }
    this.#chunkSize = size;
  }

  /** §5.4.2: drop the partial message of the chunk stream named. */
  #abort(payload: Uint8Array): void {
    if (payload.length < 4) {
      throw fail("truncated", `Abort Message of ${payload.length} bytes`);
    }
    const stream = this.#streams.get(readU32(payload, 0));
    if (stream !== undefined) {
      this.#pending -= stream.received;
      drop(stream);
    }
  }
}

/** {@link ChunkDemuxer} as a `TransformStream`. */
export class ChunkDemuxerStream extends StageStream<Uint8Array, RtmpMessage> {
  constructor(options?: ChunkDemuxerOptions) {
    super(new ChunkDemuxer(options));
  }
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) |
    b[at + 3]!) >>> 0;
}

function noPrevious(fmt: number, id: number): ProtocolError {
  return fail(
    "sequence",
    `type-${fmt} header on chunk stream ${id}, which has no previous header`,
  );
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot read RTMP chunk: ${detail}`, {
    protocol: "rtmp",
    code,
  });
}
