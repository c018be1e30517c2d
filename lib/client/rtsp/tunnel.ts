/**
 * The client side of RTSP over HTTP tunnelling (`rtsph://`): a GET whose
 * answer carries the server's replies and interleaved media, and a POST that
 * carries the client's requests, each write base64-encoded on its own, as
 * ffmpeg and GStreamer send them. Both halves share a random cookie.
 *
 * @module
 */

import { PrefixedConn } from "../../net/prefixed.ts";
import { closeQuietly, type StreamConn, writeAll } from "../../net/tcp.ts";
import { encodeBase64 } from "../../rtsp/base64.ts";
import {
  encodeTunnelRequest,
  HttpHeadReader,
  httpStatusOf,
} from "../../rtsp/tunnel.ts";

/** Opens a byte stream to the server: TCP, or TLS for `rtspsh://`. */
export type Dial = () => Promise<StreamConn>;

/** Options of {@link openTunnel}. */
export interface OpenTunnelOptions {
  /** The request target of GET and POST: the RTSP URL's path and query. */
  target: string;
  /** The `Host` header: host and port of the URL. */
  host: string;
  /** Both halves must be open and the GET answered within this. */
  timeoutMs: number;
}

/**
 * Opens both halves of a tunnel over two connections `dial` makes; resolves
 * to one connection whose reads are the GET's body and whose writes go out
 * base64-encoded on the POST. Rejects when the server does not answer the
 * GET with 200 in time.
 */
export async function openTunnel(
  dial: Dial,
  options: OpenTunnelOptions,
): Promise<StreamConn> {
  const cookie = Array.from(
    crypto.getRandomValues(new Uint8Array(12)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const opened: StreamConn[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const c of opened) closeQuietly(c);
  }, options.timeoutMs);
  try {
    const get = await dial();
    opened.push(get);
    await writeAll(get, encodeTunnelRequest("GET", { ...options, cookie }));
    const reader = new HttpHeadReader();
    const buf = new Uint8Array(4096);
    let got: ReturnType<HttpHeadReader["push"]>;
    while (got === undefined) {
      const n = await get.read(buf);
      if (n === null) throw new Error("the server closed the tunnel's GET");
      got = reader.push(buf.subarray(0, n));
    }
    const status = httpStatusOf(got.head);
    if (status !== 200) {
      throw new Error(
        `the server answered the tunnel's GET with ${
          JSON.stringify(got.head.startLine.slice(0, 80))
        }`,
      );
    }
    const post = await dial();
    opened.push(post);
    await writeAll(post, encodeTunnelRequest("POST", { ...options, cookie }));
    return new TunnelClientConn(new PrefixedConn(get, got.rest), post);
  } catch (e) {
    for (const c of opened) closeQuietly(c);
    if (timedOut) {
      throw new Error(`no tunnel within ${options.timeoutMs} ms`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The two halves of a client's tunnel as one connection. */
class TunnelClientConn implements StreamConn {
  readonly #get: StreamConn;
  readonly #post: StreamConn;

  constructor(get: StreamConn, post: StreamConn) {
    this.#get = get;
    this.#post = post;
  }

  get remoteAddr(): Deno.Addr {
    return this.#get.remoteAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#get.read(p);
  }

  /** Each write is one base64 text of its own, padding included. */
  async write(p: Uint8Array): Promise<number> {
    await writeAll(this.#post, encodeBase64(p));
    return p.length;
  }

  close(): void {
    closeQuietly(this.#post);
    closeQuietly(this.#get);
  }
}
