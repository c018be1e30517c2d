/**
 * A body held in memory and its head on the wire: what `Response`s and
 * `Answer`s alike come to (private to `http1/`).
 *
 * @module
 */

import { writeAll } from "../tcp.ts";
import { type FileSender, memoryFiles } from "../memory_files.ts";
import { encodeHead, responseHead } from "./response_head.ts";

/** Where a response goes. */
export interface ResponseTarget {
  write(p: Uint8Array): Promise<number>;
  /** Sluice's own sockets: shared bytes asked for again go out from a file. */
  sendFile?(fd: number, offset: number, length: number): Promise<number>;
}

/** Bodies up to this size go out in one buffer with their head. */
const JOIN_LIMIT = 16 * 1024;

/** A body held in memory after its head, in one write where it is small. */
export async function writeWhole(
  conn: ResponseTarget,
  status: number,
  headers: Iterable<[string, string]>,
  body: Uint8Array,
  noBody: boolean,
  close: boolean,
  /** `body` is shared and never modified: it may go out from a file. */
  shared: boolean,
  length = body.length,
): Promise<void> {
  const head = encodeHead(
    responseHead(status, headers, { kind: "length", length }, close),
  );
  if (noBody || body.length === 0) {
    await writeAll(conn, head);
  } else if (body.length > JOIN_LIMIT) {
    // A segment: copying it next to its head would cost more than the
    // one more write.
    await writeAll(conn, head);
    const files = shared && conn.sendFile !== undefined ? memoryFiles() : null;
    if (!await files?.send(conn as FileSender, body)) {
      await writeAll(conn, body);
    }
  } else {
    const all = new Uint8Array(head.length + body.length);
    all.set(head);
    all.set(body, head.length);
    await writeAll(conn, all);
  }
}
