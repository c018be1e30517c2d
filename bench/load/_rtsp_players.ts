/**
 * The load client of the RTSP fan-out benchmark: N RTSP players in one
 * process, over TCP interleaved or over UDP.
 *
 * Each player connects (TCP_NODELAY) and sends OPTIONS, DESCRIBE (the SDP's
 * `a=control` lines resolved against Content-Base), SETUP of every audio and
 * video track, then PLAY of the aggregate URL, each waiting for its reply
 * within a step timeout. PLAY carries no Range: a shared, non-live
 * gst-rtsp-server media would seek for everyone on `npt=0-`.
 *
 * - TCP: `RTP/AVP/TCP;unicast;interleaved=0-1` (then `2-3` …). The player
 *   parses the connection with {@link RtspFramer} until the first video
 *   keyframe, then only counts bytes: every byte read after PLAY was sent,
 *   RTP, RTCP and replies alike. Counting players read into one shared
 *   buffer and wait for a shared tick after a read that did not fill it, as
 *   the RTMP players do (`_players.ts`).
 * - UDP: `RTP/AVP;unicast;client_port=A-B` with A and B two sockets bound to
 *   port 0 on 127.0.0.1 (not consecutive). Bytes are the datagrams' sizes on
 *   the RTP and RTCP sockets; one `receive()` per datagram, as Deno has no
 *   batch receive.
 *
 * Time to first frame is measured to the first video RTP packet and to the
 * first packet that starts an H.264 IDR slice, from the start of TCP connect
 * and from writing PLAY. Players send GET_PARAMETER every `keepAliveMs` and
 * TEARDOWN when they stop.
 *
 * Run as a process (`deno run -A bench/load/_rtsp_players.ts --port P --n N
 * --transport tcp|udp`) it speaks the line protocol of `_crowd.ts` (`mark`,
 * `stop`; `ready`, `final`); `stop` sends TEARDOWN and closes; `ready` waits
 * for every player's keyframe or error.
 *
 * @module
 */

import { decodeRtpPacket } from "../../lib/rtp/packet.ts";
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import { parseSession } from "../../lib/rtsp/headers/session.ts";
import { parseTransport } from "../../lib/rtsp/headers/transport.ts";
import {
  encodeRequest,
  type RtspFramed,
  type RtspResponse,
} from "../../lib/rtsp/message.ts";
import { baseUrl, resolveControl } from "../../lib/rtsp/url.ts";
import { parseSdp } from "../../lib/sdp/parse.ts";
import {
  type CrowdResult,
  errorText,
  keyframeDeadline,
  parseFlags,
  serveCrowd,
  startTick,
  stopTick,
  tick,
  writeAll,
} from "./_crowd.ts";

/** Read size while the player still parses. */
const SETUP_READ_SIZE = 16 * 1024;
/** The buffer every counting TCP player reads into (contents are never looked at). */
const SHARED = new Uint8Array(256 * 1024);
/** The buffer every counting UDP socket receives into: one datagram at most 64 KiB. */
const SHARED_DATAGRAM = new Uint8Array(65536);
/** H.264 NAL unit types (ITU-T H.264 Table 7-1) and RTP aggregation types (RFC 6184 §5.2). */
const NAL_IDR = 5;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;

/** Where and what to play. */
export interface RtspTarget {
  hostname: string;
  port: number;
  /** Without leading slash: `live/bench`. */
  path: string;
}

/** Options of {@link RtspPlayer}. */
export interface RtspPlayerOptions {
  /** @default {"tcp"} */
  transport?: "tcp" | "udp";
  /** Give up when no keyframe arrived this long after connecting. @default {20000} */
  firstFrameTimeoutMs?: number;
  /** Longest wait for one reply. @default {10000} */
  stepTimeoutMs?: number;
  /** Ms between reads of a counting TCP player whose last read did not fill the buffer; 0 reads at once. @default {50} */
  readTickMs?: number;
  /** GET_PARAMETER this often while playing; 0 never. @default {20000} */
  keepAliveMs?: number;
}

/** What one player measured. */
export interface RtspPlayerResult extends CrowdResult {
  /** ms from the start of TCP connect to the first video RTP packet. */
  ttffConnectMs: number | undefined;
  /** ms from writing PLAY to the first video RTP packet. */
  ttffPlayMs: number | undefined;
  /** ms from writing PLAY to the first packet of an IDR slice. */
  keyframePlayMs: number | undefined;
  /** TCP: bytes read since PLAY was written. UDP: datagram bytes on the player's sockets. */
  bytes: number;
  /** Why it stopped early, if it did. */
  error: string | undefined;
}

