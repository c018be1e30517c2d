/**
 * A scripted RTSP camera on 127.0.0.1 for the client's quirk tests: it
 * answers OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER and TEARDOWN the way
 * a test tells it to (odd Content-Base, Transport replies without
 * `interleaved=`, other `client_port`s, header case and order, RTP before the
 * PLAY reply …), streams RTP from the captures in `tests/testdata/rtp/` and
 * `tests/testdata/rtp_audio/` (looped, renumbered, paced by their
 * timestamps), and records every request it received.
 *
 * ```ts ignore
 * await using cam = FakeCamera.start({ tracks: ["h264", "aac"] });
 * // … point a client at cam.url, then look at cam.requests
 * ```
 */
import { concat } from "@std/bytes";
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import {
  parseTransport,
  type Transport,
} from "../../lib/rtsp/headers/transport.ts";
import type { RtspFramed, RtspHeaders } from "../../lib/rtsp/message.ts";
import { readCapture } from "../rtp/_capture.ts";

/** A medium the camera can send. */
export type CameraTrack = "h264" | "aac";

/** A request as the camera received it. */
export interface CameraRequest {
  method: string;
  url: string;
  headers: RtspHeaders;
  /** Milliseconds since the camera started. */
  atMs: number;
  /** Which TCP connection (1, 2, …) sent it. */
  connection: number;
}

/** What the camera knows when it answers a SETUP. */
export interface SetupContext {
  /** Index of the track this SETUP was given (SETUPs are taken in order). */
  track: number;
  /** The Transport the client asked for (its first spec). */
  asked: Transport;
  /** The camera's UDP ports for this track, when asked for UDP. */
  serverPort?: { rtp: number; rtcp: number };
  /** The SSRC the camera sends this track with. */
  ssrc: number;
}

/** Options of {@link FakeCamera.start}. */
export interface FakeCameraOptions {
  /** Path of the stream URL. @default {"/stream"} */
  path?: string;
  /** Media in SDP order. @default {["h264"]} */
  tracks?: CameraTrack[];
  /** The SDP, given the stream URL. @default one built from `tracks`, controls `trackID=N` */
  sdp?: (url: string) => string;
  /** With the default SDP: put `sprop-parameter-sets` in the fmtp. @default {true} */
  spropParameterSets?: boolean;
  /** With the default SDP: each media's `a=control`, given the stream URL. @default `trackID=N` */
  controls?: (url: string) => string[];
  /** Content-Base of the DESCRIBE reply, given the stream URL; `undefined` sends none. @default url + "/" */
  contentBase?: (url: string) => string | undefined;
  /** OPTIONS `Public`. @default {"OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"} */
  public?: string;
  /** `timeout=` of the Session header, in seconds. @default {60} */
  sessionTimeoutS?: number;
  /** The Transport of a SETUP reply. @default what was asked, with server ports for UDP */
  setupTransport?: (ctx: SetupContext) => string;
  /** Send RTP for a while before the PLAY reply (some cameras start at once). @default {false} */
  rtpBeforePlayReply?: boolean;
  /** Answer 461 to a SETUP asking for UDP (a server that only does TCP). */
  refuseUdp?: boolean;
  /** Accept UDP but never send a datagram (a firewall that blocks UDP). */
  blockUdp?: boolean;
  /** Never answer GET_PARAMETER and OPTIONS after PLAY (some cameras don't). @default {false} */
  ignoreKeepAlive?: boolean;
  /** Rewrites each reply's header lines (case, order) before they go out. */
  headers?: (lines: [string, string][]) => [string, string][];
}

/** Default SPS/PPS of `h264_bf0.rtp` (its README), 320×240 High. */
const SPROP = "Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA=";

interface Source {
  clockRate: number;
  packets: Uint8Array[];
  /** RTP timestamps relative to the first packet. */
  offsets: number[];
  /** Ticks one pass of the capture lasts. */
  span: number;
}

const SOURCES: Record<CameraTrack, () => Source> = {
  h264: () => source(readCapture("h264_bf0.rtp"), 90000),
  aac: () => source(readAudioCapture("aac_hbr_44k_stereo.rtp"), 44100),
};

/** Packets of a capture with their timestamps relative to the first. */
function source(packets: Uint8Array[], clockRate: number): Source {
  const ts = packets.map((p) =>
    new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(4)
  );
  const offsets = ts.map((t) => (t - ts[0]!) >>> 0);
  const last = offsets.at(-1)!;
  const before = offsets.findLast((o) => o < last) ?? 0;
  return { clockRate, packets, offsets, span: last + (last - before) };
}

