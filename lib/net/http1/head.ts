/**
 * The head of an HTTP/1.1 request (RFC 9112 §2–§7): the request line and
 * the header fields, read strictly and within bounds. Whatever could let
 * two parties frame the same bytes differently (request smuggling) is
 * refused: bare LF line ends, obsolete line folding, whitespace before a
 * colon, both `Content-Length` and `Transfer-Encoding`, a `Content-Length`
 * that is not one decimal number, a transfer coding other than `chunked`.
 *
 * @module
 */

/** Bounds of a request head. */
export interface HeadLimits {
  /** Longest request line in bytes (414 past it). @default {8192} */
  maxRequestLine: number;
  /** Longest head in bytes, request line included (431 past it). @default {16384} */
  maxHead: number;
  /** Most header fields (431 past it). @default {100} */
  maxFields: number;
}

/** The bounds used when none are given. */
export const DEFAULT_HEAD_LIMITS: HeadLimits = {
  maxRequestLine: 8192,
  maxHead: 16384,
  maxFields: 100,
};

/** A request head that parsed. */
export interface RequestHead {
  method: string;
  /** The request target as sent (origin form, or `*`, or absolute form). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Field names in lower case with their values, in order. */
  fields: [string, string][];
  /** The `Host` value, if there was one. */
  host: string | undefined;
  /** Body length when framed by `Content-Length` (0 without a body). */
  contentLength: number;
  /** True when the body is `Transfer-Encoding: chunked`. */
  chunked: boolean;
  /** True when the connection ends after this exchange. */
  close: boolean;
  /** True with `Expect: 100-continue`. */
  expectContinue: boolean;
  /** Bytes of the head, the final empty line included. */
  size: number;
}

