/**
 * Cuts one RTSP TCP connection into requests, responses and `$` frames
 * (RFC 2326 §4, §10.12; RFC 7826 §8, §14). Both sides use it: a server reads
 * requests and, during RECORD, frames; a client reads responses and, during
 * PLAY, frames; either may meet the other kind (a server's GET_PARAMETER to
 * a client, a stray RTCP frame between replies).
 *
 * ```
 * message  start-line CRLF *(header CRLF) CRLF [body: Content-Length bytes]
 * request  Method SP Request-URI SP RTSP-Version        (§6.1)
 * response RTSP-Version SP Status-Code SP Reason-Phrase (§7.1)
 * header   field-name ":" OWS field-value OWS; a line starting with SP/HT continues the previous one
 * frame    '$' | channel (1) | length (2, big-endian) | payload
 * ```
 *
 * Tolerated as real peers send it: empty lines before a message (§6: "empty
 * lines MAY precede a request"), bare LF or bare CR line ends (§4: receivers
 * should take CR and LF by themselves as line terminators), space before the
 * colon, folded header lines. Refused with a status a server can answer:
 * a message starting with SP or HT (live555 CVE-2007-6036, CVE-2013-6933/6934
 * came from such requests and very short ones), control bytes, a malformed
 * start line or header, bounds exceeded, a Content-Length that is not digits
 * or that repeats with another value. A Content-Length over `maxBodySize` is
 * refused as soon as the header is read, so `Content-Length: 999999999` never
 * makes the connection wait for, or hold room for, those bytes. Likewise a
 * method longer than `maxMethodLength` is a 400 as soon as that many bytes
 * pass without a space; a long start line with a short method is a 414.
 *
 * @module
 */
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import {
  checkHeadBytes,
  fail,
  HeaderLines,
  parseStartLine,
  type StartLine,
} from "./_head.ts";
import { INTERLEAVED_MAGIC, MAX_INTERLEAVED_PAYLOAD } from "./interleaved.ts";
import { RtspError } from "./error.ts";
import type { RtspFramed } from "./message.ts";

/** Options of {@link RtspFramer}. */
export interface RtspFramerOptions {
  /** Longest start line or header line, without its line end. A longer request line is a 414. @default {8192} */
  maxLineLength?: number;
  /**
   * Longest method, the first word of a request line: RTSP's methods are at
   * most 13 letters (`GET_PARAMETER`), so more is a 400 while the line is
   * still coming in, not a 414, which is for a long Request-URI.
   * @default {64}
   */
  maxMethodLength?: number;
  /** Most header fields in one message. @default {64} */
  maxHeaderCount?: number;
  /** Most bytes of start line and headers, line ends included. @default {16384} */
  maxHeaderBytes?: number;
  /**
   * Largest Content-Length: bodies are SDP (ANNOUNCE, DESCRIBE replies: a
   * few KiB even for a dozen tracks) or GET/SET_PARAMETER text. More is a 413.
   * @default {65536}
   */
  maxBodySize?: number;
  /** Largest `$` frame payload; the 16-bit length allows no more than 65535. @default {65535} */
  maxFrameSize?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const EMPTY = new Uint8Array(0);
/** One for every framer: a whole line is decoded at once, with no state kept. */
const DECODER = new TextDecoder();

const IDLE = 0; // between messages
const HEAD = 1; // inside start line and headers
const BODY = 2; // reading Content-Length bytes
const FRAME_HEADER = 3; // a '$' header split across reads
const FRAME = 4; // reading a frame's payload

/**
 * The RTSP connection framer: bytes in, {@link RtspFramed} out. Frame
 * payloads and bodies are views of the input when a read holds them whole,
 * else one exact copy; after an error every later push throws it again.
 */
export class RtspFramer implements StageCore<Uint8Array, RtspFramed> {
  readonly #maxLine: number;
  readonly #maxMethod: number;
  readonly #maxHeaderCount: number;
  readonly #maxHeaderBytes: number;
  readonly #maxBody: number;
  readonly #maxFrame: number;

  #state = IDLE;
  #failure: RtspError | undefined;
  /** A CR ended the last read's last line: an LF starting the next read belongs to it. */
  #skipLf = false;

  // HEAD
  /** Made when a line first arrives in pieces: most connections never need it. */
  #line: Uint8Array = EMPTY;
  #lineLength = 0;
  #start: StartLine | undefined;
  /** The start line's first word was seen to end within #maxMethod bytes. */
  #methodEnded = false;
  #lines: HeaderLines;
  #headerBytes = 0;

  // FRAME_HEADER, FRAME, BODY
  readonly #frameHeader = new Uint8Array(4);
  #frameHeaderLength = 0;
  #channel = 0;
  #need = 0;
  #data: Uint8Array | undefined;
  #filled = 0;

