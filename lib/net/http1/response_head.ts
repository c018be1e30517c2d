/**
 * The head of an HTTP/1.1 response, with header names in their canonical
 * case (`Content-Length`, not `content-length`): field names are
 * case-insensitive (RFC 9110 §5.1), but some clients (librtmp's RTMPT)
 * look for `Content-Length` spelled exactly so.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Reason phrases of the statuses Sluice answers with. */
const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

const canonical = new Map<string, string>();

/**
 * `content-length` → `Content-Length`: every dash-separated word starts
 * with a capital (`www-authenticate` → `WWW-Authenticate`, `etag` →
 * `ETag`, as they are usually written).
 */
export function canonicalName(name: string): string {
  let c = canonical.get(name);
  if (c !== undefined) return c;
  c = SPECIAL[name] ??
    name.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join("-");
  if (canonical.size < 1000) canonical.set(name, c);
  return c;
}

const SPECIAL: Record<string, string> = {
  "www-authenticate": "WWW-Authenticate",
  "etag": "ETag",
  "te": "TE",
};

let dateSecond = 0;
let dateValue = "";

/** The `Date` value (RFC 9110 §6.6.1), rebuilt at most once a second. */
function httpDate(now: number): string {
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(s * 1000).toUTCString();
  }
  return dateValue;
}

/** How the body of a response is framed on the wire. */
export type BodyFraming =
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/**
 * The response head of `status` with `headers`, `Date`, and the framing
 * fields: `Content-Length`, `Transfer-Encoding: chunked`, or neither when
 * the body ends with the connection; `Connection: close` when `close`.
 * Framing fields the handler set are replaced. Names in `headers` are in
 * lower case, as `Headers` gives them.
 */
export function responseHead(
  status: number,
  headers: Iterable<[string, string]>,
  framing: BodyFraming,
  close: boolean,
): string {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of headers) {
    if (
      name === "content-length" || name === "transfer-encoding" ||
      name === "connection" || name === "date" || name === "keep-alive"
    ) continue;
    head += `${canonicalName(name)}: ${value}\r\n`;
  }
  head += `Date: ${httpDate(Date.now())}\r\n`;
  if (framing.kind === "length") {
    head += `Content-Length: ${framing.length}\r\n`;
  } else if (framing.kind === "chunked") {
    head += "Transfer-Encoding: chunked\r\n";
  }
  if (close) head += "Connection: close\r\n";
  return head + "\r\n";
}

/** {@link responseHead} as bytes. */
export function encodeHead(head: string): Uint8Array {
  return encoder.encode(head);
}
