/** A raw RTSP connection for tests: send exact bytes, read parsed responses. */
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import {
  encodeResponse,
  type RtspFramed,
  type RtspRequest,
  type RtspResponse,
} from "../../lib/rtsp/message.ts";

/** One TCP connection to an RTSP server. */
export class RawRtsp {
  readonly #conn: Deno.TcpConn;
  readonly #framer = new RtspFramer({ maxBodySize: 1 << 20 });
  readonly #items: RtspFramed[] = [];
  #waiting: (() => void) | undefined;
  #ended = false;
  #cseq = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#read();
  }

  static async connect(port: number): Promise<RawRtsp> {
    return new RawRtsp(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#framer.push(buf.slice(0, n), {
          enqueue: (m) => this.#items.push(m),
        });
        this.#waiting?.();
      }
    } catch {
      // reset or closed
    }
    this.#ended = true;
    this.#waiting?.();
  }

  /** Sends text as it is. */
  async sendRaw(text: string | Uint8Array): Promise<void> {
    await this.#conn.write(
      typeof text === "string" ? new TextEncoder().encode(text) : text,
    );
  }

  /** Sends a request with the next CSeq and returns its response. */
  async request(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body = "",
  ): Promise<RtspResponse> {
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${++this.#cseq}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body !== "") {
      lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
    }
    await this.sendRaw(`${lines.join("\r\n")}\r\n\r\n${body}`);
    return await this.response();
  }

  /** The next response (interleaved frames before it are kept for {@link frames}). */
  async response(timeoutMs = 10_000): Promise<RtspResponse> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#items.findIndex((m) => m.kind === "response");
      if (i >= 0) return this.#items.splice(i, 1)[0] as RtspResponse;
      if (this.#ended) throw new Error("connection closed before a response");
      if (Date.now() > end) {
        throw new Error(`no response within ${timeoutMs} ms`);
      }
      await new Promise<void>((r) => {
        this.#waiting = r;
        setTimeout(r, 50);
      });
    }
  }

  /**
   * The next request the server sends (after a REGISTER with
   * `reuse_connection` the test plays the server side of the connection).
   */
  async nextRequest(timeoutMs = 10_000): Promise<RtspRequest> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#items.findIndex((m) => m.kind === "request");
      if (i >= 0) return this.#items.splice(i, 1)[0] as RtspRequest;
      if (this.#ended) throw new Error("connection closed before a request");
      if (Date.now() > end) {
        throw new Error(`no request within ${timeoutMs} ms`);
      }
      await new Promise<void>((r) => {
        this.#waiting = r;
        setTimeout(r, 50);
      });
    }
  }

  /** Answers `req` (its CSeq echoed). */
  async reply(
    req: RtspRequest,
    status: number,
    headers: [string, string][] = [],
    body?: string,
  ): Promise<void> {
    await this.sendRaw(encodeResponse({
      status,
      headers: [["CSeq", req.headers.get("CSeq") ?? "0"], ...headers],
      body,
    }));
  }

  /** Interleaved frames received so far (taken). */
  frames(): { channel: number; payload: Uint8Array }[] {
    const out = this.#items.filter((m) => m.kind === "interleaved") as {
      channel: number;
      payload: Uint8Array;
    }[];
    for (let i = this.#items.length - 1; i >= 0; i--) {
      if (this.#items[i]!.kind === "interleaved") this.#items.splice(i, 1);
    }
    return out;
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.#ended && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.#ended;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed
    }
  }
}
