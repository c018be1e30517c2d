/**
 * The FLV file format, Adobe FLV v10.1 §E.2 and §E.3: what HTTP-FLV serves
 * and what `ffmpeg -f flv` writes.
 *
 * ```
 * header:  'F' 'L' 'V' | Version (8) = 1 | TypeFlags (8: 0x04 audio, 0x01 video)
 *          | DataOffset (32) = 9
 * body:    PreviousTagSize0 (32) = 0 | { tag | PreviousTagSize (32) = 11 + DataSize }*
 * tag:     Reserved (2) | Filter (1) | TagType (5) | DataSize (24) | Timestamp (24)
 *          | TimestampExtended (8, bits 31..24) | StreamID (24) = 0 | Data
 * ```
 *
 * @module
 */

import { concat } from "@std/bytes";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import { Unwrapper32 } from "../media/time.ts";
import { FLV_TAG_TYPE, type FlvTag, type FlvTagType } from "./tag.ts";

const HEADER_SIZE = 9;
const TAG_HEADER_SIZE = 11;
const PREVIOUS_TAG_SIZE = 4;
/** A DataOffset beyond this is not a header we know how to skip. */
const MAX_DATA_OFFSET = 1024;
const MAX_DATA_SIZE = 0xffffff;
const SIGNATURE = [0x46, 0x4c, 0x56]; // "FLV"

/** TypeFlags of an FLV header. */
export interface FlvHeaderFlags {
  hasAudio: boolean;
  hasVideo: boolean;
}

/** Options of {@link FlvDemuxer}. */
export interface FlvDemuxerOptions {
  /**
   * Largest tag body accepted, in bytes.
   * @default {16 * 1024 * 1024}
   */
  maxTagSize?: number;
}

const State = { HEADER: 0, SKIP: 1, TAG: 2 } as const;
type State = typeof State[keyof typeof State];

/**
 * Cuts an FLV byte stream into tags. Tag bodies are views of the input;
 * audio and video timestamps are unwrapped past 2^32 ms, and script data
 * is read on their clock without moving it. Tags of types other than audio,
 * video and script are skipped.
 */
export class FlvDemuxer implements StageCore<Uint8Array, FlvTag> {
  readonly #maxTagSize: number;
  /** Audio and video: one timeline, unwrapped. */
  readonly #unwrap = new Unwrapper32();
  /** The latest audio or video timestamp, as read and unwrapped. */
  #lastRaw: number | undefined;
  #lastTime = 0;
  #state: State = State.HEADER;
  /** Bytes to skip in state SKIP: the rest of the header, then PreviousTagSize fields. */
  #skip = 0;
  #skipSize = 0;
  /** Pending input, joined once enough has arrived for `#need`. */
  #parts: Uint8Array[] = [];
  #buffered = 0;
  #need = HEADER_SIZE;
  #header: FlvHeaderFlags | undefined;

  constructor(options: FlvDemuxerOptions = {}) {
    this.#maxTagSize = Math.min(
      options.maxTagSize ?? 16 * 1024 * 1024,
      MAX_DATA_SIZE,
    );
  }

  /** The header's TypeFlags, once read. */
  get header(): FlvHeaderFlags | undefined {
    return this.#header;
  }

  push(chunk: Uint8Array, out: Sink<FlvTag>): void {
    let buf = chunk;
    if (this.#parts.length > 0) {
      this.#parts.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#need) return; // one join when the item is whole
      buf = concat(this.#parts);
      this.#parts = [];
      this.#buffered = 0;
    }
    const pos = this.#parse(buf, out);
    if (pos < buf.length) {
      this.#parts = [buf.subarray(pos)];
      this.#buffered = buf.length - pos;
    }
  }

  end(): void {
    const partial = this.#buffered > 0 ||
      (this.#state === State.SKIP && this.#skip < this.#skipSize);
    if (partial) throw fail("truncated", "input ended inside a tag or header");
  }

  /** Reads whole items from `buf`; returns where the unread rest starts. */
  #parse(buf: Uint8Array, out: Sink<FlvTag>): number {
    let pos = 0;
    for (;;) {
      const left = buf.length - pos;
      if (this.#state === State.SKIP) {
        const n = Math.min(this.#skip, left);
        pos += n;
        this.#skip -= n;
        if (this.#skip > 0) return pos;
        this.#state = State.TAG;
      } else if (this.#state === State.HEADER) {
        this.#need = HEADER_SIZE;
        if (left < HEADER_SIZE) return pos;
        this.#readHeader(buf.subarray(pos, pos + HEADER_SIZE));
        pos += HEADER_SIZE;
      } else {
        this.#need = TAG_HEADER_SIZE;
        if (left < TAG_HEADER_SIZE) return pos;
        const b0 = buf[pos]!;
        if (b0 & 0x20) {
          throw fail("unsupported", "encrypted tag (Filter bit set)");
        }
        const size = (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) |
          buf[pos + 3]!;
        if (size > this.#maxTagSize) {
          throw fail(
            "limit",
            `tag of ${size} bytes exceeds ${this.#maxTagSize}`,
          );
        }
        this.#need = TAG_HEADER_SIZE + size;
        if (left < this.#need) return pos;
        const type = b0 & 0x1f;
        // §E.4.1: other types are reserved; skipped, their timestamps do not
        // move the clock of the tags that are read.
        if (
          type === FLV_TAG_TYPE.AUDIO || type === FLV_TAG_TYPE.VIDEO ||
          type === FLV_TAG_TYPE.SCRIPT
        ) {
          const ts24 = (buf[pos + 4]! << 16) | (buf[pos + 5]! << 8) |
            buf[pos + 6]!;
          const raw = ((buf[pos + 7]! << 24) | ts24) >>> 0;
          const timestamp = type === FLV_TAG_TYPE.SCRIPT
            ? this.#scriptTime(raw)
            : this.#mediaTime(raw);
          const at = pos + TAG_HEADER_SIZE;
          out.enqueue({
            type: type as FlvTagType,
            timestamp,
            data: buf.subarray(at, at + size),
          });
        }
        pos += this.#need;
        this.#skipBytes(PREVIOUS_TAG_SIZE); // its value is not checked: writers get it wrong
      }
    }
  }

  #mediaTime(raw: number): number {
    this.#lastRaw = raw;
    this.#lastTime = this.#unwrap.unwrap(raw);
    return this.#lastTime;
  }

  /**
   * Script data is read on the media clock without moving it: onMetaData
   * stamped 0 before media at 2^31 ms or more (an encoder whose clock has
   * run that long) must not make the media's times negative.
   */
  #scriptTime(raw: number): number {
    if (this.#lastRaw === undefined) return raw;
    return this.#lastTime + ((raw - this.#lastRaw) | 0);
  }

  #readHeader(h: Uint8Array): void {
    if (
      h[0] !== SIGNATURE[0] || h[1] !== SIGNATURE[1] || h[2] !== SIGNATURE[2]
    ) {
      throw fail("malformed", 'no "FLV" signature');
    }
    const offset = ((h[5]! << 24) | (h[6]! << 16) | (h[7]! << 8) | h[8]!) >>> 0;
    if (offset < HEADER_SIZE) {
      throw fail("malformed", `DataOffset ${offset} is less than 9`);
    }
    if (offset > MAX_DATA_OFFSET) {
      throw fail("limit", `DataOffset ${offset} exceeds ${MAX_DATA_OFFSET}`);
    }
    this.#header = {
      hasAudio: (h[4]! & 0x04) !== 0,
      hasVideo: (h[4]! & 0x01) !== 0,
    };
    this.#skipBytes(offset - HEADER_SIZE + PREVIOUS_TAG_SIZE);
  }

  #skipBytes(n: number): void {
    this.#state = State.SKIP;
    this.#skip = n;
    this.#skipSize = n;
  }
}