/** Whether an H.264 RTP payload (RFC 6184) starts an IDR slice. */
export function startsIdr(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === NAL_IDR) return true;
  if (type === NAL_FU_A) {
    // FU header: S (start) bit, then the NAL type (§5.8).
    return payload.length >= 2 && (payload[1]! & 0x80) !== 0 &&
      (payload[1]! & 0x1f) === NAL_IDR;
  }
  if (type === NAL_STAP_A) {
    // 16-bit sizes, each followed by one NAL unit (§5.7.1).
    let at = 1;
    for (let i = 0; i < 64 && at + 2 < payload.length; i++) {
      const size = (payload[at]! << 8) | payload[at + 1]!;
      if ((payload[at + 2]! & 0x1f) === NAL_IDR) return true;
      at += 2 + size;
    }
  }
  return false;
}

interface PlayTrack {
  kind: string;
  url: string;
  /** TCP: the interleaved RTP channel the server confirmed. */
  rtpChannel?: number;
  /** UDP: the player's sockets. */
  sockets?: { rtp: Deno.DatagramConn; rtcp: Deno.DatagramConn };
}

/** One RTSP player; {@link RtspPlayer.run} resolves when it ends. */
export class RtspPlayer {
  readonly #target: RtspTarget;
  readonly #transport: "tcp" | "udp";
  readonly #firstFrameTimeoutMs: number;
  readonly #stepTimeoutMs: number;
  readonly #readTickMs: number;
  readonly #keepAliveMs: number;
  readonly #framer = new RtspFramer();
  #conn: Deno.TcpConn | undefined;
  #closed = false;
  #closedSignal: () => void = () => {};
  readonly #closedPromise: Promise<void>;
  #startMs = 0;
  #playMs = 0;
  #cseq = 0;
  #session: string | undefined;
  #aggregate = "";
  #tracks: PlayTrack[] = [];
  #videoChannel = -1;
  #afterPlay = false;
  #counting = false;
  #reply: ((r: RtspResponse) => void) | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #onKeyframe: (() => void) | undefined;
  readonly #loops: Promise<void>[] = [];
  readonly result: RtspPlayerResult = {
    ttffConnectMs: undefined,
    ttffPlayMs: undefined,
    keyframePlayMs: undefined,
    bytes: 0,
    error: undefined,
  };

  constructor(target: RtspTarget, options: RtspPlayerOptions = {}) {
    this.#target = target;
    this.#transport = options.transport ?? "tcp";
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 20_000;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
    this.#readTickMs = options.readTickMs ?? 50;
    this.#keepAliveMs = options.keepAliveMs ?? 20_000;
    this.#closedPromise = new Promise((r) => this.#closedSignal = r);
  }

  /** Whether the first keyframe arrived. */
  get playing(): boolean {
    return this.result.keyframePlayMs !== undefined;
  }

