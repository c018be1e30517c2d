/**
 * The RTSP benchmark player, over TCP interleaved or over UDP.
 *
 * It connects (TCP_NODELAY; `rtsps-tcp`: a TLS session, RTP interleaved
 * inside it) and sends OPTIONS, DESCRIBE (the SDP's
 * `a=control` lines resolved against Content-Base), SETUP of every audio and
 * video track, then PLAY of the aggregate URL, each waiting for its reply
 * within a step timeout. PLAY carries no Range: a shared, non-live
 * gst-rtsp-server media would seek for everyone on `npt=0-`.
 *
 * - TCP: `RTP/AVP/TCP;unicast;interleaved=0-1` (then `2-3` …). The player
 *   parses the connection with {@link RtspFramer} until the first video
 *   keyframe, then only counts bytes (see `player.ts`): every byte read
 *   after PLAY was sent, RTP, RTCP and replies alike.
 * - UDP: `RTP/AVP;unicast;client_port=A-B` with A even and B = A + 1, bound to
 *   127.0.0.1 (an even/odd pair, as servers expect). Bytes are the datagrams' sizes on
 *   the RTP and RTCP sockets; one `receive()` per datagram, as Deno has no
 *   batch receive.
 *
 * - SRTP (`rtsp-srtp`): over RTSPS, the SDP gives each track's key
 *   (`a=key-mgmt:mikey`), SETUP asks for `RTP/SAVP;unicast;client_port=A-B`,
 *   and video packets are unprotected with the track's key until the first
 *   keyframe; then, as over UDP, only bytes are counted.
 *
 * Time to first frame is measured to the first video RTP packet, and the
 * keyframe time to the first packet that starts an H.264 IDR slice, from
 * the start of TCP connect and from writing PLAY. The player sends
 * GET_PARAMETER every `keepAliveMs` and TEARDOWN when it stops.
 *
 * @module
 */

import { H264_NAL_TYPE, h264NalType } from "../../../lib/codec/h264/nal.ts";
import { closeQuietly, writeAll } from "../../../lib/net/tcp.ts";
import { listenUdpPair } from "../../../lib/net/udp.ts";
import { H264_PACKET_TYPE } from "../../../lib/rtp/h264.ts";
import { decodeRtpPacket } from "../../../lib/rtp/packet.ts";
import { RtspFramer } from "../../../lib/rtsp/framer.ts";
import { parseSession } from "../../../lib/rtsp/headers/session.ts";
import { parseTransport } from "../../../lib/rtsp/headers/transport.ts";
import {
  encodeRequest,
  type RtspFramed,
  type RtspResponse,
} from "../../../lib/rtsp/message.ts";
import { baseUrl, resolveControl } from "../../../lib/rtsp/url.ts";
import { parseSdp } from "../../../lib/sdp/parse.ts";
import { SrtpContext } from "../../../lib/srtp/context.ts";
import { parseKeyMgmt } from "../../../lib/srtp/mikey_decode.ts";
import {
  connectPlayer,
  countReads,
  emptyResult,
  errorText,
  keyframeDeadline,
  type Player,
  type PlayerOptions,
  type PlayerResult,
  type PlayerTarget,
  SETUP_READ_SIZE,
  TLS_READ_SIZE,
} from "./player.ts";
import { openUdpCounter, type UdpCounter } from "./udp_count.ts";

/** The buffer every counting UDP socket receives into: one datagram at most 64 KiB. */
const SHARED_DATAGRAM = new Uint8Array(65536);
/** The most STAP-A units looked at for an IDR (a bound, not a limit of the format). */
const MAX_STAP_UNITS = 64;

