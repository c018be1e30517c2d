/**
 * An RTSP client: pulls a camera or server (OPTIONS → DESCRIBE → SETUP →
 * PLAY) into a publisher, or pushes a stream (ANNOUNCE → SETUP → RECORD),
 * over UDP or TCP interleaved, with keep-alives and receiver reports.
 * Requests, auth and redirects are its connection's; relays are built from
 * it.
 *
 * @module
 */

import { type Packet, PACKET_KIND } from "../../egress/packet.ts";
import {
  type RtpOutput,
  type RtpReader,
  rtspOutput,
} from "../../egress/rtp_output.ts";
import { withSrtpKeys } from "../../egress/rtp_srtp.ts";
import type { SrtpContext } from "../../srtp/context.ts";
import {
  mediaKey,
  type PullSrtp,
  pullSrtp,
  type RtspSrtpChoice,
} from "./srtp.ts";
import {
  describeSession,
  describeTracks,
  type SdpTrack,
  tracksFromSdp,
} from "../../format/tracks.ts";
import type { Publisher } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import { RtpInput } from "../../ingest/rtp_input.ts";
import type { StreamConn } from "../../net/tcp.ts";
import { receiveDatagrams } from "../../net/udp.ts";
import { decodeRtcp } from "../../rtp/rtcp.ts";
import { parseMethodList } from "../../rtsp/headers/mod.ts";
import { interleavedHeader } from "../../rtsp/interleaved.ts";
import { baseUrl, resolveControl } from "../../rtsp/url.ts";
import { parseSdp } from "../../sdp/parse.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import type { Sdp } from "../../sdp/types.ts";
import { RtspClientError, RtspConnection } from "./connection.ts";
import {
  closePair,
  countRtp,
  receiverReport,
  type SetupTrack,
  setupTrack,
  udpDestination,
} from "./setup.ts";

export { RtspClientError } from "./connection.ts";
export type { RtspSrtpChoice } from "./srtp.ts";

/**
 * How RTP travels. `automatic` tries UDP and falls back to TCP; `multicast`
 * joins the groups the server chooses.
 */
export type RtspTransportChoice = "udp" | "tcp" | "automatic" | "multicast";

/** Options of {@link RtspClient}. */
export interface RtspClientOptions {
  /** @default {"automatic"}: UDP falling back to TCP; TCP for `rtsps://` */
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
  /**
   * SRTP (RTP/SAVP): `automatic` pulls with it when the server's SDP gives
   * a key (`a=key-mgmt:mikey`, as RTSPS servers do) and pushes with it to
   * `rtsps://` and `rtspsh://`; `always` requires it; `never` sets up RTP/AVP. Multicast
   * pulls are plain RTP/AVP. @default {"automatic"}
   */
  srtp?: RtspSrtpChoice;
  /** `rtsps://`, `rtspsh://`: PEM certificates trusted besides the system's roots (a private CA, a self-signed server). */
  caCerts?: string[];
  /** A connection already open to the server, used instead of connecting (a reused REGISTER connection). */
  conn?: StreamConn;
}

/** What DESCRIBE told. */
export interface RtspDescription {
  sdp: Sdp;
  /** Base URL for control attributes (Content-Base, Content-Location or the request URL). */
  base: string;
  /** Tracks Sluice can read, by media index. */
  tracks: (SdpTrack | undefined)[];
}

/** Options of {@link RtspClient.play}. */
export interface RtspPlayOptions {
  /** Called when the session ends for any reason after PLAY. */
  onEnd?: (error: Error | undefined) => void;
}

/** One RTSP client session with one server. */
export class RtspClient {
  readonly #options: Required<Omit<RtspClientOptions, "conn">>;
  readonly #connection: RtspConnection;
  #public: string[] = [];
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
  /** Pulled SRTP tracks: their RTP in, our receiver reports out. */
  #srtp = new Map<number, PullSrtp>();
  /** Transport used for RTP once set up. */
  transport: "udp" | "tcp" | "multicast" | undefined;