/** RTP packets (channel 0) of a `tests/testdata/rtp_audio/` capture: channel, 16-bit length, datagram. */
function readAudioCapture(name: string): Uint8Array[] {
  const bytes = Deno.readFileSync(
    new URL(`../testdata/rtp_audio/${name}`, import.meta.url),
  );
  const out: Uint8Array[] = [];
  for (let pos = 0; pos + 3 <= bytes.length;) {
    const channel = bytes[pos]!;
    const size = (bytes[pos + 1]! << 8) | bytes[pos + 2]!;
    if (channel === 0) out.push(bytes.subarray(pos + 3, pos + 3 + size));
    pos += 3 + size;
  }
  return out;
}

function defaultSdp(
  tracks: CameraTrack[],
  options: FakeCameraOptions,
): (url: string) => string {
  const sprop = options.spropParameterSets ?? true;
  return (url) => {
    const controls = options.controls?.(url) ??
      tracks.map((_, i) => `trackID=${i}`);
    const lines = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=Fake camera",
      "c=IN IP4 0.0.0.0",
      "t=0 0",
      "a=control:*",
    ];
    tracks.forEach((t, i) => {
      if (t === "h264") {
        lines.push(
          "m=video 0 RTP/AVP 96",
          "a=rtpmap:96 H264/90000",
          `a=fmtp:96 packetization-mode=1;profile-level-id=64000D${
            sprop ? `;sprop-parameter-sets=${SPROP}` : ""
          }`,
        );
      } else {
        lines.push(
          "m=audio 0 RTP/AVP 97",
          "a=rtpmap:97 MPEG4-GENERIC/44100/2",
          "a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=121056E500",
        );
      }
      lines.push(`a=control:${controls[i]}`);
    });
    return lines.join("\r\n") + "\r\n";
  };
}

/** One track of a session once set up. */
interface SessionTrack {
  index: number;
  source: Source;
  ssrc: number;
  seq: number;
  /** Next packet of the capture and how many passes were made. */
  next: number;
  pass: number;
  tcp?: { rtp: number; rtcp: number };
  udp?: {
    rtp: Deno.DatagramConn;
    rtcp: Deno.DatagramConn;
    to: { rtp: number; rtcp: number };
  };
}

/** One client connection. */
class Connection {
  readonly id: number;
  readonly #camera: FakeCamera;
  readonly #conn: Deno.TcpConn;
  readonly #tracks: SessionTrack[] = [];
  #writes: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #startMs = 0;
  #playing = false;
  #closed = false;
  readonly session = crypto.randomUUID().replaceAll("-", "").slice(0, 16);

  constructor(camera: FakeCamera, conn: Deno.TcpConn, id: number) {
    this.#camera = camera;
    this.#conn = conn;
    this.id = id;
    camera.sessions.set(id, this.session);
  }

