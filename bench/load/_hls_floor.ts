/**
 * The floor of HLS serving on this runtime: the least a server can do per
 * request on Sluice's own sockets (`lib/net/fd_conn.ts`, the same epoll set
 * and io_uring wake as Sluice). It ingests nothing and muxes nothing: the
 * media playlist is made from the clock (a 2 s segment a 2 s, seven in the
 * window) and every segment is the same `--segment-bytes` held in one
 * memory file, sent with `sendfile(2)`. A request is answered once its head
 * has arrived, from its request line alone.
 *
 * `bench/load/hls_serving.ts --servers floor` runs it beside Sluice and
 * nginx: what Sluice takes above it is Sluice's own work, what it takes
 * above nginx is the runtime's.
 *
 * ```
 * deno run -A bench/load/_hls_floor.ts --port 8080 [--segment-bytes 575000]
 * ```
 *
 * @module
 */

import { Flags } from "./_flags.ts";
import type { FdConn } from "../../lib/net/fd_conn.ts";
import { listenFd } from "../../lib/net/fd_listener.ts";
import { loadNative } from "../../lib/net/_libc.ts";
import { memoryFile } from "../../lib/net/memory_files.ts";
import { writeAll } from "../../lib/net/tcp.ts";

const SEGMENT_MS = 2000;
const WINDOW = 7;
const encoder = new TextEncoder();

/**
 * Writes all of `bytes`, then `length` bytes of file `fd`: at once where
 * the socket has room (no promise), else as the socket drains.
 */
function send(
  conn: FdConn,
  bytes: Uint8Array,
  fd = -1,
  length = 0,
): Promise<void> | undefined {
  let at = 0;
  while (at < bytes.length) {
    const n = conn.tryWrite(bytes.subarray(at));
    if (n < 0) break;
    at += n;
  }
  let sent = 0;
  while (at === bytes.length && sent < length) {
    const n = conn.trySendFile(fd, sent, length - sent);
    if (n < 0) break;
    sent += n;
  }
  if (at === bytes.length && sent === length) return undefined;
  return (async () => {
    await writeAll(conn, bytes.subarray(at));
    while (sent < length) {
      sent += await conn.sendFile(fd, sent, length - sent);
    }
  })();
}

/** The head of an answer of `length` bytes of `type`. */
function head(type: string, length: number): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\n` +
    `content-length: ${length}\r\ncache-control: no-cache\r\n\r\n`;
}

/** The media playlist of now, behind its head. */
function playlist(started: number): Uint8Array {
  const last = Math.floor((performance.now() - started) / SEGMENT_MS) +
    WINDOW;
  let text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n` +
    `#EXT-X-MEDIA-SEQUENCE:${last - WINDOW + 1}\n`;
  for (let s = last - WINDOW + 1; s <= last; s++) {
    text += `#EXTINF:2.000,\nseg${s}.ts\n`;
  }
  return encoder.encode(
    head("application/vnd.apple.mpegurl", text.length) + text,
  );
}

/** Answers each request of `conn` as its head arrives, one at a time. */
function serve(
  conn: FdConn,
  started: number,
  segment: { fd: number; head: Uint8Array; length: number },
): void {
  let pending = "";
  /** The answer still being sent, and the requests that came behind it. */
  let sending: Promise<void> | undefined;
  const waiting: string[] = [];
  const answer = (target: string): Promise<void> | undefined =>
    target.endsWith(".m3u8")
      ? send(conn, playlist(started))
      : send(conn, segment.head, segment.fd, segment.length);
  const next = (): void => {
    sending = undefined;
    while (sending === undefined && waiting.length > 0) {
      sending = answer(waiting.shift()!);
    }
    sending?.then(next, () => conn.close());
  };
  conn.readEach((chunk) => {
    pending += String.fromCharCode(...chunk);
    for (let end; (end = pending.indexOf("\r\n\r\n")) >= 0;) {
      const line = pending.slice(0, pending.indexOf("\r\n"));
      pending = pending.slice(end + 4);
      waiting.push(line.split(" ")[1] ?? "");
    }
    if (sending === undefined) next();
  }).catch(() => {}).finally(() => conn.close());
}

const flags = new Flags(Deno.args);
const port = flags.number("port", 8080, 1, 65535);
const length = flags.number("segment-bytes", 575_000, 1, 64 * 2 ** 20);
const native = loadNative();
if (native === null) throw new Error("no FFI sockets on this machine");
const fd = memoryFile(
  native.libc,
  native.errno,
  encoder.encode("hls-floor\0"),
  new Uint8Array(length).fill(0x47),
);
if (fd < 0) throw new Error("no memory file");
const segment = {
  fd,
  head: encoder.encode(head("video/mp2t", length)),
  length,
};
const started = performance.now();
const listener = listenFd({
  hostname: "127.0.0.1",
  port,
  onConnection: (conn) => serve(conn, started, segment),
});
if (listener === null) throw new Error("no FFI listener on this machine");
