/**
 * RTSP messages (RFC 2326 §4, §6, §7; RFC 7826 §8): what the framer produces
 * and what the encoders write. Requests and responses share the header block
 * and a body sized by Content-Length; `$` frames (§10.12) share the TCP
 * connection with them. Methods and status codes are `status.ts`.
 *
 * @module
 */
import { rtspError } from "./error.ts";
import { RTSP_STATUS_TEXT, RTSP_VERSION } from "./status.ts";

export {
  RTSP_METHOD,
  RTSP_STATUS,
  RTSP_STATUS_TEXT,
  RTSP_VERSION,
  type RtspMethod,
} from "./status.ts";

/** RFC 2326 §15.1 `token`: what a method or header name may hold. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header values as a constructor of {@link RtspHeaders} takes them. */
export type RtspHeadersInit =
  | RtspHeaders
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number>>;

/**
 * Header fields of one message (RFC 2326 §4.2): looked up without regard to
 * case, kept in order with the case they were written in, repeats included.
 */
export class RtspHeaders implements Iterable<[string, string]> {
  readonly #names: string[] = [];
  readonly #keys: string[] = [];
  readonly #values: string[] = [];

  constructor(init?: RtspHeadersInit) {
    if (init === undefined) return;
    if (init instanceof RtspHeaders || Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) {
        this.append(name, value);
      }
    } else {
      for (const [name, value] of Object.entries(init)) {
        this.append(name, String(value));
      }
    }
  }

  /** How many fields, repeats counted. */
  get size(): number {
    return this.#names.length;
  }

  /** The first value of `name`, or `undefined`. */
  get(name: string): string | undefined {
    const i = this.#keys.indexOf(name.toLowerCase());
    return i < 0 ? undefined : this.#values[i];
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.#keys.length; i++) {
      if (this.#keys[i] === key) out.push(this.#values[i]!);
    }
    return out;
  }

  /**
   * The value of a field that must appear once (CSeq, Session, Authorization):
   * repeats with different values are a 400 (live555 CVE-2019-7732 came from
   * reading a repeated Authorization field one way and checking it another).
   */
  getOne(name: string): string | undefined {
    const all = this.getAll(name);
    if (all.some((v) => v !== all[0])) {
      throw rtspError(
        "read header",
        "malformed",
        `${name} appears ${all.length} times with different values`,
        400,
      );
    }
    return all[0];
  }

  /** Whether `name` is present. */
  has(name: string): boolean {
    return this.#keys.includes(name.toLowerCase());
  }

  /** Replaces every `name` field by one with `value`, where the first one was (or at the end). */
  set(name: string, value: string): this {
    const key = name.toLowerCase();
    const i = this.#keys.indexOf(key);
    if (i < 0) return this.append(name, value);
    this.#names[i] = name;
    this.#values[i] = value;
    for (let j = this.#keys.length - 1; j > i; j--) {
      if (this.#keys[j] === key) this.#remove(j);
    }
    return this;
  }

  /** Adds a field at the end, keeping any others of that name. */
  append(name: string, value: string): this {
    this.#names.push(name);
    this.#keys.push(name.toLowerCase());
    this.#values.push(value);
    return this;
  }

  /** Removes every `name` field; whether there was one. */
  delete(name: string): boolean {
    const key = name.toLowerCase();
    let found = false;
    for (let j = this.#keys.length - 1; j >= 0; j--) {
      if (this.#keys[j] === key) {
        this.#remove(j);
        found = true;
      }
    }
    return found;
  }

  /** `[name, value]` pairs in order, names as written. */
  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#names.length; i++) {
      yield [this.#names[i]!, this.#values[i]!];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  #remove(i: number): void {
    this.#names.splice(i, 1);
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
  }
}

/** A request (RFC 2326 §6): `METHOD url RTSP/1.0`, headers, body. */
export interface RtspRequest {
  /** Tells a request from the other {@link RtspFramed} kinds. */
  kind: "request";
  /** As sent (methods are case-sensitive, §10). */
  method: string;
  /** The Request-URI as sent: absolute, `*`, or (Bosch BVMS) a path. */
  url: string;
  /** `RTSP/1.0` or `RTSP/2.0`. */
  version: string;
  /** The header fields, repeats included. */
  headers: RtspHeaders;
  /** Content-Length bytes; empty without one (§12.14). */
  body: Uint8Array;
}

/** A response (RFC 2326 §7): `RTSP/1.0 status reason`, headers, body. */
export interface RtspResponse {
  /** Tells a response from the other {@link RtspFramed} kinds. */
  kind: "response";
  /** `RTSP/1.0` or `RTSP/2.0`. */
  version: string;
  /** Three digits (§7.1.1). */
  status: number;
  /** May be empty: some cameras send `RTSP/1.0 200` alone. */
  reason: string;
  /** The header fields, repeats included. */
  headers: RtspHeaders;
  /** Content-Length bytes; empty without one (§12.14). */
  body: Uint8Array;
}