/** {@link FlvDemuxer} as a `TransformStream`. */
export class FlvDemuxerStream extends StageStream<Uint8Array, FlvTag> {
  constructor(options?: FlvDemuxerOptions) {
    super(new FlvDemuxer(options));
  }
}

/** The 9-byte FLV header followed by PreviousTagSize0: the first 13 bytes of a file. */
export function flvHeader(
  hasAudio: boolean,
  hasVideo: boolean,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_SIZE + PREVIOUS_TAG_SIZE);
  out.set(SIGNATURE);
  out[3] = 1;
  out[4] = (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0);
  out[8] = HEADER_SIZE;
  return out;
}

/**
 * One tag as a file or HTTP-FLV stream carries it: the 11-byte tag header,
 * the body, and its PreviousTagSize, in one allocation. Timestamps past
 * 2^32 ms wrap, as the 32-bit field does.
 */
export function encodeFlvTag(tag: FlvTag): Uint8Array<ArrayBuffer> {
  const size = tag.data.length;
  if (size > MAX_DATA_SIZE) {
    throw new RangeError(
      `Cannot encode FLV tag: body of ${size} bytes exceeds 2^24 - 1`,
    );
  }
  const out = new Uint8Array(TAG_HEADER_SIZE + size + PREVIOUS_TAG_SIZE);
  const view = new DataView(out.buffer);
  const ts = Math.round(tag.timestamp) >>> 0;
  view.setUint32(0, (tag.type << 24) | size);
  view.setUint32(4, ((ts & 0xffffff) << 8) | (ts >>> 24)); // Timestamp, TimestampExtended
  // StreamID stays 0
  out.set(tag.data, TAG_HEADER_SIZE);
  view.setUint32(TAG_HEADER_SIZE + size, TAG_HEADER_SIZE + size);
  return out;
}

/** Options of {@link FlvMuxer}. */
export interface FlvMuxerOptions {
  /** @default {true} */
  hasAudio?: boolean;
  /** @default {true} */
  hasVideo?: boolean;
}

/** FLV tags → FLV file bytes: the header first, then one chunk per tag. */
export class FlvMuxer implements StageCore<FlvTag, Uint8Array> {
  readonly #hasAudio: boolean;
  readonly #hasVideo: boolean;
  #started = false;

  constructor(options: FlvMuxerOptions = {}) {
    this.#hasAudio = options.hasAudio ?? true;
    this.#hasVideo = options.hasVideo ?? true;
  }

  push(tag: FlvTag, out: Sink<Uint8Array>): void {
    this.#start(out);
    out.enqueue(encodeFlvTag(tag));
  }

  /** An input without tags still gives a valid (empty) file. */
  end(out: Sink<Uint8Array>): void {
    this.#start(out);
  }

  #start(out: Sink<Uint8Array>): void {
    if (this.#started) return;
    this.#started = true;
    out.enqueue(flvHeader(this.#hasAudio, this.#hasVideo));
  }
}

/** {@link FlvMuxer} as a `TransformStream`. */
export class FlvMuxerStream extends StageStream<FlvTag, Uint8Array> {
  constructor(options?: FlvMuxerOptions) {
    super(new FlvMuxer(options));
  }
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot read FLV file: ${detail}`, {
    protocol: "flv",
    code,
  });
}
