/**
 * The head of an RTSP message line by line, for the framer (`framer.ts`):
 * the start line, a header line, the header lines of one head with their
 * folding, count and Content-Length, and the bytes a head may not hold.
 * Private to `lib/rtsp/`.
 *
 * @module
 */

import type { ProtocolErrorCode } from "../errors.ts";
import { quote, type RtspError, rtspError } from "./error.ts";
import { RtspHeaders, TOKEN } from "./message.ts";

const SP = 0x20;
const HT = 0x09;

// RFC 2326 §7.1.1 (RFC 7826 §8.1.1): the first digit is the class, 1 to 5
// (a 6xx to 9xx extension code is let through, as encodeResponse writes one).
const RESPONSE_LINE = /^(RTSP\/\d\.\d)[ \t]+([1-9]\d{2})(?:[ \t]+(.*))?$/;
const REQUEST_LINE = /^(\S+)[ \t]+(\S+)[ \t]+(\S+)$/;
const SUPPORTED_VERSION = /^RTSP\/[12]\.0$/;
const ANY_VERSION = /^[A-Za-z]+\/\d+\.\d+$/;
const DIGITS = /^\d+$/;

/** A parsed request or status line. */
export type StartLine =
  | { kind: "request"; method: string; url: string; version: string }
  | { kind: "response"; version: string; status: number; reason: string };

/** Refuses control bytes (all but HT, and DEL) in a head line. */
export function checkHeadBytes(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < SP && b !== HT) || b === 0x7f) {
      throw fail(
        "malformed",
        `control byte 0x${b.toString(16).padStart(2, "0")} in a message head`,
        400,
      );
    }
  }
}

/** `name: value` of one header line, the name a token, both trimmed. */
export function parseHeaderLine(text: string): { name: string; value: string } {
  const colon = text.indexOf(":");
  if (colon < 0) {
    throw fail("malformed", `header line ${quote(text)} has no colon`, 400);
  }
  const name = text.slice(0, colon).trimEnd();
  if (!TOKEN.test(name)) {
    throw fail("malformed", `header name ${quote(name)}`, 400);
  }
  return { name, value: text.slice(colon + 1).trim() };
}

/** RFC 2326 §12.14: digits; a repeat must agree with `previous`; more than `maxBody` is a 413. */
export function parseContentLength(
  value: string,
  previous: number | undefined,
  maxBody: number,
): number {
  if (!DIGITS.test(value)) {
    throw fail("malformed", `Content-Length ${quote(value)}`, 400);
  }
  const length = value.length > 15 ? Infinity : Number(value);
  if (previous !== undefined && previous !== length) {
    throw fail(
      "malformed",
      `Content-Length repeated with ${previous} and ${quote(value)}`,
      400,
    );
  }
  if (length > maxBody) {
    throw fail(
      "limit",
      `Content-Length ${quote(value)} exceeds ${maxBody}`,
      413,
    );
  }
  return length;
}

/**
 * The header lines of one message head as they arrive: a folded line joins
 * the header before it, and the header count and Content-Length are checked
 * at once, before anything more is awaited.
 */
export class HeaderLines {
  /** The headers so far; complete after {@link end}. */
  readonly headers = new RtspHeaders();
  readonly #maxCount: number;
  readonly #maxBody: number;
  #count = 0;
  #contentLength: number | undefined;
  /** The latest header, held back while a folded line may continue it. */
  #name: string | undefined;
  #value = "";

  constructor(maxCount: number, maxBody: number) {
    this.#maxCount = maxCount;
    this.#maxBody = maxBody;
  }

  /** The Content-Length the head gave, if any. */
  get contentLength(): number | undefined {
    return this.#contentLength;
  }

  /** Takes one non-empty header line; `folded` when it starts with SP or HT. */
  add(text: string, folded: boolean): void {
    if (folded) {
      // Obsolete line folding (RFC 2616 §2.2, which RFC 2326 §4.2 builds on).
      if (this.#name === undefined) {
        throw fail(
          "malformed",
          "continuation line before any header or after Content-Length",
          400,
        );
      }
      const more = text.trim();
      this.#value = this.#value === ""
        ? more
        : more === ""
        ? this.#value
        : `${this.#value} ${more}`;
      return;
    }
    this.#commit();
    const { name, value } = parseHeaderLine(text);
    if (++this.#count > this.#maxCount) {
      throw fail("limit", `more than ${this.#maxCount} headers`, 400);
    }
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      // Checked now, not when the next line shows no continuation: the limit
      // must hold before anything more is awaited.
      this.#contentLength = parseContentLength(
        value,
        this.#contentLength,
        this.#maxBody,
      );
      this.headers.append(name, value);
      return;
    }
    this.#name = name;
    this.#value = value;
  }

  /** The empty line ended the head: adds the held-back header. */
  end(): void {
    this.#commit();
  }

  #commit(): void {
    if (this.#name === undefined) return;
    this.headers.append(this.#name, this.#value);
    this.#name = undefined;
  }
}

/** Parses a request or status line. */
export function parseStartLine(text: string): StartLine {
  const line = text.trimEnd();
  if (line.startsWith("RTSP/")) {
    const m = RESPONSE_LINE.exec(line);
    if (m === null) throw fail("malformed", `status line ${quote(line)}`);
    const version = m[1]!;
    if (!SUPPORTED_VERSION.test(version)) {
      throw fail("unsupported", `version ${quote(version)}`);
    }
    return {
      kind: "response",
      version,
      status: Number(m[2]),
      reason: m[3] ?? "",
    };
  }
  const m = REQUEST_LINE.exec(line);
  if (m === null) throw fail("malformed", `request line ${quote(line)}`, 400);
  const [, method, url, version] = m as unknown as [
    string,
    string,
    string,
    string,
  ];
  if (!TOKEN.test(method)) {
    throw fail("malformed", `method ${quote(method)}`, 400);
  }
  if (!SUPPORTED_VERSION.test(version)) {
    if (ANY_VERSION.test(version)) {
      throw fail("unsupported", `version ${quote(version)}`, 505);
    }
    throw fail("malformed", `request line ${quote(line)}`, 400);
  }
  return { kind: "request", method, url, version };
}

/** An RTSP read error, with the status a server answers. */
export function fail(
  code: ProtocolErrorCode,
  detail: string,
  status?: number,
): RtspError {
  return rtspError("read RTSP message", code, detail, status);
}