/** A `$` frame (RFC 2326 §10.12): RTP or RTCP on an interleaved channel. */
export interface RtspInterleaved {
  /** Tells a `$` frame from the other {@link RtspFramed} kinds. */
  kind: "interleaved";
  /** 0–255; the Transport `interleaved=` pair says which track and whether RTP or RTCP. */
  channel: number;
  /** The RTP or RTCP packet. */
  payload: Uint8Array;
}

/** What one RTSP connection carries, in order. */
export type RtspFramed = RtspRequest | RtspResponse | RtspInterleaved;

/** A request to encode; a decoded {@link RtspRequest} fits. */
export interface RtspRequestInit {
  /** A token: `OPTIONS`, `SETUP` … */
  method: string;
  /** The Request-URI, without spaces. */
  url: string;
  /** @default {"RTSP/1.0"} */
  version?: string;
  /** In order; any Content-Length is replaced by the body's. CSeq is the caller's. */
  headers?: RtspHeadersInit;
  /** Written after the headers; strings as UTF-8. */
  body?: Uint8Array | string;
}

/** A response to encode; a decoded {@link RtspResponse} fits. */
export interface RtspResponseInit {
  /** 100–999. */
  status: number;
  /** @default {RTSP_STATUS_TEXT[status]} */
  reason?: string;
  /** @default {"RTSP/1.0"} */
  version?: string;
  /** In order; any Content-Length is replaced by the body's. Echo the request's CSeq here. */
  headers?: RtspHeadersInit;
  /** Written after the headers; strings as UTF-8. */
  body?: Uint8Array | string;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** CR, LF and NUL would let a value inject header lines. */
const UNSAFE_VALUE = /[\r\n\0]/;
/** Printable ASCII but space, and anything beyond ASCII: no spaces or controls. */
const URL_CHARS = /^[!-~\u0080-\uffff]+$/;
const VERSION = /^RTSP\/\d\.\d$/;

/** The bytes of a request; Content-Length is computed from the body. */
export function encodeRequest(
  request: RtspRequestInit,
): Uint8Array<ArrayBuffer> {
  const { method, url } = request;
  const version = request.version ?? RTSP_VERSION;
  if (!TOKEN.test(method)) {
    throw new TypeError(
      `Cannot encode request: method ${JSON.stringify(method)} is not a token`,
    );
  }
  if (!URL_CHARS.test(url)) {
    throw new TypeError(
      `Cannot encode request: URL ${
        JSON.stringify(url)
      } holds spaces or controls`,
    );
  }
  if (!VERSION.test(version)) {
    throw new TypeError(
      `Cannot encode request: version ${JSON.stringify(version)}`,
    );
  }
  return encodeMessage(
    `${method} ${url} ${version}\r\n`,
    request.headers,
    request.body,
  );
}

/** The bytes of a response; Content-Length is computed from the body. */
export function encodeResponse(
  response: RtspResponseInit,
): Uint8Array<ArrayBuffer> {
  const { status } = response;
  const version = response.version ?? RTSP_VERSION;
  const reason = response.reason ?? RTSP_STATUS_TEXT[status] ?? "";
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(
      `Cannot encode response: status ${status} is not 3 digits`,
    );
  }
  if (UNSAFE_VALUE.test(reason)) {
    throw new TypeError(
      `Cannot encode response: reason ${JSON.stringify(reason)}`,
    );
  }
  if (!VERSION.test(version)) {
    throw new TypeError(
      `Cannot encode response: version ${JSON.stringify(version)}`,
    );
  }
  return encodeMessage(
    `${version} ${status}${reason === "" ? "" : ` ${reason}`}\r\n`,
    response.headers,
    response.body,
  );
}

function encodeMessage(
  startLine: string,
  init: RtspHeadersInit | undefined,
  bodyInit: Uint8Array | string | undefined,
): Uint8Array<ArrayBuffer> {
  const body = bodyInit === undefined
    ? EMPTY
    : typeof bodyInit === "string"
    ? encoder.encode(bodyInit)
    : bodyInit;
  let head = startLine;
  const headers = init === undefined
    ? []
    : init instanceof RtspHeaders
    ? init
    : new RtspHeaders(init);
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) {
      throw new TypeError(
        `Cannot encode header: name ${JSON.stringify(name)} is not a token`,
      );
    }
    if (UNSAFE_VALUE.test(value)) {
      throw new TypeError(
        `Cannot encode header ${name}: value holds CR, LF or NUL`,
      );
    }
    if (name.toLowerCase() === "content-length") continue;
    head += `${name}: ${value}\r\n`;
  }
  if (body.length > 0) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  const headBytes = encoder.encode(head);
  if (body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}
