/**
 * RTP in, frames out: each track's packets are reordered (UDP),
 * depacketized, given decode times (B-frames) and put on one timeline with
 * the other tracks (RTCP Sender Reports), then handed to a publisher. The
 * RTSP server uses it for RECORD, the RTSP client for pulling.
 *
 * @module
 */

import type { Publisher } from "../hub/hub.ts";
import type { Frame } from "../media/frame.ts";
import type { ParameterSets, Track } from "../media/track.ts";
import { DtsRebuilder } from "../rtp/dts.ts";
import {
  decodeRtpPacket,
  type RtpPacket,
  type RtpPayloadPacket,
} from "../rtp/packet.ts";
import { decodeRtcp } from "../rtp/rtcp.ts";
import { ReorderBuffer } from "../rtp/reorder.ts";
import { SrSync } from "../rtp/timing.ts";
import { type SdpTrack, videoTrack } from "../format/tracks.ts";
import type { StageCore } from "../stage.ts";
import { type SrtpContext, SrtpError } from "../srtp/context.ts";

/** SRTP packets an {@link RtpInput} dropped (RFC 3711 §3.3): they never reach a depacketizer. */
export interface SrtpInputStats {
  /** Failed authentication (a wrong key, a forged or damaged packet) or could not be read. */
  authFailures: number;
  /** Seen before, or older than the replay window. */
  replays: number;
}

/** Counters of an {@link RtpInput}. */
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
  /** The depacketizer's dropped frames already counted in the stats. */
  #droppedSeen = 0;

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
    // Frames a depacketizer threw away (a lost fragment, no keyframe yet).
    const dropped =
      (this.#depacketizer as { droppedFrames?: number }).droppedFrames ?? 0;
    if (dropped !== this.#droppedSeen) {
      this.#stats.dropped += dropped - this.#droppedSeen;
      this.#droppedSeen = dropped;
    }
  }

  get track(): Track {
    return this.#track.track;
  }
}

/** The tracks of an RTSP source (a RECORD session or a pulled camera) feeding a publisher. */
export class RtpInput {
  readonly stats: RecordStats = { packets: 0, frames: 0, dropped: 0 };
  readonly srtpStats: SrtpInputStats = { authFailures: 0, replays: 0 };
  /** Tracks that arrive as SRTP, with the context that reads them. */
  readonly #srtp = new Map<number, SrtpContext>();
  readonly #inputs = new Map<number, TrackInput>();
  readonly #sync = new SrSync();
  readonly #publisher: Pick<Publisher, "setTrack" | "setTracks" | "writeFrame">;
  readonly #now: () => number;

  constructor(
    publisher: Pick<Publisher, "setTrack" | "setTracks" | "writeFrame">,
    tracks: ReadonlyMap<
      number,
      { sdp: SdpTrack; udp: boolean; srtp?: SrtpContext }
    >,
    now: () => number = Date.now,
  ) {
    this.#publisher = publisher;
    this.#now = now;
    const known: Track[] = [];
    for (const [id, { sdp, udp, srtp }] of tracks) {
      known.push(sdp.track);
      if (srtp !== undefined) this.#srtp.set(id, srtp);
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

  /** An RTP packet of track `trackId` (SRTP for a track set up with a key). */
  rtp(trackId: number, bytes: Uint8Array): void {
    const input = this.#inputs.get(trackId);
    if (input === undefined) return;
    const srtp = this.#srtp.get(trackId);
    const plain = srtp === undefined
      ? bytes
      : this.#unprotect(() => srtp.unprotectRtp(bytes));
    if (plain !== undefined) input.push(plain, this.#now());
  }

  /** The packet SRTP gives, or undefined (counted) for one that fails authentication or replays. */
  #unprotect(f: () => Uint8Array): Uint8Array | undefined {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SrtpError)) throw e;
      if (e.reason === "replay") this.srtpStats.replays++;
      else this.srtpStats.authFailures++;
      return undefined;
    }
  }

  /** An RTCP packet of track `trackId`: Sender Reports tie its clock to the others'. */
  rtcp(trackId: number, bytes: Uint8Array): void {
    // RTCP of a track Sluice does not read (ffmpeg sends it for every stream) is nobody's.
    if (!this.#inputs.has(trackId)) return;
    const srtp = this.#srtp.get(trackId);
    const plain = srtp === undefined
      ? bytes
      : this.#unprotect(() => srtp.unprotectRtcp(bytes));
    if (plain === undefined) return;
    let packets;
    try {
      packets = decodeRtcp(plain);
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