  /** Connects and plays until {@link RtspPlayer.stop} or an error; never rejects. */
  async run(onKeyframe?: () => void): Promise<RtspPlayerResult> {
    this.#onKeyframe = onKeyframe;
    this.#startMs = performance.now();
    const timer = keyframeDeadline(
      this.#firstFrameTimeoutMs,
      this,
      (e) => this.#fail(e),
    );
    try {
      const connecting = Deno.connect({
        hostname: this.#target.hostname,
        port: this.#target.port,
      });
      // A connect that ends after the timeout must not leak its socket.
      connecting.then((c) => this.#closed && c.close(), () => {});
      const conn = await this.#bounded(connecting, "connect");
      this.#conn = conn;
      if (this.#closed) throw new Error("closed while connecting");
      conn.setNoDelay(true);
      this.#loops.push(this.#read(conn));
      await this.#handshake();
      // Reads go on until stop() or an error.
      await this.#closedPromise;
    } catch (e) {
      this.#fail(errorText(e));
    } finally {
      clearTimeout(timer);
      this.#close();
      await Promise.race([
        Promise.all(this.#loops),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
    }
    return this.result;
  }

  /** TEARDOWN (bounded), then closes; a running {@link RtspPlayer.run} resolves soon after. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    if (this.#session !== undefined && this.#conn !== undefined) {
      const bytes = this.#requestBytes("TEARDOWN", this.#aggregate);
      try {
        if (this.#transport === "udp") {
          // Over UDP the session outlives the connection: wait for the reply.
          await this.#exchange(bytes, 2000);
        } else {
          await this.#bounded(writeAll(this.#conn, bytes), "TEARDOWN", 2000);
        }
      } catch {
        // the server is gone or slow: closing ends the session too
      }
    }
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#closedSignal();
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    for (const t of this.#tracks) {
      try {
        t.sockets?.rtp.close();
        t.sockets?.rtcp.close();
      } catch {
        // already closed
      }
    }
  }

  #fail(error: string): void {
    if (this.result.error === undefined && !this.#closed) {
      this.result.error = error;
    }
    this.#close();
  }

  /** `p`, or a rejection after `ms` or once the player is closed. */
  async #bounded<T>(
    p: Promise<T>,
    what: string,
    ms = this.#stepTimeoutMs,
  ): Promise<T> {
    let t: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          t = setTimeout(
            () => reject(new Error(`${what}: no answer within ${ms} ms`)),
            ms,
          );
        }),
        this.#closedPromise.then(() => {
          throw new Error(`${what}: closed`);
        }),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  #requestBytes(
    method: string,
    url: string,
    headers: [string, string][] = [],
  ): Uint8Array {
    return encodeRequest({
      method,
      url,
      headers: [
        ["CSeq", String(++this.#cseq)],
        ["User-Agent", "sluice-bench"],
        ...(this.#session !== undefined
          ? [["Session", this.#session] as [string, string]]
          : []),
        ...headers,
      ],
    });
  }

  /** Writes a request and waits for the next reply. */
  async #exchange(bytes: Uint8Array, ms?: number): Promise<RtspResponse> {
    const reply = new Promise<RtspResponse>((r) => this.#reply = r);
    await writeAll(this.#conn!, bytes);
    const res = await this.#bounded(reply, "reply", ms);
    this.#reply = undefined;
    return res;
  }

  async #request(
    method: string,
    url: string,
    headers: [string, string][] = [],
  ): Promise<RtspResponse> {
    const res = await this.#exchange(this.#requestBytes(method, url, headers));
    if (res.status !== 200) {
      throw new Error(`${method} answered ${res.status} ${res.reason}`);
    }
    return res;
  }

  async #handshake(): Promise<void> {
    const { hostname, port, path } = this.#target;
    const url = `rtsp://${hostname}:${port}/${path}`;
    await this.#request("OPTIONS", url);
    const described = await this.#request("DESCRIBE", url, [[
      "Accept",
      "application/sdp",
    ]]);
    const sdp = parseSdp(described.body);
    const base = baseUrl(described.headers, url);
    this.#aggregate = resolveControl(base, sdp.control);
    for (const m of sdp.media) {
      if (m.type !== "video" && m.type !== "audio") continue;
      this.#tracks.push({ kind: m.type, url: resolveControl(base, m.control) });
    }
    if (!this.#tracks.some((t) => t.kind === "video")) {
      throw new Error("DESCRIBE: no video track");
    }
    for (const [i, t] of this.#tracks.entries()) {
      let spec: string;
      if (this.#transport === "tcp") {
        spec = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
      } else {
        const listen = () =>
          Deno.listenDatagram({
            transport: "udp",
            hostname: "127.0.0.1",
            port: 0,
          });
        const rtp = listen();
        let rtcp: Deno.DatagramConn;
        try {
          rtcp = listen();
        } catch (e) {
          rtp.close();
          throw e;
        }
        t.sockets = { rtp, rtcp };
        const portOf = (s: Deno.DatagramConn) => (s.addr as Deno.NetAddr).port;
        spec = `RTP/AVP;unicast;client_port=${portOf(rtp)}-${portOf(rtcp)}`;
      }
      const res = await this.#request("SETUP", t.url, [["Transport", spec]]);
      const session = res.headers.get("Session");
      if (session === undefined) throw new Error("SETUP: no Session");
      this.#session ??= parseSession(session).id;
      const reply = res.headers.get("Transport");
      const chosen = reply === undefined ? undefined : parseTransport(reply)[0];
      if (this.#transport === "tcp") {
        t.rtpChannel = chosen?.interleaved?.rtp ?? 2 * i;
        if (t.kind === "video" && this.#videoChannel < 0) {
          this.#videoChannel = t.rtpChannel;
        }
      }
    }
    if (this.#transport === "udp") {
      let video = true;
      for (const t of this.#tracks) {
        const isVideo = t.kind === "video" && video;
        if (isVideo) video = false;
        this.#loops.push(this.#receive(t.sockets!.rtp, isVideo));
        this.#loops.push(this.#receive(t.sockets!.rtcp, false));
      }
    }
    this.#playMs = performance.now();
    this.#afterPlay = this.#transport === "tcp";
    await this.#request("PLAY", this.#aggregate);
    if (this.#keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => {
        if (this.#closed || this.#conn === undefined) return;
        const bytes = this.#requestBytes("GET_PARAMETER", this.#aggregate);
        writeAll(this.#conn, bytes).catch((e) =>
          this.#fail(`GET_PARAMETER: ${e instanceof Error ? e.message : e}`)
        );
      }, this.#keepAliveMs);
    }
  }

