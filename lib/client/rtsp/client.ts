/**
 * An RTSP client: pulls a camera or server (OPTIONS → DESCRIBE → SETUP →
 * PLAY) into a publisher, or pushes a stream (ANNOUNCE → SETUP → RECORD),
 * over UDP or TCP interleaved, with keep-alives and receiver reports.
 * Requests, auth and redirects are its connection's (`connection.ts`), the
 * tracks' RTP and RTCP its media's (`media.ts`); relays are built from it.
 *
 * @module
 */

import {
  type RtpOutput,
  type RtpReader,
  rtspOutput,
} from "../../egress/rtp_output.ts";
import { withSrtpKeys } from "../../egress/rtp_srtp.ts";
import {
  describeSession,
  describeTracks,
  type SdpTrack,
  tracksFromSdp,
} from "../../format/tracks.ts";
import type { Publisher } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import { parseMethodList } from "../../rtsp/headers/mod.ts";
import { baseUrl, resolveControl } from "../../rtsp/url.ts";
import { parseSdp } from "../../sdp/parse.ts";
import { stringifySdp } from "../../sdp/stringify.ts";
import type { Sdp } from "../../sdp/types.ts";
import { RtspConnection } from "./connection.ts";
import { RtspClientError } from "./error.ts";
import { RtspClientMedia } from "./media.ts";
import type {
  RtspClientOptions,
  RtspDescription,
  RtspPlayOptions,
} from "./options.ts";
import { mediaKey, pullSrtp } from "./srtp.ts";

export { RtspClientError } from "./error.ts";
export type {
  RtspClientOptions,
  RtspDescription,
  RtspPlayOptions,
  RtspTransportChoice,
} from "./options.ts";
export type { RtspSrtpChoice } from "./srtp.ts";

/** One RTSP client session with one server. */
export class RtspClient {
  readonly #options: Required<Omit<RtspClientOptions, "conn">>;
  readonly #connection: RtspConnection;
  #public: string[] = [];
  readonly #media: RtspClientMedia;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #onEnd: ((e: Error | undefined) => void) | undefined;
  #output: RtpOutput | undefined;
  #reader: RtpReader | undefined;
  #stream: Stream | undefined;
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
      onInterleaved: (channel, payload) =>
        this.#media.interleaved(channel, payload),
      onClosed: (error) => this.#end(error),
    });
    this.#media = new RtspClientMedia(this.#connection, {
      multicast: this.#options.transport === "multicast",
      onBye: (error) => this.#end(error),
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
      if (key !== undefined) this.#media.pullSrtp(i, pullSrtp(key));
      udp = await this.#media.setup(
        url,
        i,
        udp,
        "play",
        wanted === "automatic",
      );
    }
    this.transport = wanted === "multicast" ? "multicast" : udp ? "udp" : "tcp";
    this.#media.play(publisher, usable, udp);
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
    this.#media.lastRtpMs = Date.now();
    this.#startKeepAlive();
    if (udp && wanted === "automatic") {
      const deadline = Date.now() + this.#options.udpTimeoutMs;
      while (
        this.#media.packets() === 0 && Date.now() < deadline && !this.#closed
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      if (this.#media.packets() === 0 && !this.#closed) {
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
      udp = await this.#media.setup(
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
      offer: (trackId, packet, rtcp) => this.#media.send(trackId, packet, rtcp),
      onEnd: () => this.#end(new Error("the stream ended")),
    };
    this.#output.addReader(this.#reader, this.#media.trackIds);
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
      if (this.#media.playing) {
        this.#media.receiverReports();
        const lastRtpMs = this.#media.lastRtpMs;
        if (now - lastRtpMs > Math.max(this.#options.timeoutMs, 5000)) {
          this.#end(
            new RtspClientError("PLAY", `no RTP for ${now - lastRtpMs} ms`),
          );
        }
      }
    }, Math.min(5000, everyMs));
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
    this.#media.close();
    this.#onEnd?.(error);
  }
}
