/**
 * Turns RTMP messages into chunks (Adobe RTMP specification 1.0, §5.3):
 * {@link ChunkMuxer} for one connection's own messages, with header
 * compression, and {@link encodeMessage} for media encoded once and written
 * to many players.
 *
 * @module
 */
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import {
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_STREAM_ID,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  MIN_CHUNK_STREAM_ID,
  type RtmpMessage,
} from "./message.ts";

/** A 3-byte timestamp field of 0xFFFFFF announces the 4-byte extended one (§5.3.1.3). */
const EXTENDED = 0xffffff;
/** Message header sizes of chunk types 0..3 (§5.3.1.2). */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
/** §5.4.1: chunk sizes are 31 bits. */
const MAX_CHUNK_SIZE = 0x7fffffff;

/** Options of {@link ChunkMuxer}. */
export interface ChunkMuxerOptions {
  /** The chunk size to start with; must match what the peer expects. @default {128} */
  chunkSize?: number;
  /** Use type 1/2/3 headers when the previous message on the same chunk stream allows. @default {true} */
  compress?: boolean;
}

/** The header a chunk stream id last went out with, as the peer will remember it. */
interface SentHeader {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The latest type 0/1/2 header was type 1 or 2, so the peer's delta is one we sent. */
  deltaSent: boolean;
}

/**
 * The chunk stream muxer: {@link RtmpMessage}s in, one buffer of chunks per
 * message out. A Set Chunk Size message that passes through changes the
 * chunk size for the messages after it.
 *
 * Compression (§5.3.1.2): type 1 when only the stream id repeats, type 2 when
 * length and type id repeat too, type 3 when also the delta repeats the type
 * 1/2 delta sent last. A type 0 goes out for the first message of a chunk
 * stream id, a new message stream id, a timestamp that goes backwards (or
 * wraps), and a delta of 0xFFFFFF or more: the extended field then only ever
 * holds an absolute timestamp, which every receiver reads the same way (SRS
 * before 2025 read an extended type 1/2 delta as absolute).
 */
export class ChunkMuxer implements StageCore<RtmpMessage, Uint8Array> {
  #chunkSize: number;
  readonly #compress: boolean;
  readonly #sent = new Map<number, SentHeader>();

  constructor(options: ChunkMuxerOptions = {}) {
    this.#chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.#compress = options.compress ?? true;
  }

  /** The chunk size in use. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  push(message: RtmpMessage, out: Sink<Uint8Array>): void {
    checkMessage(message);
    const nextChunkSize = message.typeId === MESSAGE_TYPE.SET_CHUNK_SIZE
      ? chunkSizeOf(message)
      : undefined;
    const { chunkStreamId, timestamp, typeId, streamId } = message;
    const length = message.payload.length;
    const prev = this.#compress ? this.#sent.get(chunkStreamId) : undefined;
    let fmt: 0 | 1 | 2 | 3 = 0;
    let field = timestamp;
    if (
      prev !== undefined && prev.streamId === streamId &&
      timestamp >= prev.timestamp &&
      timestamp - prev.timestamp < EXTENDED
    ) {
      field = timestamp - prev.timestamp;
      if (length !== prev.length || typeId !== prev.typeId) fmt = 1;
      else fmt = prev.deltaSent && field === prev.delta ? 3 : 2;
    }
    out.enqueue(encode(message, fmt, field, this.#chunkSize));
    if (this.#compress) {
      this.#sent.set(chunkStreamId, {
        timestamp,
        delta: field,
        length,
        typeId,
        streamId,
        deltaSent: fmt !== 0,
      });
    }
    if (nextChunkSize !== undefined) this.#chunkSize = nextChunkSize;
  }

  /**
   * Forgets what was sent on `chunkStreamId` (or on every id), so its next
   * message goes out with a type-0 header. Call it after writing
   * {@link encodeMessage} output on an id this muxer also uses.
   */
  reset(chunkStreamId?: number): void {
    if (chunkStreamId === undefined) this.#sent.clear();
    else this.#sent.delete(chunkStreamId);
  }
}

/** {@link ChunkMuxer} as a `TransformStream`. */
export class ChunkMuxerStream extends StageStream<RtmpMessage, Uint8Array> {
  constructor(options?: ChunkMuxerOptions) {
    super(new ChunkMuxer(options));
  }
}

/**
 * Encodes a message as a type-0 chunk and type-3 continuations (repeating the
 * extended timestamp when there is one), in one exactly sized buffer. The
 * result is valid whatever the peer received before on that chunk stream, so
 * the same bytes can go to every player that uses `chunkSize`.
 */
export function encodeMessage(
  message: RtmpMessage,
  chunkSize: number,
): Uint8Array<ArrayBuffer> {
  checkMessage(message);
  return encode(message, 0, message.timestamp, checkChunkSize(chunkSize));
}

