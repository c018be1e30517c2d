/**
 * One RTSP session: the tracks a client set up, and either the reader that
 * sends them RTP (PLAY) or the input that turns their RTP into frames for
 * the hub (RECORD).
 *
 * @module
 */

import type { Publisher } from "../hub/registry.ts";
import { type Packet, ReaderQueue } from "../hub/reader_queue.ts";
import type { Stream } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { ParameterSets, Track } from "../media/track.ts";
import type { BatchWriter } from "../net/batch_writer.ts";
import { DtsRebuilder } from "../rtp/dts.ts";
import { decodeRtpPacket, type RtpPacket } from "../rtp/packet.ts";
import { decodeRtcp } from "../rtp/rtcp.ts";
import { ReorderBuffer } from "../rtp/reorder.ts";
import { SrSync } from "../rtp/timing.ts";
import type { Transport } from "../rtsp/headers/transport.ts";
import { interleavedHeader } from "../rtsp/interleaved.ts";
import { type SdpTrack, videoTrack } from "../rtsp/tracks.ts";
import type { StageCore } from "../stage.ts";
import type { RtpPayloadPacket } from "../rtp/packet.ts";
import type { RtpStart, RtspOutput, RtspReader } from "./rtsp_output.ts";

/** How a set-up track travels. */
export type TrackTransport =
  | { kind: "tcp"; rtpChannel: number; rtcpChannel: number; reply: Transport }
  | {
    kind: "udp";
    hostname: string;
    rtpPort: number;
    rtcpPort: number;
    reply: Transport;
  };

/** The UDP sockets of the server, for readers and record inputs over UDP. */
export interface UdpSockets {
  rtp: Deno.DatagramConn;
  rtcp: Deno.DatagramConn;
}

/** What a session needs from the connection that owns it. */
export interface SessionOwner {
  /** The connection's write queue (TCP interleaved readers share it with replies). */
  readonly queue: ReaderQueue;
  readonly writer: BatchWriter;
}

/** Counters of a session's RECORD input. */
export interface RecordStats {
  packets: number;
  frames: number;
  /** Packets or frames thrown away as malformed or incomplete. */
  dropped: number;
}

/** A track of a RECORD session: RTP in, frames out. */
class TrackInput {
  readonly #track: SdpTrack;
  readonly #depacketizer: StageCore<RtpPayloadPacket, Frame>;
  readonly #reorder: ReorderBuffer | undefined;
  readonly #dts: DtsRebuilder | undefined;
  readonly #deliver: (frame: Frame) => void;
  readonly #stats: RecordStats;

  constructor(
    track: SdpTrack,
    udp: boolean,
    deliver: (frame: Frame) => void,
    onParameterSets: (sets: ParameterSets) => void,
    stats: RecordStats,
  ) {
    this.#track = track;
    this.#deliver = deliver;
    this.#stats = stats;
    this.#depacketizer = track.depacketizer(onParameterSets);
    // Over UDP packets come reordered or not at all; over TCP they come in order.
    this.#reorder = udp
      ? new ReorderBuffer({ maxDelayMs: 50, onLoss: () => this.#markLoss() })
      : undefined;
    const t = track.track;
    this.#dts = t.kind === "video"
      ? new DtsRebuilder(t.codec, { parameterSets: t.parameterSets })
      : undefined;
  }

  #markLoss(): void {
    (this.#depacketizer as { markLoss?: () => void }).markLoss?.();
  }

  push(bytes: Uint8Array, nowMs: number): void {
    this.#stats.packets++;
    let packet: RtpPacket;
    try {
      packet = decodeRtpPacket(bytes);
    } catch {
      this.#stats.dropped++;
      return;
    }
    if (this.#reorder === undefined) return this.#depacketize(packet);
    this.#reorder.push(packet, { enqueue: (p) => this.#depacketize(p) });
    this.#reorder.tick(nowMs, { enqueue: (p) => this.#depacketize(p) });
  }

  #depacketize(packet: RtpPacket): void {
    try {
      this.#depacketizer.push(packet, {
        enqueue: (frame) => {
          if (this.#dts === undefined) return this.#deliver(frame);
          this.#dts.push(frame, { enqueue: (f) => this.#deliver(f) });
        },
      });
    } catch {
      // A malformed payload (cameras send them) costs that frame, not the session.
      this.#stats.dropped++;
    }
  }

  get track(): Track {
    return this.#track.track;
  }
}

/** The RECORD side of a session: the announced tracks' inputs feeding a publisher. */
export class RecordInput {
  readonly stats: RecordStats = { packets: 0, frames: 0, dropped: 0 };
  readonly #inputs = new Map<number, TrackInput>();
  readonly #sync = new SrSync();
  readonly #publisher: Publisher;
  readonly #now: () => number;

  constructor(
    publisher: Publisher,
    tracks: ReadonlyMap<number, { sdp: SdpTrack; udp: boolean }>,
    now: () => number = Date.now,
  ) {
    this.#publisher = publisher;
    this.#now = now;
    const known: Track[] = [];
    for (const [id, { sdp, udp }] of tracks) {
      known.push(sdp.track);
      this.#sync.addTrack(id, sdp.track.clockRate);
      this.#inputs.set(
        id,
        new TrackInput(
          sdp,
          udp,
          (f) => this.#frame(f),
          (sets) => this.#parameterSets(sdp, sets),
          this.stats,
        ),
      );
    }
    publisher.setTracks(known);
  }

