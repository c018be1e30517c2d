/**
 * RTSP over HTTP tunnelling, as Apple's QuickTime defined it and live555,
 * ffmpeg (`-rtsp_transport http`) and GStreamer (`rtsph://`) speak it: the
 * HTTP requests that open the two halves of a tunnel and their answers.
 *
 * ```
 * client → GET  /path HTTP/1.0            server→client half: RTSP replies and
 *          x-sessioncookie: <cookie>      `$` frames follow the 200 answer, raw,
 *          Accept: application/x-rtsp-tunnelled          until either side closes
 * server ← HTTP/1.0 200 OK
 *          Content-Type: application/x-rtsp-tunnelled
 * client → POST /path HTTP/1.0            client→server half: RTSP requests
 *          x-sessioncookie: <cookie>      (and RTCP), each base64-encoded on its
 *          Content-Type: application/x-rtsp-tunnelled     own; never answered
 *          Content-Length: 32767          (ignored: the body outlives it)
 * ```
 *
 * The cookie ties the two halves together. Bounds are checked while the head
 * comes in: live555's CVE-2018-4013 came from copying an oversized
 * `x-sessioncookie` or `Accept` value into a fixed buffer.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { quote } from "./error.ts";

/** The media type of both halves of a tunnel. */
export const TUNNEL_CONTENT_TYPE = "application/x-rtsp-tunnelled";

/** What the first bytes of a connection on an RTSP port are. */
export type TunnelSniff = "http" | "rtsp";

const GET = new TextEncoder().encode("GET ");
const POST = new TextEncoder().encode("POST ");

/**
 * Whether a connection that starts with `bytes` is an HTTP tunnel (`GET ` or
 * `POST `) or RTSP (anything else); `undefined` while `bytes` is still a
 * prefix of both answers (at most five bytes decide).
 */
export function sniffTunnel(bytes: Uint8Array): TunnelSniff | undefined {
  for (const word of [GET, POST]) {
    const n = Math.min(word.length, bytes.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = bytes[i] === word[i];
    if (!same) continue;
    return bytes.length >= word.length ? "http" : undefined;
  }
  return "rtsp";
}

/** A peer's HTTP head that Sluice refuses, with the HTTP status to answer. */
export class TunnelError extends ProtocolError {
  /** The HTTP status to answer with. */
  readonly status: number;
  constructor(message: string, code: ProtocolErrorCode, status: number) {
    super(message, { protocol: "http", code });
    this.name = "TunnelError";
    this.status = status;
  }
}

/** An HTTP message head: its start line and header fields, names as sent. */
export interface HttpHead {
  startLine: string;
  headers: [string, string][];
}

/** Options of {@link HttpHeadReader}. */
export interface HttpHeadReaderOptions {
  /** Most bytes of start line and headers; more is a 431. @default {8192} */
  maxHeadBytes?: number;
  /** Most header fields; more is a 431. @default {32} */
  maxHeaderCount?: number;
  /** Longest header value; longer is a 431 (CVE-2018-4013). @default {1024} */
  maxValueLength?: number;
}

const CRLFCRLF = [0x0d, 0x0a, 0x0d, 0x0a];

/**
 * Collects an HTTP head (RFC 9112 §2.1) from reads of any size; hands back
 * the head and the bytes after it. Never holds more than `maxHeadBytes`.
 */
export class HttpHeadReader {
  readonly #maxHead: number;
  readonly #maxCount: number;
  readonly #maxValue: number;
  #buf = new Uint8Array(0);

  constructor(options: HttpHeadReaderOptions = {}) {
    this.#maxHead = options.maxHeadBytes ?? 8192;
    this.#maxCount = options.maxHeaderCount ?? 32;
    this.#maxValue = options.maxValueLength ?? 1024;
  }

  /** The head and what followed it once the blank line came; `undefined` until then. */
  push(chunk: Uint8Array): { head: HttpHead; rest: Uint8Array } | undefined {
    const start = Math.max(0, this.#buf.length - 3);
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    const end = indexOfBlankLine(joined, start);
    if (end < 0) {
      if (joined.length > this.#maxHead) {
        throw new TunnelError(
          `Cannot read HTTP head: more than ${this.#maxHead} bytes`,
          "limit",
          431,
        );
      }
      this.#buf = joined;
      return undefined;
    }
    if (end > this.#maxHead) {
      throw new TunnelError(
        `Cannot read HTTP head: ${end} bytes exceeds ${this.#maxHead}`,
        "limit",
        431,
      );
    }
    this.#buf = new Uint8Array(0);
    const head = this.#parse(joined.subarray(0, end));
    return { head, rest: joined.slice(end + 4) };
  }

  #parse(bytes: Uint8Array): HttpHead {
    for (const b of bytes) {
      // Control bytes other than CR, LF and HT have no place in a head.
      if ((b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09) || b === 0x7f) {
        throw new TunnelError(
          `Cannot read HTTP head: control byte 0x${b.toString(16)}`,
          "malformed",
          400,
        );
      }
    }
    const lines = new TextDecoder("latin1").decode(bytes).split(/\r?\n/);
    const startLine = lines.shift()!;
    if (lines.length > this.#maxCount) {
      throw new TunnelError(
        `Cannot read HTTP head: more than ${this.#maxCount} header fields`,
        "limit",
        431,
      );
    }
    const headers: [string, string][] = [];
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) {
        throw new TunnelError(
          `Cannot read HTTP header ${quote(line)}: no field name`,
          "malformed",
          400,
        );
      }
      const value = line.slice(colon + 1).trim();
      if (value.length > this.#maxValue) {
        throw new TunnelError(
          `Cannot read HTTP header ${
            quote(line.slice(0, colon))
          }: ${value.length} bytes exceeds ${this.#maxValue}`,
          "limit",
          431,
        );
      }
      headers.push([line.slice(0, colon), value]);
    }
    return { startLine, headers };
  }
}