/**
 * Writes one message; `field` is the timestamp (type 0) or delta (types 1, 2).
 * A type-3 first chunk here never needs the extended field: ChunkMuxer sends
 * type 3 only after a type 1/2 header whose delta fit in 24 bits.
 */
function encode(
  message: RtmpMessage,
  fmt: 0 | 1 | 2 | 3,
  field: number,
  chunkSize: number,
): Uint8Array<ArrayBuffer> {
  const { chunkStreamId: id, payload } = message;
  const length = payload.length;
  const extended = fmt !== 3 && field >= EXTENDED;
  const extSize = extended ? 4 : 0;
  const basicSize = id < 64 ? 1 : id < 320 ? 2 : 3;
  const chunks = length === 0 ? 1 : Math.ceil(length / chunkSize);
  const total = basicSize + MESSAGE_HEADER_SIZE[fmt] + extSize + length +
    (chunks - 1) * (basicSize + extSize);
  const out = new Uint8Array(total);
  let at = writeBasicHeader(out, 0, fmt, id);
  if (fmt !== 3) {
    const value = extended ? EXTENDED : field;
    out[at] = value >>> 16;
    out[at + 1] = (value >>> 8) & 0xff;
    out[at + 2] = value & 0xff;
    at += 3;
  }
  if (fmt <= 1) {
    out[at] = length >>> 16;
    out[at + 1] = (length >>> 8) & 0xff;
    out[at + 2] = length & 0xff;
    out[at + 3] = message.typeId;
    at += 4;
  }
  if (fmt === 0) {
    const sid = message.streamId; // little-endian (§5.3.1.2.1)
    out[at] = sid & 0xff;
    out[at + 1] = (sid >>> 8) & 0xff;
    out[at + 2] = (sid >>> 16) & 0xff;
    out[at + 3] = sid >>> 24;
    at += 4;
  }
  if (extended) at = writeU32(out, at, field);
  let pos = 0;
  while (true) {
    const take = Math.min(chunkSize, length - pos);
    out.set(payload.subarray(pos, pos + take), at);
    at += take;
    pos += take;
    if (pos >= length) break;
    at = writeBasicHeader(out, at, 3, id);
    if (extended) at = writeU32(out, at, field); // §5.3.1.3: repeated on type 3
  }
  return out;
}

/** §5.3.1.1: 1, 2 or 3 bytes depending on the chunk stream id. */
function writeBasicHeader(
  out: Uint8Array,
  at: number,
  fmt: number,
  id: number,
): number {
  if (id < 64) {
    out[at] = (fmt << 6) | id;
    return at + 1;
  }
  if (id < 320) {
    out[at] = fmt << 6;
    out[at + 1] = id - 64;
    return at + 2;
  }
  out[at] = (fmt << 6) | 1;
  out[at + 1] = (id - 64) & 0xff;
  out[at + 2] = (id - 64) >>> 8;
  return at + 3;
}

function writeU32(out: Uint8Array, at: number, value: number): number {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
  return at + 4;
}

function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
    throw new RangeError(
      `Cannot use chunk size "${size}": not in 1..${MAX_CHUNK_SIZE}`,
    );
  }
  return size;
}

function chunkSizeOf(message: RtmpMessage): number {
  const p = message.payload;
  if (p.length < 4) {
    throw new RangeError(
      `Cannot send Set Chunk Size: payload of ${p.length} bytes`,
    );
  }
  return checkChunkSize(
    ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0,
  );
}

function checkMessage(m: RtmpMessage): void {
  const id = m.chunkStreamId;
  if (
    !Number.isInteger(id) || id < MIN_CHUNK_STREAM_ID ||
    id > MAX_CHUNK_STREAM_ID
  ) {
    throw new RangeError(
      `Cannot send RTMP message: chunk stream id "${id}" is not in 2..65599`,
    );
  }
  if (!Number.isInteger(m.typeId) || m.typeId < 0 || m.typeId > 0xff) {
    throw new RangeError(
      `Cannot send RTMP message: type id "${m.typeId}" is not a byte`,
    );
  }
  if (
    !Number.isInteger(m.timestamp) || m.timestamp < 0 ||
    m.timestamp > 0xffffffff
  ) {
    throw new RangeError(
      `Cannot send RTMP message: timestamp "${m.timestamp}" is not 32-bit unsigned`,
    );
  }
  if (
    !Number.isInteger(m.streamId) || m.streamId < 0 || m.streamId > 0xffffffff
  ) {
    throw new RangeError(
      `Cannot send RTMP message: stream id "${m.streamId}" is not 32-bit unsigned`,
    );
  }
  if (m.payload.length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(
      `Cannot send RTMP message: ${m.payload.length} bytes exceed ${MAX_MESSAGE_LENGTH}`,
    );
  }
}