  async run(): Promise<void> {
    const framer = new RtspFramer({ maxBodySize: 1 << 16 });
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const messages: RtspFramed[] = [];
        framer.push(buf.slice(0, n), { enqueue: (m) => messages.push(m) });
        for (const m of messages) {
          if (m.kind === "request") await this.#request(m);
          else if (m.kind === "interleaved") {
            if (this.#tracks.some((t) => t.tcp?.rtcp === m.channel)) {
              this.#camera.rtcpReceived++;
            }
          }
        }
      }
    } catch {
      // reset, or bytes that do not frame: the camera hangs up
    }
    this.close();
  }

  async #request(
    m: { method: string; url: string; headers: RtspHeaders },
  ): Promise<void> {
    const o = this.#camera.options;
    this.#camera.requests.push({
      method: m.method,
      url: m.url,
      headers: m.headers,
      atMs: Date.now() - this.#camera.startedMs,
      connection: this.id,
    });
    const cseq = m.headers.get("CSeq") ?? "0";
    const session: [string, string] = [
      "Session",
      `${this.session};timeout=${o.sessionTimeoutS ?? 60}`,
    ];
    switch (m.method) {
      case "OPTIONS":
        if (this.#playing && o.ignoreKeepAlive) return;
        return await this.#reply(cseq, 200, [[
          "Public",
          o.public ?? "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN",
        ]]);
      case "DESCRIBE": {
        const sdp = (o.sdp ?? defaultSdp(this.#camera.tracks, o))(
          this.#camera.url,
        );
        const base = o.contentBase === undefined
          ? `${this.#camera.url}/`
          : o.contentBase(this.#camera.url);
        const headers: [string, string][] = [[
          "Content-Type",
          "application/sdp",
        ]];
        if (base !== undefined) headers.push(["Content-Base", base]);
        return await this.#reply(cseq, 200, headers, sdp);
      }
      case "SETUP":
        return await this.#setup(
          cseq,
          m.headers.get("Transport") ?? "",
          session,
        );
      case "PLAY":
        return await this.#play(cseq, session);
      case "GET_PARAMETER":
        if (o.ignoreKeepAlive) return;
        return await this.#reply(cseq, 200, [session]);
      case "TEARDOWN":
        this.#stopMedia();
        return await this.#reply(cseq, 200, [session]);
      default:
        return await this.#reply(cseq, 501, []);
    }
  }

  async #setup(
    cseq: string,
    header: string,
    session: [string, string],
  ): Promise<void> {
    const index = this.#tracks.length;
    const kind = this.#camera.tracks[index];
    let asked: Transport | undefined;
    try {
      asked = parseTransport(header)[0];
    } catch {
      // answered below
    }
    if (kind === undefined || asked === undefined) {
      return await this.#reply(cseq, 461, []);
    }
    const track: SessionTrack = {
      index,
      source: SOURCES[kind](),
      ssrc: crypto.getRandomValues(new Uint32Array(1))[0]!,
      seq: crypto.getRandomValues(new Uint16Array(1))[0]!,
      next: 0,
      pass: 0,
    };
    const ctx: SetupContext = { track: index, asked, ssrc: track.ssrc };
    let reply: string;
    if (asked.lowerTransport === "TCP") {
      const ch = asked.interleaved ?? { rtp: index * 2, rtcp: index * 2 + 1 };
      track.tcp = { rtp: ch.rtp, rtcp: ch.rtcp ?? ch.rtp + 1 };
      reply =
        `RTP/AVP/TCP;unicast;interleaved=${track.tcp.rtp}-${track.tcp.rtcp}`;
    } else {
      if (asked.clientPort === undefined || this.#camera.options.refuseUdp) {
        return await this.#reply(cseq, 461, []);
      }
      const rtp = listenUdp();
      const rtcp = listenUdp();
      this.#camera.sockets.add(rtp).add(rtcp);
      const to = {
        rtp: asked.clientPort.rtp,
        rtcp: asked.clientPort.rtcp ?? asked.clientPort.rtp + 1,
      };
      track.udp = { rtp, rtcp, to };
      ctx.serverPort = { rtp: port(rtp), rtcp: port(rtcp) };
      this.#countRtcp(rtcp);
      reply = `RTP/AVP;unicast;client_port=${to.rtp}-${to.rtcp};server_port=${
        port(rtp)
      }-${port(rtcp)}`;
    }
    this.#tracks.push(track);
    const o = this.#camera.options;
    return await this.#reply(cseq, 200, [
      ["Transport", o.setupTransport?.(ctx) ?? reply],
      session,
    ]);
  }

  async #countRtcp(socket: Deno.DatagramConn): Promise<void> {
    try {
      for (;;) {
        await socket.receive();
        this.#camera.rtcpReceived++;
      }
    } catch {
      // closed
    }
  }

  async #play(cseq: string, session: [string, string]): Promise<void> {
    if (this.#tracks.length === 0) return await this.#reply(cseq, 455, []);
    const reply = () => this.#reply(cseq, 200, [session, ["Range", "npt=0-"]]);
    if (!this.#camera.options.rtpBeforePlayReply) await reply();
    this.#playing = true;
    this.#startMs = Date.now();
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), 10);
    if (this.#camera.options.rtpBeforePlayReply) {
      await new Promise((r) => setTimeout(r, 300));
      if (!this.#closed) await reply();
    }
  }

  /** Sends every packet that is due, on every track. */
  #tick(): void {
    if (this.#closed || !this.#playing) return;
    const elapsed = Date.now() - this.#startMs;
    const tcp: Uint8Array[] = [];
    for (const t of this.#tracks) {
      const s = t.source;
      for (;;) {
        const ticks = t.pass * s.span + s.offsets[t.next]!;
        if ((ticks / s.clockRate) * 1000 > elapsed) break;
        const packet = s.packets[t.next]!.slice();
        const view = new DataView(packet.buffer);
        const base = view.getUint32(4) - s.offsets[t.next]!;
        view.setUint16(2, t.seq);
        view.setUint32(4, (base + ticks) >>> 0);
        view.setUint32(8, t.ssrc);
        t.seq = (t.seq + 1) & 0xffff;
        if (++t.next === s.packets.length) {
          t.next = 0;
          t.pass++;
        }
        this.#camera.packetsSent++;
        if (packet[1]! & 0x80) this.#camera.framesSent++; // the marker ends a frame
        if (t.tcp !== undefined) {
          tcp.push(
            new Uint8Array([
              0x24,
              t.tcp.rtp,
              packet.length >> 8,
              packet.length & 0xff,
            ]),
            packet,
          );
        } else if (t.udp !== undefined && !this.#camera.options.blockUdp) {
          t.udp.rtp.send(packet, {
            transport: "udp",
            hostname: "127.0.0.1",
            port: t.udp.to.rtp,
          }).catch(() => {});
        }
      }
    }
    if (tcp.length > 0) void this.#write(concat(tcp));
  }

  #reply(
    cseq: string,
    status: number,
    headers: [string, string][],
    body = "",
  ): Promise<void> {
    const bytes = new TextEncoder().encode(body);
    let lines: [string, string][] = [["CSeq", cseq], ...headers];
    if (bytes.length > 0) lines.push(["Content-Length", String(bytes.length)]);
    lines = this.#camera.options.headers?.(lines) ?? lines;
    const head = [
      `RTSP/1.0 ${status} ${status === 200 ? "OK" : "Error"}`,
      ...lines.map(([k, v]) => `${k}: ${v}`),
    ].join("\r\n");
    return this.#write(
      concat([new TextEncoder().encode(`${head}\r\n\r\n`), bytes]),
    );
  }

  /** Writes in order: a reply never lands inside an interleaved frame. */
  #write(bytes: Uint8Array): Promise<void> {
    this.#writes = this.#writes.then(async () => {
      if (this.#closed) return;
      for (let off = 0; off < bytes.length;) {
        off += await this.#conn.write(bytes.subarray(off));
      }
    }).catch(() => this.close());
    return this.#writes;
  }

  #stopMedia(): void {
    this.#playing = false;
    clearInterval(this.#timer);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopMedia();
    for (const t of this.#tracks) {
      if (t.udp === undefined) continue;
      for (const s of [t.udp.rtp, t.udp.rtcp]) {
        this.#camera.sockets.delete(s);
        closeQuietly(s);
      }
    }
    closeQuietly(this.#conn);
    this.#camera.connections.delete(this);
  }
}