/** Whether an H.264 RTP payload (RFC 6184) starts an IDR slice. */
export function startsIdr(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const type = h264NalType(payload);
  if (type === H264_NAL_TYPE.IDR) return true;
  if (type === H264_PACKET_TYPE.FU_A) {
    // FU header: S (start) bit, then the NAL type (§5.8).
    return payload.length >= 2 && (payload[1]! & 0x80) !== 0 &&
      h264NalType(payload.subarray(1)) === H264_NAL_TYPE.IDR;
  }
  if (type === H264_PACKET_TYPE.STAP_A) {
    // 16-bit sizes, each followed by one NAL unit (§5.7.1).
    let at = 1;
    for (let i = 0; i < MAX_STAP_UNITS && at + 2 < payload.length; i++) {
      const size = (payload[at]! << 8) | payload[at + 1]!;
      if (h264NalType(payload.subarray(at + 2)) === H264_NAL_TYPE.IDR) {
        return true;
      }
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

/** One RTSP player of `rtsp://host:port/<path>`. */
export class RtspPlayer implements Player {
  readonly #target: PlayerTarget;
  readonly #transport: "tcp" | "udp";
  readonly #firstFrameTimeoutMs: number;
  readonly #stepTimeoutMs: number;
  readonly #readTickMs: number;
  readonly #keepAliveMs: number;
  readonly #framer = new RtspFramer();
  #conn: Deno.Conn | undefined;
  readonly #caCerts: string[] | undefined;
  /** `rtsp-srtp`: RTP/SAVP; the video track's SRTP once described. */
  readonly #srtp: boolean;
  #videoSrtp: SrtpContext | undefined;
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
  /** UDP: what counts the RTP sockets on the tick once the player plays. */
  readonly #counter: UdpCounter | undefined;
  /**
   * UDP: the RTP sockets' descriptors found, what stops counting each (once
   * it counts), and whether it is our own (Deno's socket closed).
   */
  readonly #polled = new Map<number, { stop?: () => void; own: boolean }>();
  readonly result: PlayerResult = emptyResult();

  constructor(
    target: PlayerTarget,
    transport: "tcp" | "udp",
    options: PlayerOptions = {},
    tls = false,
  ) {
    this.#target = target;
    this.#caCerts = tls ? options.caCerts ?? [] : undefined;
    this.#srtp = options.srtp === true;
    this.#transport = transport;
    this.#firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 20_000;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
    this.#readTickMs = options.readTickMs ?? 50;
    this.#keepAliveMs = options.keepAliveMs ?? 20_000;
    this.#counter = transport === "udp"
      ? openUdpCounter(this.#readTickMs)
      : undefined;
    this.#closedPromise = new Promise((r) => this.#closedSignal = r);
  }

  get playing(): boolean {
    return this.result.keyframePlayMs !== undefined;
  }

  async run(onKeyframe?: () => void): Promise<PlayerResult> {
    this.#onKeyframe = onKeyframe;
    this.#startMs = performance.now();
    const timer = keyframeDeadline(
      this.#firstFrameTimeoutMs,
      this,
      (e) => this.#fail(e),
    );
    try {
      const connecting = connectPlayer(this.#target, this.#caCerts);
      // A connect that ends after the timeout must not leak its socket.
      connecting.then((c) => this.#closed && c.close(), () => {});
      const conn = await this.#bounded(connecting, "connect");
      this.#conn = conn;
      if (this.#closed) throw new Error("closed while connecting");
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
    if (this.#conn !== undefined) closeQuietly(this.#conn);
    // Stop reading the descriptors before their sockets close: the numbers may be reused.
    for (const [fd, p] of this.#polled) {
      p.stop?.();
      if (p.own) this.#counter?.close(fd);
      else this.#counter?.release(fd);
    }
    this.#polled.clear();
    for (const t of this.#tracks) {
      if (t.sockets === undefined) continue;
      closeQuietly(t.sockets.rtp);
      closeQuietly(t.sockets.rtcp);
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
    const scheme = this.#caCerts === undefined ? "rtsp" : "rtsps";
    const url = `${scheme}://${hostname}:${port}/${path}`;
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
      if (!this.#srtp || m.type !== "video") continue;
      const keyMgmt = m.attributes.find((a) => a.name === "key-mgmt")?.value;
      const key = keyMgmt === undefined ? undefined : parseKeyMgmt(keyMgmt);
      if (key === undefined) throw new Error("DESCRIBE: no SRTP key");
      this.#videoSrtp ??= new SrtpContext(key.master, {
        rocs: new Map(key.sessions.map((c) => [c.ssrc, c.roc])),
      });
    }
    if (!this.#tracks.some((t) => t.kind === "video")) {
      throw new Error("DESCRIBE: no video track");
    }
    for (const [i, t] of this.#tracks.entries()) {
      let spec: string;
      if (this.#transport === "tcp") {
        spec = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
      } else {
        // RTP on an even port, RTCP on the next: servers refuse other ranges.
        const pair = listenUdpPair("127.0.0.1");
        if (pair === undefined) throw new Error("no free UDP port pair");
        t.sockets = { rtp: pair.rtp, rtcp: pair.rtcp };
        const profile = this.#srtp ? "RTP/SAVP" : "RTP/AVP";
        spec = `${profile};unicast;client_port=${pair.port}-${pair.port + 1}`;
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
        this.#loops.push(this.#receive(t.sockets!.rtp, isVideo, true));
        this.#loops.push(this.#receive(t.sockets!.rtcp, false, false));
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
  async #read(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(SETUP_READ_SIZE);
    const sink = { enqueue: (m: RtspFramed) => this.#framed(m) };
    try {
      let ended = false;
      while (!this.#closed && !this.#counting && !ended) {
        const n = await conn.read(buf);
        if (n === null) ended = true;
        else {
          if (this.#afterPlay) this.result.bytes += n;
          this.#framer.push(buf.subarray(0, n), sink);
        }
      }
      if (!ended && !this.#closed) {
        ended = await countReads(conn, this.#readTickMs, (n) => {
          this.result.bytes += n;
          return !this.#closed;
        }, this.#caCerts === undefined ? undefined : TLS_READ_SIZE);
      }
      if (ended) this.#fail("server closed the connection");
    } catch (e) {
      this.#fail(errorText(e));
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
      const rtp = this.#videoSrtp?.unprotectRtp(packet) ?? packet;
      payload = decodeRtpPacket(rtp).payload;
    } catch {
      return false;
    }
    if (!startsIdr(payload)) return false;
    this.result.keyframePlayMs = now - this.#playMs;
    this.#onKeyframe?.();
    return true;
  }

  /**
   * Counts the socket of adopted `fd` on the tick from now on, through a
   * descriptor of our own when one can be had: Deno's socket closes then,
   * and with it its place in Deno's epoll set (see {@link UdpCounter.detach}).
   */
  #count(counter: UdpCounter, fd: number, socket: Deno.DatagramConn): void {
    const onBytes = (n: number) => this.result.bytes += n;
    const mine = counter.detach(fd);
    if (mine === undefined) {
      this.#polled.set(fd, { own: false, stop: counter.count(fd, onBytes) });
      return;
    }
    this.#polled.delete(fd);
    counter.release(fd);
    closeQuietly(socket); // no receive() waits on it: the loop has ended
    this.#polled.set(mine, { own: true, stop: counter.count(mine, onBytes) });
  }

  /**
   * One UDP socket: counts datagram bytes; the video RTP one looks for the
   * first keyframe. An RTP socket goes over to the {@link UdpCounter} once
   * its descriptor is found and, for video, the keyframe came: the loop
   * ends after a datagram, so no `receive()` is left waiting beside it.
   */
  async #receive(
    socket: Deno.DatagramConn,
    video: boolean,
    rtp: boolean,
  ): Promise<void> {
    let own = video ? new Uint8Array(SHARED_DATAGRAM.length) : undefined;
    let fd: number | undefined;
    const counter = rtp ? this.#counter : undefined;
    counter?.adopt((socket.addr as Deno.NetAddr).port).then((found) => {
      if (found === undefined) return;
      if (this.#closed) counter.release(found);
      else {
        fd = found;
        this.#polled.set(fd, { own: false });
      }
    });
    try {
      while (!this.#closed) {
        const [data] = await socket.receive(own ?? SHARED_DATAGRAM);
        this.result.bytes += data.length;
        if (own !== undefined && this.#video(data)) own = undefined;
        if (fd !== undefined && own === undefined && !this.#closed) {
          this.#count(counter!, fd, socket);
          return;
        }
      }
    } catch (e) {
      this.#fail(`UDP receive: ${errorText(e)}`);
    }
  }
}