  private constructor(url: string, options: RtspClientOptions) {
    const transport = options.transport ?? "automatic";
    this.#options = {
      // RTSPS: RTP stays inside the TLS session, interleaved (as ffmpeg does);
      // plain RTP over UDP would leave it in the clear.
      transport: transport === "automatic" && /^rtsps:/i.test(url)
        ? "tcp"
        : transport,
      caCerts: options.caCerts ?? [],
      timeoutMs: options.timeoutMs ?? 10_000,
      udpTimeoutMs: options.udpTimeoutMs ?? 3000,
      maxRedirects: options.maxRedirects ?? 5,
      maxBodySize: options.maxBodySize ?? 1024 * 1024,
      writeQueueSize: options.writeQueueSize ?? 8 * 1024 * 1024,
      srtp: options.srtp ?? "automatic",
    };
    this.#connection = new RtspConnection(url, {
      ...this.#options,
      conn: options.conn,
      onInterleaved: (channel, payload) => {
        const route = this.#channels.get(channel);
        if (route !== undefined) {
          this.#rtpIn(route.trackId, payload, route.rtcp);
        }
      },
      onClosed: (error) => this.#end(error),
    });
  }

  /** Connects to `url` and sends OPTIONS (following redirects). */
  static async open(
    url: string,
    options: RtspClientOptions = {},
  ): Promise<RtspClient> {
    const c = new RtspClient(url, options);
    try {
      await c.#connection.connect();
      const r = await c.#connection.request(
        "OPTIONS",
        c.url,
        {},
        undefined,
        true,
      );
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
    return this.#connection.url;
  }

  /** Methods the server listed in Public. */
  get publicMethods(): readonly string[] {
    return this.#public;
  }

  /** DESCRIBE: the SDP, its base URL and the tracks Sluice reads. */
  async describe(): Promise<RtspDescription> {
    const r = await this.#connection.request(
      "DESCRIBE",
      this.url,
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
    const base = baseUrl(r.headers, this.url);
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
    // A tunnel has no UDP: RTP goes interleaved on it.
    const wanted = this.#connection.tunnelled ? "tcp" : this.#options.transport;
    const usable = description.tracks
      .map((t, i) => ({ t, i }))
      .filter((x): x is { t: SdpTrack; i: number } => x.t !== undefined);
    if (usable.length === 0) {
      throw new RtspClientError("SETUP", "no track Sluice can read");
    }
    let udp = wanted !== "tcp";
    const choice = this.#options.srtp;
    for (const { i } of usable) {
      const media = description.sdp.media[i]!;
      const control = media.control ?? "";
      // Content-Base + a=control as given: absolute, relative, `*`, or with a query (Dahua).
      const url = control === "" || control === "*"
        ? description.base
        : resolveControl(description.base, control);
      // Multicast groups carry plain RTP/AVP: Sluice's server answers 461 to RTP/SAVP there.
      const key = choice === "never" || wanted === "multicast"
        ? undefined
        : mediaKey(description.sdp, i, choice === "always");
      if (key === undefined && choice === "always") {
        throw new RtspClientError(
          "SETUP",
          "the server's SDP gives no SRTP key",
        );
      }
      if (key !== undefined) this.#srtp.set(i, pullSrtp(key));
      udp = await this.#setup(url, i, udp, "play", wanted === "automatic");
    }
    this.transport = wanted === "multicast" ? "multicast" : udp ? "udp" : "tcp";
    const inputs = new Map<
      number,
      { sdp: SdpTrack; udp: boolean; srtp?: SrtpContext }
    >();
    for (const { t, i } of usable) {
      if (!this.#tracks.has(i)) continue;
      inputs.set(i, { sdp: t, udp, srtp: this.#srtp.get(i)?.input });
    }
    this.#input = new RtpInput(publisher, inputs);
    this.#onEnd = options.onEnd;
    const r = await this.#connection.request("PLAY", description.base, {
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
    const choice = this.#options.srtp;
    const srtp = choice === "always" ||
      (choice === "automatic" && /^rtspsh?:/i.test(this.url));
    // The stream's RTP output is made now so that its keys (the stream's)
    // go in the ANNOUNCE; our packets are then the ones every SRTP reader of
    // the stream shares, protected once.
    const output = rtspOutput(stream);
    const described = srtp
      ? withSrtpKeys(formats, (id) => output.srtpOffer(id))
      : formats;
    const sdp = stringifySdp(describeSession(described));
    const a = await this.#connection.request("ANNOUNCE", this.url, {
      "Content-Type": "application/sdp",
    }, sdp);
    if (a.status !== 200) {
      throw new RtspClientError(
        "ANNOUNCE",
        `server answered ${a.status} ${a.reason}`,
        a.status,
      );
    }
    const wanted = this.#connection.tunnelled ? "tcp" : this.#options.transport;
    let udp = wanted === "udp";
    const base = this.url.endsWith("/") ? this.url : `${this.url}/`;
    for (const f of formats) {
      const url = resolveControl(base, f.control);
      udp = await this.#setup(
        url,
        f.track.id,
        udp,
        "record",
        wanted !== "udp",
        srtp,
      );
    }
    this.transport = udp ? "udp" : "tcp";
    const r = await this.#connection.request("RECORD", this.url, {
      Range: "npt=0.000-",
    });
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
    this.#output = rtspOutput(stream);
    this.#reader = {
      srtp,
      offer: (trackId, packet, rtcp) => this.#sendMedia(trackId, packet, rtcp),
      onEnd: () => this.#end(new Error("the stream ended")),
    };
    this.#output.addReader(this.#reader, new Set(this.#tracks.keys()));
    this.#connection.kick();
  }

  /** Whether the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** TEARDOWN (not waited for) and close. */
  close(): void {
    if (this.#closed) return;
    if (this.#connection.hasSession) {
      this.#connection.send("TEARDOWN", this.url, {});
    }
    this.#end(undefined);
  }

  /**
   * SETUP of one track, over UDP when `udp`; a 461 to UDP falls back to
   * TCP when `fallback`. Returns whether the track went over UDP.
   */
  async #setup(
    url: string,
    trackId: number,
    udp: boolean,
    mode: "play" | "record",
    fallback: boolean,
    srtp = this.#srtp.has(trackId),
  ): Promise<boolean> {
    const channel = this.#tracks.size * 2;
    let track: SetupTrack;
    try {
      track = await setupTrack(this.#connection, url, {
        trackId,
        udp,
        mode,
        channel,
        srtp,
        multicast: this.#options.transport === "multicast" && mode === "play",
      });
    } catch (e) {
      if (
        !udp || !fallback || !(e instanceof RtspClientError) ||
        e.status !== 461
      ) throw e;
      udp = false;
      track = await setupTrack(this.#connection, url, {
        trackId,
        udp,
        mode,
        channel,
        srtp,
      });
    }
    this.#tracks.set(trackId, track);
    if (track.udp !== undefined) {
      this.#udpLoop(track, track.udp.rtp, false);
      this.#udpLoop(track, track.udp.rtcp, true);
    } else if (track.channels !== undefined) {
      this.#channels.set(track.channels.rtp, { trackId, rtcp: false });
      this.#channels.set(track.channels.rtcp, { trackId, rtcp: true });
    }
    return udp;
  }

  #udpLoop(
    track: SetupTrack,
    socket: Deno.DatagramConn,
    rtcp: boolean,
  ): Promise<void> {
    const server = this.#connection.hostname;
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
    // The header of SRTP is RTP's: counted as it comes, checked by the input.
    if (t !== undefined) countRtp(t, data);
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
    const everyMs = Math.max(
      1000,
      (this.#connection.sessionTimeoutS * 1000) / 2,
    );
    let lastKeepAlive = Date.now();
    this.#keepAlive = setInterval(() => {
      if (this.#closed) return;
      const now = Date.now();
      if (now - lastKeepAlive >= everyMs) {
        lastKeepAlive = now;
        this.#connection.send(method, this.url, {});
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
      const report = receiverReport(t, this.#ourSsrc);
      if (report === undefined) continue;
      const srtp = this.#srtp.get(t.trackId);
      const bytes = srtp === undefined
        ? report
        : srtp.reports.protectRtcp(report);
      this.#sendMedia(t.trackId, { bytes, kind: PACKET_KIND.CONTROL }, true);
    }
  }

  /** RTP or RTCP of a set-up track to the server: interleaved on the connection, or UDP. */
  #sendMedia(trackId: number, packet: Packet, rtcp: boolean): void {
    const t = this.#tracks.get(trackId);
    if (t === undefined || this.#closed) return;
    if (t.udp !== undefined) {
      const to = udpDestination(t, this.#connection.hostname, rtcp);
      if (to === undefined) return;
      (rtcp ? t.udp.rtcp : t.udp.rtp).send(packet.bytes, to).catch(() => {});
      return;
    }
    const ch = t.channels;
    if (ch === undefined) return;
    this.#connection.offer(
      packet,
      interleavedHeader(rtcp ? ch.rtcp : ch.rtp, packet.bytes.length),
    );
  }

  #end(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#connection.close(error);
    if (this.#reader !== undefined) {
      this.#output?.removeReader(this.#reader);
      this.#stream?.pruneOutputs();
    }
    for (const t of this.#tracks.values()) closePair(t.udp);
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
