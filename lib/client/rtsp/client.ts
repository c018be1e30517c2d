/**
 * An RTSP client: pulls a camera or server (OPTIONS → DESCRIBE → SETUP →
 * PLAY) into a publisher, or pushes a stream (ANNOUNCE → SETUP → RECORD),
 * over UDP or TCP interleaved, with Basic/Digest auth, redirects and
 * keep-alives. Relays are built from it.
 *
 * @module
 */

import type { Publisher } from "../../hub/hub.ts";
import { PACKET_KIND } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Stream } from "../../hub/stream.ts";
import { BatchWriter } from "../../net/batch_writer.ts";
import { closeQuietly, connectTcp } from "../../net/tcp.ts";
import { listenUdp, receiveDatagrams } from "../../net/udp.ts";
import { decodeRtcp, encodeRtcp } from "../../rtp/rtcp.ts";
import { ProtocolError } from "../../errors.ts";
import { RtspFramer } from "../../rtsp/framer.ts";
import {
  type AuthChallenge,
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../rtsp/headers/auth.ts";
import { parseMethodList } from "../../rtsp/headers/mod.ts";
import { parseSession } from "../../rtsp/headers/session.ts";
import {
  parseTransport,
  stringifyTransport,
  type Transport,
} from "../../rtsp/headers/transport.ts";
import { interleavedHeader } from "../../rtsp/interleaved.ts";
import { encodeRequest, type RtspResponse } from "../../rtsp/message.ts";
import { baseUrl, resolveControl } from "../../rtsp/url.ts";
import {
  describeSession,
  describeTracks,
  type SdpTrack,
  tracksFromSdp,
} from "../../format/tracks.ts";
import { parseSdp } from "../../sdp/parse.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import type { Sdp } from "../../sdp/types.ts";
import { RtpInput } from "../../ingest/rtp_input.ts";
import { RtpOutput, type RtpReader } from "../../egress/rtp_output.ts";
import { withTimeout } from "../_timeout.ts";
import type { Packet } from "../../egress/packet.ts";

/** How RTP travels. `automatic` tries UDP and falls back to TCP. */
export type RtspTransportChoice = "udp" | "tcp" | "automatic";

/** Options of {@link RtspClient}. */
export interface RtspClientOptions {
  /** @default {"automatic"} */
  transport?: RtspTransportChoice;
  /** Every request (and TCP connect) must be answered within this. @default {10000} */
  timeoutMs?: number;
  /** With `automatic`: no RTP over UDP within this after PLAY means TCP. @default {3000} */
  udpTimeoutMs?: number;
  /** Redirects followed before giving up. @default {5} */
  maxRedirects?: number;
  /** Largest reply body (the SDP) accepted. @default {1048576} */
  maxBodySize?: number;
  /** Bytes the client queues toward the server while pushing. @default {8388608} */
  writeQueueSize?: number;
}

/** A request the server refused or that could not finish. */
export class RtspClientError extends Error {
  /** The step that failed: "connect", "OPTIONS", "DESCRIBE", "SETUP", "PLAY", … */
  readonly step: string;
  /** The server's status, when it answered. */
  readonly status: number | undefined;
  constructor(step: string, message: string, status?: number) {
    super(`Cannot ${step}: ${message}`);
    this.name = "RtspClientError";
    this.step = step;
    this.status = status;
  }
}

/** What DESCRIBE told. */
export interface RtspDescription {
  sdp: Sdp;
  /** Base URL for control attributes (Content-Base, Content-Location or the request URL). */
  base: string;
  /** Tracks Sluice can read, by media index. */
  tracks: (SdpTrack | undefined)[];
}

interface Pending {
  method: string;
  resolve(r: RtspResponse): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface UdpPair {
  rtp: Deno.DatagramConn;
  rtcp: Deno.DatagramConn;
  port: number;
}

/** A set-up track: how its RTP travels and what the server answered. */
interface SetupTrack {
  trackId: number;
  transport: Transport;
  udp?: UdpPair;
  /** RTP source and highest sequence seen, for receiver reports. */
  ssrc?: number;
  seq?: number;
  cycles: number;
  packets: number;
}

/** Options of {@link RtspClient.play}. */
export interface RtspPlayOptions {
  /** Called when the session ends for any reason after PLAY. */
  onEnd?: (error: Error | undefined) => void;
}

/** One RTSP client session with one server. */
export class RtspClient {
  #url: string;
  readonly #options: Required<RtspClientOptions>;
  #user: string | undefined;
  #pass: string | undefined;
  #conn: Deno.TcpConn | undefined;
  #queue: ReaderQueue;
  #writer: BatchWriter | undefined;
  #framer: RtspFramer;
  #cseq = 0;
  readonly #pending = new Map<number, Pending>();
  #challenge: AuthChallenge | undefined;
  #nonceCount = 0;
  #public: string[] = [];
  #session: string | undefined;
  #sessionTimeoutS = 60;
  #tracks = new Map<number, SetupTrack>();
  #channels = new Map<number, { trackId: number; rtcp: boolean }>();
  #input: RtpInput | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #onEnd: ((e: Error | undefined) => void) | undefined;
  #lastRtp = 0;
  #output: RtpOutput | undefined;
  #reader: RtpReader | undefined;
  #stream: Stream | undefined;
  readonly #ourSsrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** Transport used for RTP once set up. */
  transport: "udp" | "tcp" | undefined;

  private constructor(url: string, options: RtspClientOptions) {
    const u = new URL(url);
    if (u.protocol !== "rtsp:") {
      throw new TypeError(`Cannot use URL "${url}": expected rtsp://`);
    }
    this.#user = u.username === "" ? undefined : decodeURIComponent(u.username);
    this.#pass = u.password === "" ? undefined : decodeURIComponent(u.password);
    u.username = "";
    u.password = "";
    this.#url = u.toString();
    this.#options = {
      transport: options.transport ?? "automatic",
      timeoutMs: options.timeoutMs ?? 10_000,
      udpTimeoutMs: options.udpTimeoutMs ?? 3000,
      maxRedirects: options.maxRedirects ?? 5,
      maxBodySize: options.maxBodySize ?? 1024 * 1024,
      writeQueueSize: options.writeQueueSize ?? 8 * 1024 * 1024,
    };
    this.#queue = this.#newQueue();
    this.#framer = new RtspFramer({ maxBodySize: this.#options.maxBodySize });
  }

  /** Connects to `url` and sends OPTIONS (following redirects). */
  static async open(
    url: string,
    options: RtspClientOptions = {},
  ): Promise<RtspClient> {
    const c = new RtspClient(url, options);
    try {
      await c.#connect();
      const r = await c.#request("OPTIONS", c.#url, {}, undefined, true);
      if (r.status !== 200) {
        throw new RtspClientError(
          "OPTIONS",
          `server answered ${r.status} ${r.reason}`,
          r.status,
        );
      }
      c.#public = parseMethodList(r.headers.get("Public") ?? "");
      return c;
    } catch (e) {
      c.close();
      throw e;
    }
  }

  /** The URL in use (after redirects), without credentials. */
  get url(): string {
    return this.#url;
  }

  /** Methods the server listed in Public. */
  get publicMethods(): readonly string[] {
    return this.#public;
  }

  /** DESCRIBE: the SDP, its base URL and the tracks Sluice reads. */
  async describe(): Promise<RtspDescription> {
    const r = await this.#request(
      "DESCRIBE",
      this.#url,
      { Accept: "application/sdp" },
      undefined,
      true,
    );
    if (r.status !== 200) {
      throw new RtspClientError(
        "DESCRIBE",
        `server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    let sdp: Sdp;
    try {
      sdp = parseSdp(r.body);
    } catch (e) {
      throw new RtspClientError(
        "DESCRIBE",
        `the SDP does not parse: ${e instanceof Error ? e.message : e}`,
      );
    }
    const base = baseUrl(r.headers, this.#url);
    return { sdp, base, tracks: tracksFromSdp(sdp.media) };
  }

  /**
   * SETUP of every track Sluice reads, then PLAY: frames go to `publisher`
   * until the session ends. With `automatic` transport, UDP is tried first;
   * a 461 or no RTP within `udpTimeoutMs` means TCP (on a new connection,
   * since some cameras need DESCRIBE again before switching).
   */
  async play(
    description: RtspDescription,
    publisher: Pick<Publisher, "setTrack" | "setTracks" | "writeFrame">,
    options: RtspPlayOptions = {},
  ): Promise<void> {
    const wanted = this.#options.transport;
    const usable = description.tracks
      .map((t, i) => ({ t, i }))
      .filter((x): x is { t: SdpTrack; i: number } => x.t !== undefined);
    if (usable.length === 0) {
      throw new RtspClientError("SETUP", "no track Sluice can read");
    }
    let udp = wanted !== "tcp";
    for (const { i } of usable) {
      const media = description.sdp.media[i]!;
      const control = media.control ?? "";
      // Content-Base + a=control as given: absolute, relative, `*`, or with a query (Dahua).
      const url = control === "" || control === "*"
        ? description.base
        : resolveControl(description.base, control);
      try {
        await this.#setupTrack(url, i, udp, "play");
      } catch (e) {
        if (
          udp && wanted === "automatic" && e instanceof RtspClientError &&
          e.status === 461
        ) {
          udp = false;
          await this.#setupTrack(url, i, false, "play");
        } else {
          throw e;
        }
      }
    }
    this.transport = udp ? "udp" : "tcp";
    const inputs = new Map<number, { sdp: SdpTrack; udp: boolean }>();
    for (const { t, i } of usable) {
      if (this.#tracks.has(i)) inputs.set(i, { sdp: t, udp });
    }
    this.#input = new RtpInput(publisher, inputs);
    this.#onEnd = options.onEnd;
    const r = await this.#request("PLAY", description.base, {
      Range: "npt=0.000-",
    });
    if (r.status !== 200) {
      throw new RtspClientError(
        "PLAY",
        `server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    this.#lastRtp = Date.now();
    this.#startKeepAlive();
    if (udp && wanted === "automatic") {
      const deadline = Date.now() + this.#options.udpTimeoutMs;
      while (this.#packets() === 0 && Date.now() < deadline && !this.#closed) {
        await new Promise((r) => setTimeout(r, 50));
      }
      if (this.#packets() === 0 && !this.#closed) {
        throw new RtspClientError("PLAY", "no RTP arrived over UDP", 0);
      }
    }
  }

  /**
   * ANNOUNCE the stream's tracks, SETUP each for recording, RECORD, then
   * send the stream's RTP (packetized once for all RTSP readers) until closed.
   */
  async record(
    stream: Stream,
    options: { onEnd?: (e: Error | undefined) => void } = {},
  ): Promise<void> {
    const formats = describeTracks(stream.tracks);
    if (formats.length === 0) {
      throw new RtspClientError(
        "ANNOUNCE",
        "the stream has no track RTP can carry",
      );
    }
    const sdp = stringifySdp(describeSession(formats));
    const a = await this.#request("ANNOUNCE", this.#url, {
      "Content-Type": "application/sdp",
    }, sdp);
    if (a.status !== 200) {
      throw new RtspClientError(
        "ANNOUNCE",
        `server answered ${a.status} ${a.reason}`,
        a.status,
      );
    }
    let udp = this.#options.transport === "udp";
    const base = this.#url.endsWith("/") ? this.#url : `${this.#url}/`;
    for (const f of formats) {
      const url = resolveControl(base, f.control);
      try {
        await this.#setupTrack(url, f.track.id, udp, "record");
      } catch (e) {
        if (
          udp && e instanceof RtspClientError && e.status === 461 &&
          this.#options.transport !== "udp"
        ) {
          udp = false;
          await this.#setupTrack(url, f.track.id, false, "record");
        } else {
          throw e;
        }
      }
    }
    this.transport = udp ? "udp" : "tcp";
    const r = await this.#request("RECORD", this.#url, { Range: "npt=0.000-" });
    if (r.status !== 200) {
      throw new RtspClientError(
        "RECORD",
        `server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    this.#onEnd = options.onEnd;
    this.#startKeepAlive();
    this.#stream = stream;
    this.#output = stream.output("rtsp", () => new RtpOutput());
    this.#reader = {
      offer: (trackId, packet, rtcp) => this.#sendMedia(trackId, packet, rtcp),
      onEnd: () => this.#end(new Error("the stream ended")),
    };
    this.#output.addReader(this.#reader, new Set(this.#tracks.keys()));
    this.#writer?.kick(true);
  }

  /** Whether the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** TEARDOWN (not waited for) and close. */
  close(): void {
    if (this.#closed) return;
    if (this.#session !== undefined && this.#conn !== undefined) {
      this.#send("TEARDOWN", this.#url, {});
    }
    this.#end(undefined);
  }

  // ---- connection ----

  #newQueue(): ReaderQueue {
    return new ReaderQueue({
      maxBytes: this.#options.writeQueueSize,
      onReady: () => this.#writer?.kick(true),
    });
  }

  async #connect(): Promise<void> {
    const u = new URL(this.#url);
    const port = u.port === "" ? 554 : Number(u.port);
    const hostname = u.hostname.replace(/^\[|\]$/g, "");
    try {
      this.#conn = await withTimeout(
        connectTcp(hostname, port),
        this.#options.timeoutMs,
        "connect",
      );
    } catch (e) {
      throw new RtspClientError(
        "connect",
        `${hostname}:${port}: ${e instanceof Error ? e.message : e}`,
      );
    }
    const conn = this.#conn;
    this.#writer = new BatchWriter(conn, () => this.#queue.take(), {
      onError: (e) => this.#end(e instanceof Error ? e : new Error(String(e))),
    });
    this.#readLoop(conn);
  }

  async #readLoop(conn: Deno.TcpConn): Promise<void> {
    const framer = this.#framer;
    try {
      for (;;) {
        const buf = new Uint8Array(64 * 1024);
        const n = await conn.read(buf);
        if (n === null) break;
        framer.push(buf.subarray(0, n), {
          enqueue: (m) => {
            if (m.kind === "response") {
              const cseq = Number(m.headers.get("CSeq"));
              const p = this.#pending.get(cseq);
              if (p !== undefined) {
                this.#pending.delete(cseq);
                clearTimeout(p.timer);
                p.resolve(m);
              }
            } else if (m.kind === "interleaved") {
              const route = this.#channels.get(m.channel);
              if (route !== undefined) {
                this.#rtpIn(route.trackId, m.payload, route.rtcp);
              }
            }
            // requests from the server (ANNOUNCE, GET_PARAMETER) need no answer for live use
          },
        });
      }
      if (this.#conn === conn) {
        this.#end(new Error("the server closed the connection"));
      }
    } catch (e) {
      if (this.#conn === conn) {
        this.#end(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Sends a request and waits for its response, answering 401 and following redirects. */
  async #request(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
    redirectable = false,
  ): Promise<RtspResponse> {
    let redirects = 0;
    let authTries = 0;
    for (;;) {
      const r = await this.#exchange(method, url, headers, body);
      if (r.status === 401 && authTries < 2 && this.#user !== undefined) {
        const challenges = r.headers.getAll("WWW-Authenticate").flatMap((v) => {
          try {
            return parseWwwAuthenticate(v);
          } catch {
            return [];
          }
        });
        const digest = challenges.find((c) => c.scheme === "Digest");
        const next = digest ?? challenges.find((c) => c.scheme === "Basic");
        if (next === undefined) {
          throw new RtspClientError(
            method,
            "401 without a challenge Sluice can answer",
            401,
          );
        }
        const stale = next.scheme === "Digest" && next.stale === true;
        if (authTries > 0 && !stale) {
          throw new RtspClientError(method, "wrong user name or password", 401);
        }
        this.#challenge = next;
        this.#nonceCount = 0;
        authTries++;
        continue;
      }
      if (r.status === 401) {
        throw new RtspClientError(
          method,
          this.#user === undefined
            ? "credentials required"
            : "wrong user name or password",
          401,
        );
      }
      if (redirectable && [301, 302, 303, 307].includes(r.status)) {
        const location = r.headers.get("Location");
        if (location === undefined) {
          throw new RtspClientError(
            method,
            `${r.status} without Location`,
            r.status,
          );
        }
        if (++redirects > this.#options.maxRedirects) {
          throw new RtspClientError(
            method,
            `more than ${this.#options.maxRedirects} redirects`,
            r.status,
          );
        }
        await this.#redirect(location);
        url = this.#url;
        continue;
      }
      if (this.#session === undefined) {
        const s = r.headers.get("Session");
        if (s !== undefined) {
          try {
            const parsed = parseSession(s);
            this.#session = parsed.id;
            if (parsed.timeout !== undefined && parsed.timeout > 0) {
              this.#sessionTimeoutS = parsed.timeout;
            }
          } catch {
            // a Session we cannot read: requests go without it
          }
        }
      }
      return r;
    }
  }

  async #redirect(location: string): Promise<void> {
    const next = new URL(location, this.#url);
    if (next.protocol !== "rtsp:") {
      throw new RtspClientError("redirect", `to "${location}": not rtsp://`);
    }
    if (next.username !== "") {
      this.#user = decodeURIComponent(next.username);
      this.#pass = decodeURIComponent(next.password);
      next.username = "";
      next.password = "";
    }
    this.#disconnect();
    this.#url = next.toString();
    await this.#connect();
  }

  #exchange(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<RtspResponse> {
    if (this.#closed) {
      return Promise.reject(
        new RtspClientError(method, "the client is closed"),
      );
    }
    const cseq = this.#send(method, url, headers, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cseq);
        reject(
          new RtspClientError(
            method,
            `no answer within ${this.#options.timeoutMs} ms`,
          ),
        );
      }, this.#options.timeoutMs);
      this.#pending.set(cseq, { method, resolve, reject, timer });
    });
  }

  /** Queues a request; returns its CSeq. */
  #send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): number {
    const cseq = ++this.#cseq;
    const all: [string, string][] = [["CSeq", String(cseq)], [
      "User-Agent",
      "Sluice",
    ]];
    if (this.#session !== undefined) all.push(["Session", this.#session]);
    const auth = this.#authorization(method, url);
    if (auth !== undefined) all.push(["Authorization", auth]);
    all.push(...Object.entries(headers));
    this.#queue.offer({
      bytes: encodeRequest({ method, url, headers: all, body }),
      kind: PACKET_KIND.CONTROL,
    });
    return cseq;
  }

  /** Digest is recomputed for every method and URI; Basic is the same each time. */
  #authorization(method: string, uri: string): string | undefined {
    const c = this.#challenge;
    if (c === undefined || this.#user === undefined) return undefined;
    if (c.scheme === "Basic") {
      return stringifyAuthorization({
        scheme: "Basic",
        username: this.#user,
        password: this.#pass ?? "",
      });
    }
    const cnonce = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    return stringifyAuthorization(
      digestAuthorization(c, {
        username: this.#user,
        password: this.#pass ?? "",
        method,
        uri,
        cnonce,
        count: ++this.#nonceCount,
      }),
    );
  }

  // ---- setup ----

  async #setupTrack(
    url: string,
    trackId: number,
    udp: boolean,
    mode: "play" | "record",
  ): Promise<void> {
    let pair: UdpPair | undefined;
    let request: Transport;
    if (udp) {
      pair = bindPair();
      request = {
        lowerTransport: "UDP",
        delivery: "unicast",
        clientPort: { rtp: pair.port, rtcp: pair.port + 1 },
      };
    } else {
      const ch = this.#tracks.size * 2;
      request = {
        lowerTransport: "TCP",
        delivery: "unicast",
        interleaved: { rtp: ch, rtcp: ch + 1 },
      };
    }
    // No mode=play: some servers refuse it (INTEROP.md); mode=record where it is needed.
    if (mode === "record") request.mode = "record";
    let r: RtspResponse;
    try {
      r = await this.#request("SETUP", url, {
        Transport: stringifyTransport(request),
      });
    } catch (e) {
      closePair(pair);
      throw e;
    }
    if (r.status !== 200) {
      closePair(pair);
      throw new RtspClientError(
        "SETUP",
        `${url}: server answered ${r.status} ${r.reason}`,
        r.status,
      );
    }
    let reply: Transport = request;
    try {
      reply = parseTransport(r.headers.get("Transport") ?? "")[0] ?? request;
    } catch {
      // servers that answer a malformed Transport: keep what we asked for
    }
    const track: SetupTrack = {
      trackId,
      transport: reply,
      udp: pair,
      cycles: 0,
      packets: 0,
    };
    this.#tracks.set(trackId, track);
    if (udp) {
      this.#udpLoop(track, pair!.rtp, false);
      this.#udpLoop(track, pair!.rtcp, true);
    } else {
      // Some servers leave interleaved= out of the reply (Dahua): the channels asked for stand.
      const ch = reply.interleaved ?? request.interleaved!;
      this.#channels.set(ch.rtp, { trackId, rtcp: false });
      this.#channels.set(ch.rtcp ?? ch.rtp + 1, { trackId, rtcp: true });
    }
  }

  #udpLoop(
    track: SetupTrack,
    socket: Deno.DatagramConn,
    rtcp: boolean,
  ): Promise<void> {
    const server = new URL(this.#url).hostname.replace(/^\[|\]$/g, "");
    return receiveDatagrams(socket, (data, from) => {
      // Media only from the server's address (another host cannot inject packets).
      if (
        from.hostname !== server &&
        !(server === "localhost" && from.hostname === "127.0.0.1")
      ) return;
      this.#rtpIn(track.trackId, data, rtcp);
    });
  }

  #rtpIn(trackId: number, data: Uint8Array, rtcp: boolean): void {
    const input = this.#input;
    if (input === undefined) return;
    if (rtcp) {
      // A BYE means the source is gone (RFC 3550 §6.6): end now, not after the silence timeout.
      if (isBye(data)) {
        return this.#end(
          new RtspClientError("PLAY", "the server sent RTCP BYE"),
        );
      }
      return input.rtcp(trackId, data);
    }
    const t = this.#tracks.get(trackId);
    if (t !== undefined && data.length >= 12) {
      const seq = (data[2]! << 8) | data[3]!;
      if (t.seq !== undefined && seq < t.seq && t.seq - seq > 0x8000) {
        t.cycles++;
      }
      t.seq = seq;
      t.ssrc =
        ((data[8]! << 24) | (data[9]! << 16) | (data[10]! << 8) | data[11]!) >>>
        0;
      t.packets++;
    }
    this.#lastRtp = Date.now();
    input.rtp(trackId, data.slice());
  }

  #packets(): number {
    let n = 0;
    for (const t of this.#tracks.values()) n += t.packets;
    return n;
  }

  // ---- while playing or recording ----

  /**
   * Keep-alive at half the session timeout: GET_PARAMETER when Public lists
   * it, else OPTIONS, to the base URL, not waited for (some cameras never
   * answer it). Receiver reports go out every 5 s so cameras see us.
   */
  #startKeepAlive(): void {
    const method = this.#public.includes("GET_PARAMETER")
      ? "GET_PARAMETER"
      : "OPTIONS";
    const everyMs = Math.max(1000, (this.#sessionTimeoutS * 1000) / 2);
    let lastKeepAlive = Date.now();
    this.#keepAlive = setInterval(() => {
      if (this.#closed) return;
      const now = Date.now();
      if (now - lastKeepAlive >= everyMs) {
        lastKeepAlive = now;
        this.#send(method, this.#url, {});
      }
      if (this.#input !== undefined) {
        this.#receiverReports();
        if (now - this.#lastRtp > Math.max(this.#options.timeoutMs, 5000)) {
          this.#end(
            new RtspClientError("PLAY", `no RTP for ${now - this.#lastRtp} ms`),
          );
        }
      }
    }, Math.min(5000, everyMs));
  }

  #receiverReports(): void {
    for (const t of this.#tracks.values()) {
      if (t.ssrc === undefined || t.seq === undefined) continue;
      const bytes = encodeRtcp([{
        kind: "rr",
        ssrc: this.#ourSsrc,
        reports: [{
          ssrc: t.ssrc,
          fractionLost: 0,
          cumulativeLost: 0,
          highestSequence: ((t.cycles << 16) | t.seq) >>> 0,
          jitter: 0,
          lastSenderReport: 0,
          delaySinceLastSenderReport: 0,
        }],
      }]);
      this.#sendMedia(t.trackId, { bytes, kind: PACKET_KIND.CONTROL }, true);
    }
  }

  /** RTP or RTCP of a set-up track to the server: interleaved on the connection, or UDP. */
  #sendMedia(trackId: number, packet: Packet, rtcp: boolean): void {
    const t = this.#tracks.get(trackId);
    if (t === undefined || this.#closed) return;
    if (t.udp !== undefined) {
      const port = rtcp
        ? t.transport.serverPort?.rtcp
        : t.transport.serverPort?.rtp;
      if (port === undefined) return;
      const hostname = new URL(this.#url).hostname.replace(/^\[|\]$/g, "");
      (rtcp ? t.udp.rtcp : t.udp.rtp).send(packet.bytes, {
        transport: "udp",
        hostname,
        port,
      }).catch(() => {});
      return;
    }
    const ch = t.transport.interleaved;
    if (ch === undefined) return;
    this.#queue.offer(
      packet,
      interleavedHeader(
        rtcp ? (ch.rtcp ?? ch.rtp + 1) : ch.rtp,
        packet.bytes.length,
      ),
    );
  }

  #disconnect(): void {
    if (this.#conn !== undefined) closeQuietly(this.#conn);
    this.#conn = undefined;
    this.#queue.close();
    this.#queue = this.#newQueue();
    this.#framer = new RtspFramer({ maxBodySize: this.#options.maxBodySize });
  }

  #end(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      // Every failure says which step it stopped: "Cannot DESCRIBE: the server closed the connection".
      p.reject(
        error instanceof RtspClientError || error instanceof ProtocolError
          ? error
          : new RtspClientError(
            p.method,
            error?.message ?? "the client was closed",
          ),
      );
    }
    this.#pending.clear();
    if (this.#reader !== undefined) {
      this.#output?.removeReader(this.#reader);
      this.#stream?.pruneOutputs();
    }
    for (const t of this.#tracks.values()) closePair(t.udp);
    // Let a queued TEARDOWN go out before the socket closes.
    const conn = this.#conn;
    const writer = this.#writer;
    this.#conn = undefined;
    if (conn !== undefined) {
      Promise.race([writer?.drained(), new Promise((r) => setTimeout(r, 200))])
        .finally(() => closeQuietly(conn));
    }
    this.#onEnd?.(error);
  }
}

/** Whether a compound RTCP packet holds a BYE. */
function isBye(data: Uint8Array): boolean {
  try {
    return decodeRtcp(data).some((p) => p.kind === "bye");
  } catch {
    return false;
  }
}

/** Binds an even RTP port and the odd RTCP port after it. */
function bindPair(): UdpPair {
  for (let i = 0; i < 50; i++) {
    const probe = listenUdp("0.0.0.0", 0);
    const port = (probe.addr as Deno.NetAddr).port;
    if (port % 2 === 0 && port < 65535) {
      try {
        const rtcp = listenUdp("0.0.0.0", port + 1);
        return { rtp: probe, rtcp, port };
      } catch {
        // the odd port is taken: try another pair
      }
    }
    probe.close();
  }
  throw new RtspClientError("SETUP", "no free even/odd UDP port pair");
}

function closePair(pair: UdpPair | undefined): void {
  if (pair === undefined) return;
  closeQuietly(pair.rtp);
  closeQuietly(pair.rtcp);
}
