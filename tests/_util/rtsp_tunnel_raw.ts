/**
 * Raw RTSP over HTTP tunnelling for tests: a GET half that reads the HTTP
 * answer, then RTSP responses and `$` frames; a POST half that sends exact
 * bytes or requests base64-encoded one by one. Either half goes over TLS
 * (an HTTPS tunnel on the RTSPS port) when given the certificates to trust.
 */
import { concat } from "@std/bytes";
import { encodeBase64 } from "../../lib/rtsp/base64.ts";
import assert from "node:assert/strict";
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import type { RtspFramed, RtspResponse } from "../../lib/rtsp/message.ts";
import { RawRtsp } from "./rtsp_raw.ts";
import type { TestSluice } from "./sluice.ts";
import { until } from "./wait.ts";

const enc = new TextEncoder();

/** Where a raw half connects: plain TCP, or TLS trusting `caCerts`. */
export interface RawTunnelTls {
  caCerts: string[];
}

/** Connects to 127.0.0.1:`port`, in TLS when `tls` is given. */
function dial(port: number, tls?: RawTunnelTls): Promise<Deno.Conn> {
  const hostname = "127.0.0.1";
  return tls === undefined
    ? Deno.connect({ hostname, port })
    : Deno.connectTls({ hostname, port, caCerts: tls.caCerts });
}

/** One connection of a raw tunnel half: what the server sent, and whether it closed. */
class RawHalf {
  readonly conn: Deno.Conn;
  /** Bytes received before the end of the HTTP head (all of them on a POST). */
  text = "";
  ended = false;
  protected body: ((chunk: Uint8Array) => void) | undefined;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#read();
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    let head = new Uint8Array(0);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        if (this.body !== undefined) {
          this.body(chunk);
          continue;
        }
        head = concat([head, chunk]);
        // latin1: one character per byte, so string offsets are byte offsets
        this.text = new TextDecoder("latin1").decode(head);
        const end = this.text.indexOf("\r\n\r\n");
        if (end >= 0 && this.onHead !== undefined) {
          this.text = this.text.slice(0, end + 4);
          this.onHead();
          const after = head.slice(end + 4);
          // onHead set `body` (narrowing cannot see it)
          const body = this.body as ((c: Uint8Array) => void) | undefined;
          if (after.length > 0) body?.(after);
        }
      }
    } catch {
      // reset or closed
    }
    this.ended = true;
  }

  /** Called once the HTTP head came, on a half that reads a body after it. */
  protected onHead: (() => void) | undefined;

  /** Sends bytes or text as they are. */
  async sendRaw(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    let off = 0;
    while (off < bytes.length) {
      off += await this.conn.write(bytes.subarray(off));
    }
  }

  /** The status of the HTTP answer once it came, 0 if none came within `timeoutMs`. */
  async status(timeoutMs = 5000): Promise<number> {
    await poll(() => this.text.includes("\r\n\r\n") || this.ended, timeoutMs);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(this.text);
    return m === null ? 0 : Number(m[1]);
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    await poll(() => this.ended, timeoutMs);
    return this.ended;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed
    }
  }
}

async function poll(done: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done() && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The GET half: after the HTTP answer, RTSP responses and interleaved frames. */
export class RawTunnelGet extends RawHalf {
  readonly #framer = new RtspFramer({ maxBodySize: 1 << 20 });
  readonly items: RtspFramed[] = [];

  private constructor(conn: Deno.Conn) {
    super(conn);
    this.onHead = () => {
      this.body = (chunk) =>
        this.#framer.push(chunk, { enqueue: (m) => this.items.push(m) });
    };
  }

  /** Opens a GET with `cookie` (none when `undefined`) and the tunnel Accept, plus `extra` header lines. */
  static async open(
    port: number,
    cookie: string | undefined,
    extra = "",
    tls?: RawTunnelTls,
  ): Promise<RawTunnelGet> {
    const g = new RawTunnelGet(await dial(port, tls));
    const lines = ["GET /live/x HTTP/1.0"];
    if (cookie !== undefined) lines.push(`x-sessioncookie: ${cookie}`);
    lines.push("Accept: application/x-rtsp-tunnelled");
    await g.sendRaw(`${lines.join("\r\n")}\r\n${extra}\r\n`);
    return g;
  }

  /** The next RTSP response on the GET. */
  async response(timeoutMs = 5000): Promise<RtspResponse> {
    const find = () => this.items.findIndex((m) => m.kind === "response");
    await poll(() => find() >= 0 || this.ended, timeoutMs);
    const i = find();
    if (i < 0) throw new Error(`no RTSP response on the GET:\n${this.text}`);
    return this.items.splice(i, 1)[0] as RtspResponse;
  }

  /** `$` frames received so far. */
  frameCount(): number {
    return this.items.filter((m) => m.kind === "interleaved").length;
  }
}

/** The POST half. */
export class RawTunnelPost extends RawHalf {
  /** Opens a POST with `cookie`; `body` goes in the same write as the head. */
  static async open(
    port: number,
    cookie: string | undefined,
    body = "",
    tls?: RawTunnelTls,
  ): Promise<RawTunnelPost> {
    const p = new RawTunnelPost(await dial(port, tls));
    const lines = ["POST /live/x HTTP/1.0"];
    if (cookie !== undefined) lines.push(`x-sessioncookie: ${cookie}`);
    lines.push(
      "Content-Type: application/x-rtsp-tunnelled",
      "Content-Length: 32767",
    );
    await p.sendRaw(`${lines.join("\r\n")}\r\n\r\n${body}`);
    return p;
  }

  /** Sends each request base64-encoded on its own, all in one write. */
  async send(...requests: string[]): Promise<void> {
    await this.sendRaw(base64Requests(...requests));
  }
}

/** Requests as a client's POST body carries them: each base64-encoded on its own. */
export function base64Requests(...requests: string[]): string {
  return requests.map((r) =>
    new TextDecoder().decode(encodeBase64(enc.encode(r)))
  )
    .join("");
}

/** An RTSP request's text. */
export function rtspRequest(
  method: string,
  url: string,
  cseq: number,
  headers: Record<string, string> = {},
): string {
  const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${cseq}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Plain RTSP on the RTSP port still answers: the bad input disturbed nothing. */
export async function assertRtspAnswers(s: TestSluice): Promise<void> {
  const c = await RawRtsp.connect(s.sluice.rtspPort!);
  const r = await c.request("OPTIONS", s.rtspUrl("live/x"));
  assert.equal(r.status, 200);
  c.close();
}

/** A whole tunnel on `port` that answers OPTIONS. */
export async function openTunnel(
  port: number,
  cookie: string,
): Promise<{ get: RawTunnelGet; post: RawTunnelPost }> {
  const get = await RawTunnelGet.open(port, cookie);
  assert.equal(await get.status(), 200, get.text);
  const post = await RawTunnelPost.open(port, cookie);
  await post.send(rtspRequest("OPTIONS", "rtsp://127.0.0.1/live/x", 1));
  assert.equal((await get.response()).status, 200);
  return { get, post };
}

/** Asserts one more protocol error was counted and a log line matches `line`. */
export async function assertCounted(
  s: TestSluice,
  errors: number,
  line: RegExp,
): Promise<void> {
  await until(
    () => s.sluice.rtsp!.stats.protocolErrors >= errors,
    5000,
    () => s.logs.join("\n"),
  );
  assert.equal(s.sluice.rtsp!.stats.protocolErrors, errors);
  assert.ok(s.logs.some((l) => line.test(l)), s.logs.join("\n"));
}
