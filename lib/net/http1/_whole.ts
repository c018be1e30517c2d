/**
 * A body held in memory and its head on the wire: what `Response`s and
 * `Answer`s alike come to (private to `http1/`).
 *
 * @module
 */

import { concat } from "@std/bytes";
import { writeAll } from "../tcp.ts";
import { type FileSender, memoryFiles } from "../memory_files.ts";
import { encodeHead, responseHead } from "./response_head.ts";

/** Where a response goes. */
export interface ResponseTarget {
  write(p: Uint8Array): Promise<number>;
  /** Sluice's own sockets: shared bytes asked for again go out from a file. */
  sendFile?(fd: number, offset: number, length: number): Promise<number>;
  /** Ends the connection, failing a write in progress (a streamed body that failed). */
  close?(): void;
}

/** Bodies up to this size go out in one buffer with their head. */
const JOIN_LIMIT = 16 * 1024;

/** Whether a response to `head` (a `HEAD` request) with `status` has no body on the wire. */
export function withoutBody(status: number, head: boolean): boolean {
  return head || status === 204 || status === 304;
}

/** A response whose body is held in memory. */
export interface WholeResponse {
  status: number;
  headers: Iterable<[string, string]>;
  body: Uint8Array;
  /** Its head only: a `HEAD` request, or a 204 or 304 ({@link withoutBody}). */
  noBody: boolean;
  /** `Connection: close`. */
  close: boolean;
  /** `body` is shared and never modified: it may go out from a file. */
  shared: boolean;
  /** The Content-Length, where it is not the body's (a `HEAD` answer's). @default {body.length} */
  length?: number;
}

/** A body held in memory after its head, in one write where it is small. */
export async function writeWhole(
  conn: ResponseTarget,
  res: WholeResponse,
): Promise<void> {
  const { body } = res;
  const head = lengthHead(
    res.status,
    res.headers,
    res.length ?? body.length,
    res.close,
  );
  if (res.noBody || body.length === 0) {
    await writeAll(conn, head);
  } else if (body.length > JOIN_LIMIT) {
    // A segment: copying it next to its head would cost more than the
    // one more write.
    await writeAll(conn, head);
    const files = res.shared && conn.sendFile !== undefined
      ? memoryFiles()
      : null;
    if (!await files?.send(conn as FileSender, body)) {
      await writeAll(conn, body);
    }
  } else {
    await writeAll(conn, concat([head, body]));
  }
}

/** The encoded head of a response whose body is `length` bytes. */
function lengthHead(
  status: number,
  headers: Iterable<[string, string]>,
  length: number,
  close: boolean,
): Uint8Array {
  return encodeHead(
    responseHead(status, headers, { kind: "length", length }, close),
  );
}

/** A small shared body's response as written last, by body. */
interface Written {
  second: number;
  status: number;
  headers: object;
  close: boolean;
  noBody: boolean;
  bytes: Uint8Array;
}

const written = new WeakMap<Uint8Array, Written>();

/**
 * The whole response of a small `body` that is shared and never modified
 * (a playlist every viewer asks for) with `headers`, a record that is
 * itself shared: within the same second (the `Date` field's) the same
 * response is the same bytes, so the head is made and joined to the body
 * once for all the viewers asking, not once each. `undefined` where the
 * body is too large to join (see {@link writeWhole}).
 */
export function sharedWhole(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  noBody: boolean,
  close: boolean,
): Uint8Array | undefined {
  if (body.length > JOIN_LIMIT) return undefined;
  const second = Math.floor(Date.now() / 1000);
  const last = written.get(body);
  if (
    last !== undefined && last.second === second && last.status === status &&
    last.headers === headers && last.close === close && last.noBody === noBody
  ) return last.bytes;
  const head = lengthHead(status, Object.entries(headers), body.length, close);
  const bytes = noBody || body.length === 0 ? head : concat([head, body]);
  written.set(body, { second, status, headers, close, noBody, bytes });
  return bytes;
}