  /** The RTSP connection: replies (and over TCP, media) until closed. */
  async #read(conn: Deno.TcpConn): Promise<void> {
    const own = new Uint8Array(SETUP_READ_SIZE);
    const sink = { enqueue: (m: RtspFramed) => this.#framed(m) };
    let ticking = false;
    try {
      while (!this.#closed) {
        const buf = this.#counting ? SHARED : own;
        const n = await conn.read(buf);
        if (n === null) {
          this.#fail("server closed the connection");
          return;
        }
        if (this.#afterPlay) this.result.bytes += n;
        if (!this.#counting) {
          this.#framer.push(buf.subarray(0, n), sink);
          continue;
        }
        if (!ticking) {
          ticking = true;
          startTick(this.#readTickMs);
        }
        if (n < SHARED.length && this.#readTickMs > 0) await tick();
      }
    } catch (e) {
      if (!this.#closed) {
        this.#fail(errorText(e));
      }
    } finally {
      if (ticking) stopTick();
    }
  }

  #framed(m: RtspFramed): void {
    if (m.kind === "response") {
      const r = this.#reply;
      this.#reply = undefined;
      r?.(m);
      return;
    }
    if (m.kind !== "interleaved" || m.channel !== this.#videoChannel) return;
    if (this.#video(m.payload) && this.#transport === "tcp") {
      // From here on the connection is only counted (replies included).
      this.#counting = true;
    }
  }

  /** A video RTP packet; true once a keyframe has been seen. */
  #video(packet: Uint8Array): boolean {
    const now = performance.now();
    if (this.result.ttffConnectMs === undefined) {
      this.result.ttffConnectMs = now - this.#startMs;
      this.result.ttffPlayMs = now - this.#playMs;
    }
    if (this.result.keyframePlayMs !== undefined) return true;
    let payload: Uint8Array;
    try {
      payload = decodeRtpPacket(packet).payload;
    } catch {
      return false;
    }
    if (!startsIdr(payload)) return false;
    this.result.keyframePlayMs = now - this.#playMs;
    this.#onKeyframe?.();
    return true;
  }

  /** One UDP socket: counts datagram bytes; the video RTP one looks for the first keyframe. */
  async #receive(socket: Deno.DatagramConn, video: boolean): Promise<void> {
    let own: Uint8Array | undefined = video ? new Uint8Array(65536) : undefined;
    try {
      while (!this.#closed) {
        const [data] = await socket.receive(own ?? SHARED_DATAGRAM);
        this.result.bytes += data.length;
        if (own !== undefined && this.#video(data)) own = undefined;
      }
    } catch (e) {
      if (!this.#closed) {
        this.#fail(`UDP receive: ${errorText(e)}`);
      }
    }
  }
}

if (import.meta.main) {
  const args = parseFlags(Deno.args);
  const target: RtspTarget = {
    hostname: args.get("host") ?? "127.0.0.1",
    port: Number(args.get("port")),
    path: args.get("path") ?? "live/bench",
  };
  const transport = args.get("transport") ?? "tcp";
  if (transport !== "tcp" && transport !== "udp") {
    console.error(`Cannot use transport "${transport}": expected tcp or udp`);
    Deno.exit(2);
  }
  const options: RtspPlayerOptions = {
    transport,
    readTickMs: Number(args.get("read-tick-ms") ?? "50"),
    firstFrameTimeoutMs: Number(args.get("first-frame-timeout-ms") ?? "20000"),
    stepTimeoutMs: Number(args.get("step-timeout-ms") ?? "10000"),
    keepAliveMs: Number(args.get("keepalive-ms") ?? "20000"),
  };
  await serveCrowd(args, () => new RtspPlayer(target, options), {
    stop: (p) => p.stop(),
    times: ["ttffConnectMs", "ttffPlayMs", "keyframePlayMs"],
  });
}
