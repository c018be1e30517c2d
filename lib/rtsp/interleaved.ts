/**
 * The `$` frames of RFC 2326 §10.12 (RFC 7826 §14): RTP and RTCP packets on
 * the RTSP TCP connection.
 *
 * ```
 * '$' (0x24) | channel (1 byte) | length (2 bytes, big-endian) | payload (length bytes)
 * ```
 *
 * {@link InterleavedFramer} reads a connection that carries only frames (the
 * media side of a publisher once RECORD began, say); {@link RtspFramer}
 * reads frames mixed with requests and responses.
 *
 * @module
 */
import { concat } from "@std/bytes";
import type { ProtocolErrorCode } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import { rtspError } from "./error.ts";

/** The first byte of a frame. */
export const INTERLEAVED_MAGIC = 0x24;
/** Magic, channel, 16-bit length. */
export const INTERLEAVED_HEADER_SIZE = 4;
/** The 16-bit length field's largest value. */
export const MAX_INTERLEAVED_PAYLOAD = 0xffff;

/** One frame: RTP on an even channel and RTCP on the next odd one, by convention (§12.39). */
export interface InterleavedFrame {
  /** 0–255. */
  channel: number;
  /** The RTP or RTCP packet. */
  payload: Uint8Array;
}

/** Options of {@link InterleavedFramer}. */
export interface InterleavedFramerOptions {
  /** Largest payload accepted; more is a `limit` error. @default {65535} */
  maxPayloadSize?: number;
}

const EMPTY = new Uint8Array(0);

/** Cuts a byte stream of `$` frames into {@link InterleavedFrame}s; payloads are views of the input. */
export class InterleavedFramer
  implements StageCore<Uint8Array, InterleavedFrame> {
  #rest: Uint8Array = EMPTY; // annotated: chunks may view any buffer
  readonly #max: number;

  constructor(options: InterleavedFramerOptions = {}) {
    this.#max = options.maxPayloadSize ?? MAX_INTERLEAVED_PAYLOAD;
  }

  push(chunk: Uint8Array, out: Sink<InterleavedFrame>): void {
    const buf = this.#rest.length === 0 ? chunk : concat([this.#rest, chunk]);
    let pos = 0;
    while (buf.length - pos >= INTERLEAVED_HEADER_SIZE) {
      if (buf[pos] !== INTERLEAVED_MAGIC) {
        throw fail(
          "malformed",
          `byte 0x${
            buf[pos]!.toString(16).padStart(2, "0")
          } where 0x24 starts a frame`,
        );
      }
      const size = (buf[pos + 2]! << 8) | buf[pos + 3]!;
      if (size > this.#max) {
        throw fail("limit", `${size} bytes exceeds ${this.#max}`);
      }
      const end = pos + INTERLEAVED_HEADER_SIZE + size;
      if (end > buf.length) break; // the rest comes in a later chunk
      out.enqueue({
        channel: buf[pos + 1]!,
        payload: buf.subarray(pos + INTERLEAVED_HEADER_SIZE, end),
      });
      pos = end;
    }
    // What waits is copied: a view would pin the whole read buffer.
    this.#rest = pos === buf.length
      ? EMPTY
      : buf === chunk
      ? buf.slice(pos)
      : buf.subarray(pos);
  }

  end(): void {
    if (this.#rest.length > 0) {
      throw fail("truncated", "input ended inside a frame");
    }
  }
}

/** {@link InterleavedFramer} as a `TransformStream`. */
export class InterleavedFramerStream
  extends StageStream<Uint8Array, InterleavedFrame> {
  constructor(options?: InterleavedFramerOptions) {
    super(new InterleavedFramer(options));
  }
}

/**
 * The 4-byte header of a frame: a server writes it before RTP bytes shared by
 * all its readers, so each reader's channel costs 4 bytes, not a copy.
 */
export function interleavedHeader(
  channel: number,
  length: number,
): Uint8Array<ArrayBuffer> {
  checkFrame(channel, length);
  return Uint8Array.of(INTERLEAVED_MAGIC, channel, length >>> 8, length & 0xff);
}

/** A whole frame: header and payload in one buffer. */
export function encodeInterleaved(
  channel: number,
  payload: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkFrame(channel, payload.length);
  const out = new Uint8Array(INTERLEAVED_HEADER_SIZE + payload.length);
  out[0] = INTERLEAVED_MAGIC;
  out[1] = channel;
  out[2] = payload.length >>> 8;
  out[3] = payload.length & 0xff;
  out.set(payload, INTERLEAVED_HEADER_SIZE);
  return out;
}

function checkFrame(channel: number, length: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(
      `Cannot encode interleaved frame: channel ${channel} is not 0–255`,
    );
  }
  if (
    !Number.isInteger(length) || length < 0 || length > MAX_INTERLEAVED_PAYLOAD
  ) {
    throw new RangeError(
      `Cannot encode interleaved frame: ${length} bytes exceeds ${MAX_INTERLEAVED_PAYLOAD}`,
    );
  }
}

function fail(code: ProtocolErrorCode, detail: string) {
  return rtspError("read interleaved frame", code, detail);
}