function indexOfBlankLine(buf: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= buf.length; i++) {
    if (
      buf[i] === CRLFCRLF[0] && buf[i + 1] === CRLFCRLF[1] &&
      buf[i + 2] === CRLFCRLF[2] && buf[i + 3] === CRLFCRLF[3]
    ) return i;
  }
  return -1;
}

/** The value of header `name` (any case); a 400 when it repeats with another value. */
export function headerValue(head: HttpHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const [k, v] of head.headers) {
    if (k.toLowerCase() !== lower) continue;
    if (found !== undefined && found !== v) {
      throw new TunnelError(
        `Cannot read HTTP header ${quote(name)}: repeated with another value`,
        "malformed",
        400,
      );
    }
    found = v;
  }
  return found;
}

/** A tunnel's GET or POST, checked. */
export interface TunnelRequest {
  method: "GET" | "POST";
  /** The request target as sent (the RTSP URL's path; requests inside name their own URLs). */
  target: string;
  /** The `x-sessioncookie` that pairs the GET with its POSTs. */
  cookie: string;
}

/** Options of {@link parseTunnelRequest}. */
export interface TunnelRequestOptions {
  /** Longest `x-sessioncookie`: clients send 16 to 24 characters. @default {128} */
  maxCookieLength?: number;
}

const REQUEST_LINE = /^(GET|POST) (\S{1,2048}) HTTP\/1\.[01]$/;
const COOKIE = /^[\x21-\x7e]+$/;

/**
 * The tunnel request `head` is: a GET must accept
 * `application/x-rtsp-tunnelled`; both need a cookie of printable
 * characters, at most `maxCookieLength` of them. Anything else is a
 * {@link TunnelError} with its HTTP status.
 */
export function parseTunnelRequest(
  head: HttpHead,
  options: TunnelRequestOptions = {},
): TunnelRequest {
  const maxCookie = options.maxCookieLength ?? 128;
  const m = REQUEST_LINE.exec(head.startLine);
  if (m === null) {
    throw new TunnelError(
      `Cannot read HTTP request line ${quote(head.startLine)}`,
      "malformed",
      400,
    );
  }
  const method = m[1] as "GET" | "POST";
  const cookie = headerValue(head, "x-sessioncookie");
  if (cookie === undefined || cookie === "") {
    throw new TunnelError(
      `Cannot open RTSP tunnel: ${method} without x-sessioncookie`,
      "malformed",
      400,
    );
  }
  if (cookie.length > maxCookie || !COOKIE.test(cookie)) {
    throw new TunnelError(
      `Cannot open RTSP tunnel: x-sessioncookie of ${cookie.length} bytes is not a short token`,
      cookie.length > maxCookie ? "limit" : "malformed",
      400,
    );
  }
  if (method === "GET") {
    const accept = headerValue(head, "accept") ?? "";
    if (!accept.toLowerCase().includes(TUNNEL_CONTENT_TYPE)) {
      throw new TunnelError(
        `Cannot open RTSP tunnel: GET accepts ${
          quote(accept)
        }, not ${TUNNEL_CONTENT_TYPE}`,
        "unsupported",
        400,
      );
    }
  }
  return { method, target: m[2]!, cookie };
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/** The answer to a tunnel's GET: RTSP follows it on the same connection. */
export function encodeTunnelAnswer(): Uint8Array {
  return encodeHttp(200, [
    ["Server", "Sluice"],
    ["Connection", "close"],
    ["Cache-Control", "no-cache"],
    ["Pragma", "no-cache"],
    ["Content-Type", TUNNEL_CONTENT_TYPE],
  ]);
}

/** A refusal of a tunnel request; the connection closes after it. */
export function encodeTunnelRefusal(status: number): Uint8Array {
  return encodeHttp(status, [
    ["Server", "Sluice"],
    ["Connection", "close"],
    ["Content-Length", "0"],
  ]);
}

function encodeHttp(status: number, headers: [string, string][]): Uint8Array {
  const lines = [`HTTP/1.0 ${status} ${STATUS_TEXT[status] ?? "Error"}`];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** The client's GET (`post` false) or POST that opens one half of a tunnel. */
export function encodeTunnelRequest(
  method: "GET" | "POST",
  options: { target: string; host: string; cookie: string },
): Uint8Array {
  const lines = [
    `${method} ${options.target} HTTP/1.0`,
    `Host: ${options.host}`,
    "User-Agent: Sluice",
    `x-sessioncookie: ${options.cookie}`,
  ];
  if (method === "GET") lines.push(`Accept: ${TUNNEL_CONTENT_TYPE}`);
  else {
    lines.push(
      `Content-Type: ${TUNNEL_CONTENT_TYPE}`,
      // As QuickTime, ffmpeg and GStreamer send: a length no body keeps to.
      "Content-Length: 32767",
      "Expires: Sun, 9 Jan 1972 00:00:00 GMT",
    );
  }
  lines.push("Pragma: no-cache", "Cache-Control: no-cache");
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** The status of an HTTP answer's start line, or `undefined` when it is none. */
export function httpStatusOf(head: HttpHead): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(head.startLine);
  return m === null ? undefined : Number(m[1]);
}