  /** An RTP packet of track `trackId`. */
  rtp(trackId: number, bytes: Uint8Array): void {
    this.#inputs.get(trackId)?.push(bytes, this.#now());
  }

  /** An RTCP packet of track `trackId`: Sender Reports tie its clock to the others'. */
  rtcp(trackId: number, bytes: Uint8Array): void {
    let packets;
    try {
      packets = decodeRtcp(bytes);
    } catch {
      return;
    }
    for (const p of packets) {
      if (p.kind === "sr") this.#sync.senderReport(trackId, p, this.#now());
    }
  }

  #frame(frame: Frame): void {
    const offset = this.#sync.offset(frame.trackId, frame.dts, this.#now());
    this.stats.frames++;
    this.#publisher.writeFrame(
      offset === 0
        ? frame
        : { ...frame, dts: frame.dts + offset, pts: frame.pts + offset },
    );
  }

  /** SPS/PPS found in-band (the SDP had none, or new ones): the track learns its size. */
  #parameterSets(sdp: SdpTrack, sets: ParameterSets): void {
    const t = sdp.track;
    if (t.kind !== "video" || (t.codec !== "H264" && t.codec !== "H265")) {
      return;
    }
    const updated = videoTrack(t.codec, t.id, sets);
    if (updated.parameterSets === undefined) return;
    sdp.track = updated;
    this.#publisher.setTrack(updated);
  }
}

/** A PLAY reader over TCP: RTP behind its own interleaved header on the connection. */
export class TcpReader implements RtspReader {
  readonly #owner: SessionOwner;
  readonly #channels: Map<number, { rtp: number; rtcp: number }>;
  readonly #onEnd: () => void;

  constructor(
    owner: SessionOwner,
    channels: Map<number, { rtp: number; rtcp: number }>,
    onEnd: () => void,
  ) {
    this.#owner = owner;
    this.#channels = channels;
    this.#onEnd = onEnd;
  }

  offer(trackId: number, packet: Packet, rtcp: boolean): void {
    const ch = this.#channels.get(trackId);
    if (ch === undefined) return;
    this.#owner.queue.offer(
      packet,
      interleavedHeader(rtcp ? ch.rtcp : ch.rtp, packet.bytes.length),
    );
  }

  onEnd(): void {
    this.#onEnd();
  }

  /** Stops sending `trackId` (a TEARDOWN of that track alone). */
  removeTrack(trackId: number): void {
    this.#channels.delete(trackId);
  }
}

/** A PLAY reader over UDP: each track's RTP to the client's ports, from the server's. */
export class UdpReader implements RtspReader {
  readonly #sockets: UdpSockets;
  readonly #tracks: Map<
    number,
    { rtp: Deno.NetAddr; rtcp: Deno.NetAddr; queue: ReaderQueue }
  >;
  readonly #onEnd: () => void;
  #sending = false;
  #closed = false;
  #stalledSince = 0;

  constructor(
    sockets: UdpSockets,
    tracks: Map<
      number,
      { hostname: string; rtpPort: number; rtcpPort: number }
    >,
    options: { maxBytes: number; onEnd: () => void },
  ) {
    this.#sockets = sockets;
    this.#onEnd = options.onEnd;
    this.#tracks = new Map();
    for (const [id, t] of tracks) {
      this.#tracks.set(id, {
        rtp: { transport: "udp", hostname: t.hostname, port: t.rtpPort },
        rtcp: { transport: "udp", hostname: t.hostname, port: t.rtcpPort },
        queue: new ReaderQueue({
          maxBytes: options.maxBytes,
          onReady: () => this.#kick(),
        }),
      });
    }
  }

  offer(trackId: number, packet: Packet, rtcp: boolean): void {
    const t = this.#tracks.get(trackId);
    if (t === undefined) return;
    if (rtcp) {
      this.#sockets.rtcp.send(packet.bytes, t.rtcp).catch(() => {});
      return;
    }
    t.queue.offer(packet);
  }

  onEnd(): void {
    this.#onEnd();
  }

  /** Stops sending `trackId` (a TEARDOWN of that track alone). */
  removeTrack(trackId: number): void {
    this.#tracks.get(trackId)?.queue.close();
    this.#tracks.delete(trackId);
  }

  /** Packets dropped for this reader because it fell behind. */
  get dropped(): number {
    let n = 0;
    for (const t of this.#tracks.values()) n += t.queue.dropped;
    return n;
  }

  /** How long sends have been waiting (ms), 0 when idle. */
  stalledMs(now: number): number {
    return this.#sending && this.#stalledSince > 0
      ? now - this.#stalledSince
      : 0;
  }

  #kick(): void {
    if (this.#sending || this.#closed) return;
    this.#sending = true;
    queueMicrotask(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        let sent = false;
        for (const t of this.#tracks.values()) {
          const parts = t.queue.take();
          if (parts.length === 0) continue;
          sent = true;
          this.#stalledSince = Date.now();
          for (const p of parts) await this.#sockets.rtp.send(p, t.rtp);
        }
        if (!sent || this.#closed) break;
      }
    } catch {
      // An unreachable client costs nothing here; the session times out.
    } finally {
      this.#sending = false;
      this.#stalledSince = 0;
    }
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#tracks.values()) t.queue.close();
  }
}

/** A PLAY session's link to its stream. */
export interface PlayLink {
  stream: Stream;
  output: RtspOutput;
  reader: TcpReader | UdpReader;
  starts: RtpStart[];
}