/** A head that must be refused: the status to answer and why. */
export interface HeadError {
  status: 400 | 414 | 431 | 501 | 505;
  reason: string;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;

/** RFC 9110 §5.6.2 tchar, indexed by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/**
 * One character per byte (TextDecoder's `latin1` is windows-1252), from
 * `buf[start]` up to `end`. `apply` takes the bytes as they are, where a
 * spread would walk them through an iterator. `apply` with a typed array
 * is a call into V8's C++, so a head is decoded twice (its request line,
 * then all its fields), not once per name and value.
 */
function text(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return s;
}

/**
 * Parses the head at the start of `buf`: the head, an error to answer, or
 * `undefined` while the head is incomplete and within bounds. Empty lines
 * before the request line are skipped (RFC 9112 §2.2) and counted in
 * `size`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequestHead } from "./head.ts";
 *
 * const head = parseRequestHead(
 *   new TextEncoder().encode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
 * );
 * assert.ok(head !== undefined && !("status" in head));
 * assert.equal(head.target, "/a");
 * ```
 */
export function parseRequestHead(
  buf: Uint8Array,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): RequestHead | HeadError | undefined {
  let start = 0;
  while (start + 1 < buf.length && buf[start] === CR && buf[start + 1] === LF) {
    start += 2;
  }
  if (start > 8) return fail(400, "too many empty lines before the request");
  const lineEnd = indexOfLf(buf, start, start + limits.maxRequestLine + 2);
  if (lineEnd < 0) {
    if (buf.length - start > limits.maxRequestLine + 1) {
      return fail(414, "request line too long");
    }
    return undefined;
  }
  const line = requestLine(buf, start, lineEnd);
  if ("status" in line) return line;
  // Where each field's name and value lie: their strings are cut from one
  // decoding of all the fields once the head is whole.
  const spans: number[] = [];
  const fieldsAt = lineEnd + 1;
  let pos = fieldsAt;
  for (;;) {
    const end = indexOfLf(buf, pos, start + limits.maxHead);
    if (end < 0) {
      if (buf.length - start >= limits.maxHead) {
        return fail(431, "request head too large");
      }
      return undefined;
    }
    if (end === pos || buf[end - 1] !== CR) {
      return fail(400, "line not ended by CRLF");
    }
    if (end === pos + 1) {
      pos = end + 1;
      break;
    }
    if (spans.length >= 4 * limits.maxFields) {
      return fail(431, "too many header fields");
    }
    const error = headerField(buf, pos, end - 1, spans);
    if (error !== undefined) return error;
    pos = end + 1;
  }
  const all = text(buf, fieldsAt, pos);
  const fields: [string, string][] = [];
  for (let i = 0; i < spans.length; i += 4) {
    fields.push([
      all.slice(spans[i]! - fieldsAt, spans[i + 1]! - fieldsAt).toLowerCase(),
      all.slice(spans[i + 2]! - fieldsAt, spans[i + 3]! - fieldsAt),
    ]);
  }
  return framing(line, fields, pos);
}

function fail(status: HeadError["status"], reason: string): HeadError {
  return { status, reason };
}

/**
 * The first LF from `from` before `limit`, or -1. A loop, not
 * `Uint8Array.prototype.indexOf`, which V8 runs in C++: a call per line of
 * every request, for lines of a few dozen bytes.
 */
function indexOfLf(buf: Uint8Array, from: number, limit: number): number {
  const end = Math.min(limit, buf.length);
  for (let i = from; i < end; i++) {
    if (buf[i] === LF) return i;
  }
  return -1;
}

interface Line {
  method: string;
  target: string;
  minor: 0 | 1;
}

/** `method SP request-target SP HTTP/1.x CRLF`, `end` at the LF. */
function requestLine(
  buf: Uint8Array,
  start: number,
  end: number,
): Line | HeadError {
  if (end === start || buf[end - 1] !== CR) {
    return fail(400, "request line not ended by CRLF");
  }
  let i = start;
  while (i < end - 1 && TCHAR[buf[i]!] === 1) i++;
  if (i === start || buf[i] !== SP) return fail(400, "invalid method");
  const m = i;
  const t = ++i;
  while (i < end - 1 && buf[i]! > SP && buf[i]! < 127) i++;
  if (i === t || buf[i] !== SP) return fail(400, "invalid request target");
  // One decoding of the line, cut in three.
  const all = text(buf, start, end - 1);
  const method = all.slice(0, m - start);
  const target = all.slice(t - start, i - start);
  const version = all.slice(i + 1 - start);
  if (version === "HTTP/1.1") return { method, target, minor: 1 };
  if (version === "HTTP/1.0") return { method, target, minor: 0 };
  if (/^HTTP\/\d\.\d$/.test(version)) {
    return fail(505, "HTTP version not supported");
  }
  return fail(400, "invalid HTTP version");
}

/**
 * `field-name ":" OWS field-value OWS`, between `start` and the CR at `end`:
 * its name's and value's bounds go on `spans`, or an error comes back.
 */
function headerField(
  buf: Uint8Array,
  start: number,
  end: number,
  spans: number[],
): HeadError | undefined {
  let i = start;
  while (i < end && TCHAR[buf[i]!] === 1) i++;
  if (i === start) {
    return fail(
      400,
      buf[start] === SP || buf[start] === HTAB
        ? "obsolete line folding"
        : "invalid header field name",
    );
  }
  if (buf[i] !== 58) return fail(400, "invalid header field name");
  let v = i + 1;
  let e = end;
  while (v < e && (buf[v] === SP || buf[v] === HTAB)) v++;
  while (e > v && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  for (let k = v; k < e; k++) {
    const b = buf[k]!;
    if ((b < SP && b !== HTAB) || b === 127) {
      return fail(400, "control character in a header field");
    }
  }
  spans.push(start, i, v, e);
  return undefined;
}

/** The message framing and connection handling the fields ask for. */
function framing(
  line: Line,
  fields: [string, string][],
  size: number,
): RequestHead | HeadError {
  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  const codings: string[] = [];
  const connection: string[] = [];
  let expectContinue = false;
  for (const [name, value] of fields) {
    switch (name) {
      case "host":
        host = value;
        hosts++;
        break;
      case "content-length":
        if (contentLength !== undefined && contentLength !== value) {
          return fail(400, "conflicting Content-Length");
        }
        contentLength = value;
        break;
      case "transfer-encoding":
        codings.push(...tokens(value));
        break;
      case "connection":
        connection.push(...tokens(value));
        break;
      case "expect":
        if (value.toLowerCase() !== "100-continue") {
          return fail(400, "unsupported expectation");
        }
        expectContinue = true;
        break;
    }
  }
  if (hosts > 1) return fail(400, "more than one Host");
  if (line.minor === 1 && hosts === 0) return fail(400, "missing Host");
  let length = 0;
  let chunked = false;
  if (codings.length > 0) {
    if (contentLength !== undefined) {
      return fail(400, "both Content-Length and Transfer-Encoding");
    }
    if (line.minor === 0) return fail(400, "Transfer-Encoding in HTTP/1.0");
    if (codings.length !== 1 || codings[0] !== "chunked") {
      return fail(501, "transfer coding not implemented");
    }
    chunked = true;
  } else if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) {
      return fail(400, "invalid Content-Length");
    }
    length = Number(contentLength);
  }
  const close = connection.includes("close") ||
    (line.minor === 0 && !connection.includes("keep-alive"));
  return {
    ...line,
    fields,
    host,
    contentLength: length,
    chunked,
    close,
    expectContinue,
    size,
  };
}

function tokens(value: string): string[] {
  return value.split(",").map((t) => t.trim().toLowerCase()).filter((t) =>
    t !== ""
  );
}