/** A scripted RTSP camera listening on 127.0.0.1 (any free port). */
export class FakeCamera implements AsyncDisposable {
  readonly options: FakeCameraOptions;
  readonly tracks: CameraTrack[];
  readonly startedMs = Date.now();
  /** Every request received, in order. */
  readonly requests: CameraRequest[] = [];
  /** RTP packets sent so far. */
  packetsSent = 0;
  /** RTP packets with the marker bit (last of a video frame) sent so far. */
  framesSent = 0;
  /** RTCP packets received (receiver reports). */
  rtcpReceived = 0;
  /** TCP connections accepted so far. */
  connectionsAccepted = 0;
  readonly connections = new Set<Connection>();
  /** Session id handed out on each connection, by connection number. */
  readonly sessions = new Map<number, string>();
  readonly sockets = new Set<Deno.DatagramConn>();
  readonly #listener: Deno.TcpListener;
  readonly #accepting: Promise<void>;

  private constructor(options: FakeCameraOptions) {
    this.options = options;
    this.tracks = options.tracks ?? ["h264"];
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** Starts a camera. */
  static start(options: FakeCameraOptions = {}): FakeCamera {
    return new FakeCamera(options);
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** rtsp://127.0.0.1:<port><path> */
  get url(): string {
    return `rtsp://127.0.0.1:${this.port}${this.options.path ?? "/stream"}`;
  }

  /** Requests of one method. */
  received(method: string): CameraRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** The session id the camera gave the connection that sent `request`. */
  sessionIdOf(request: CameraRequest): string | undefined {
    return this.sessions.get(request.connection);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const c = new Connection(this, conn, ++this.connectionsAccepted);
        this.connections.add(c);
        void c.run();
      }
    } catch {
      // the listener was closed
    }
  }

  /** Stops listening and closes every connection and socket. */
  async close(): Promise<void> {
    closeQuietly(this.#listener);
    for (const c of [...this.connections]) c.close();
    for (const s of this.sockets) closeQuietly(s);
    this.sockets.clear();
    await this.#accepting;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function listenUdp(): Deno.DatagramConn {
  return Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
}

function port(socket: Deno.DatagramConn): number {
  return (socket.addr as Deno.NetAddr).port;
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