  constructor(options: RtspFramerOptions = {}) {
    this.#maxLine = options.maxLineLength ?? 8192;
    this.#maxMethod = Math.min(options.maxMethodLength ?? 64, this.#maxLine);
    this.#maxHeaderCount = options.maxHeaderCount ?? 64;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 16384;
    this.#maxBody = options.maxBodySize ?? 65536;
    this.#maxFrame = Math.min(
      options.maxFrameSize ?? MAX_INTERLEAVED_PAYLOAD,
      MAX_INTERLEAVED_PAYLOAD,
    );
    this.#lines = new HeaderLines(this.#maxHeaderCount, this.#maxBody);
  }

  push(chunk: Uint8Array, out: Sink<RtspFramed>): void {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      this.#push(chunk, out);
    } catch (e) {
      if (e instanceof RtspError) this.#failure = e;
      throw e;
    }
  }

  end(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#state === HEAD) {
      throw fail("truncated", "input ended inside a message head");
    }
    if (this.#state === BODY) {
      throw fail(
        "truncated",
        `input ended ${this.#need - this.#filled} bytes short of a body`,
      );
    }
    if (this.#state !== IDLE) {
      throw fail("truncated", "input ended inside an interleaved frame");
    }
  }

  #push(chunk: Uint8Array, out: Sink<RtspFramed>): void {
    const n = chunk.length;
    let pos = 0;
    if (this.#skipLf && n > 0) {
      if (chunk[0] === LF) pos = 1;
      this.#skipLf = false;
    }
    while (pos < n) {
      const state = this.#state;
      if (state === IDLE) {
        const b = chunk[pos]!;
        if (b === INTERLEAVED_MAGIC) {
          if (n - pos < 4) {
            this.#frameHeaderLength = 0;
            this.#state = FRAME_HEADER;
            continue;
          }
          const channel = chunk[pos + 1]!;
          const size = (chunk[pos + 2]! << 8) | chunk[pos + 3]!;
          if (size > this.#maxFrame) {
            throw fail(
              "limit",
              `interleaved frame of ${size} bytes exceeds ${this.#maxFrame}`,
            );
          }
          const end = pos + 4 + size;
          if (end <= n) {
            out.enqueue({
              kind: "interleaved",
              channel,
              payload: chunk.subarray(pos + 4, end),
            });
            pos = end;
          } else {
            this.#channel = channel;
            this.#expect(FRAME, size);
            pos += 4;
          }
        } else if (b === CR || b === LF) {
          pos++; // RFC 2326 §6 / RFC 7826 §8: empty lines before a message are ignored
        } else if (b === SP || b === HT) {
          throw fail("malformed", "message starts with whitespace", 400);
        } else {
          this.#startHead();
        }
      } else if (state === HEAD) {
        pos = this.#headLine(chunk, pos, out);
      } else if (state === FRAME_HEADER) {
        while (pos < n && this.#frameHeaderLength < 4) {
          this.#frameHeader[this.#frameHeaderLength++] = chunk[pos++]!;
        }
        if (this.#frameHeaderLength < 4) break;
        const size = (this.#frameHeader[2]! << 8) | this.#frameHeader[3]!;
        if (size > this.#maxFrame) {
          throw fail(
            "limit",
            `interleaved frame of ${size} bytes exceeds ${this.#maxFrame}`,
          );
        }
        this.#channel = this.#frameHeader[1]!;
        if (size === 0) {
          this.#state = IDLE;
          out.enqueue({
            kind: "interleaved",
            channel: this.#channel,
            payload: EMPTY,
          });
        } else this.#expect(FRAME, size);
      } else {
        pos = this.#collect(chunk, pos, out);
      }
    }
  }

  #startHead(): void {
    this.#state = HEAD;
    this.#lineLength = 0;
    this.#start = undefined;
    this.#methodEnded = false;
    this.#lines = new HeaderLines(this.#maxHeaderCount, this.#maxBody);
    this.#headerBytes = 0;
  }

  #expect(state: typeof BODY | typeof FRAME, size: number): void {
    this.#state = state;
    this.#need = size;
    this.#data = undefined;
    this.#filled = 0;
  }

  /** Reads up to one line of the head; returns the new position. */
  #headLine(chunk: Uint8Array, pos: number, out: Sink<RtspFramed>): number {
    const n = chunk.length;
    let i = pos;
    while (i < n) {
      const b = chunk[i]!;
      if (b === LF || b === CR) break;
      i++;
    }
    const length = this.#lineLength + (i - pos);
    if (
      this.#start === undefined && !this.#methodEnded &&
      length > this.#maxMethod
    ) {
      this.#checkMethod(chunk, pos);
    }
    if (length > this.#maxLine) {
      if (this.#start === undefined) {
        throw fail(
          "limit",
          `start line longer than ${this.#maxLine} bytes`,
          414,
        );
      }
      throw fail(
        "limit",
        `header line longer than ${this.#maxLine} bytes`,
        400,
      );
    }
    if (this.#headerBytes + length > this.#maxHeaderBytes) {
      throw fail("limit", `headers exceed ${this.#maxHeaderBytes} bytes`, 400);
    }
    if (i === n) {
      this.#keep(chunk.subarray(pos, n));
      return n;
    }
    let line: Uint8Array;
    if (this.#lineLength === 0) line = chunk.subarray(pos, i);
    else {
      this.#keep(chunk.subarray(pos, i));
      line = this.#line.subarray(0, this.#lineLength);
    }
    this.#lineLength = 0;
    let next = i + 1;
    if (chunk[i] === CR) {
      if (next < n) {
        if (chunk[next] === LF) next++;
      } else this.#skipLf = true;
    }
    this.#headerBytes += length + (next - i);
    this.#onLine(line, out);
    return next;
  }

  /**
   * RFC 2326 §6.1: Method SP Request-URI. The line so far is longer than
   * #maxMethod: a space or tab within its first #maxMethod + 1 bytes ends a
   * method short enough, else the method is too long (a 400 at once, without
   * waiting for the line to end). The line so far is the kept part, then
   * `chunk` from `pos`.
   */
  #checkMethod(chunk: Uint8Array, pos: number): void {
    const kept = this.#lineLength;
    for (let k = 0; k <= this.#maxMethod; k++) {
      const b = k < kept ? this.#line[k]! : chunk[pos + k - kept]!;
      if (b === SP || b === HT) {
        this.#methodEnded = true;
        return;
      }
    }
    throw fail(
      "limit",
      `method longer than ${this.#maxMethod} bytes`,
      400,
    );
  }

  /** Holds part of a line until its end arrives (at most maxLineLength bytes). */
  #keep(part: Uint8Array): void {
    const need = this.#lineLength + part.length;
    if (need > this.#line.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(need, this.#line.length * 2, 256), this.#maxLine),
      );
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(part, this.#lineLength);
    this.#lineLength = need;
  }

  #onLine(bytes: Uint8Array, out: Sink<RtspFramed>): void {
    checkHeadBytes(bytes);
    if (this.#start === undefined) {
      this.#start = parseStartLine(DECODER.decode(bytes));
      return;
    }
    if (bytes.length === 0) {
      this.#lines.end();
      this.#endHead(out);
      return;
    }
    this.#lines.add(
      DECODER.decode(bytes),
      bytes[0] === SP || bytes[0] === HT,
    );
  }

  #endHead(out: Sink<RtspFramed>): void {
    const length = this.#lines.contentLength ?? 0; // §12.14: no Content-Length, no body
    if (length === 0) {
      this.#state = IDLE;
      this.#emitMessage(EMPTY, out);
    } else this.#expect(BODY, length);
  }

  /** Reads body or frame payload bytes; returns the new position. */
  #collect(chunk: Uint8Array, pos: number, out: Sink<RtspFramed>): number {
    const available = chunk.length - pos;
    if (this.#data === undefined) {
      if (available >= this.#need) {
        this.#finish(chunk.subarray(pos, pos + this.#need), out);
        return pos + this.#need;
      }
      this.#data = new Uint8Array(this.#need); // at most maxBodySize or 65535 bytes, both checked
    }
    const take = Math.min(available, this.#need - this.#filled);
    this.#data.set(chunk.subarray(pos, pos + take), this.#filled);
    this.#filled += take;
    if (this.#filled === this.#need) {
      const data = this.#data;
      this.#data = undefined;
      this.#finish(data, out);
    }
    return pos + take;
  }

  #finish(data: Uint8Array, out: Sink<RtspFramed>): void {
    const state = this.#state;
    this.#state = IDLE;
    if (state === FRAME) {
      out.enqueue({
        kind: "interleaved",
        channel: this.#channel,
        payload: data,
      });
    } else this.#emitMessage(data, out);
  }

  #emitMessage(body: Uint8Array, out: Sink<RtspFramed>): void {
    const start = this.#start!;
    const headers = this.#lines.headers;
    this.#start = undefined;
    if (start.kind === "request") {
      out.enqueue({
        kind: "request",
        method: start.method,
        url: start.url,
        version: start.version,
        headers,
        body,
      });
    } else {
      out.enqueue({
        kind: "response",
        version: start.version,
        status: start.status,
        reason: start.reason,
        headers,
        body,
      });
    }
  }
}

/** {@link RtspFramer} as a `TransformStream`. */
export class RtspFramerStream extends StageStream<Uint8Array, RtspFramed> {
  constructor(options?: RtspFramerOptions) {
    super(new RtspFramer(options));
  }
}
