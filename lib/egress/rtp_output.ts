/**
 * The RTSP face of a stream: each frame is packetized into RTP once, with
 * the stream's sequence numbers and SSRC, and the same packets go to every
 * reader (over TCP behind its own 4-byte interleaved header, over UDP to its
 * own ports).
 *
 * @module
 */

import { ReaderList } from "./_reader_list.ts";
import { type Packet, PACKET_KIND, type PacketKind } from "./packet.ts";
import type {
  CachedPackets,
  Metadata,
  Stream,
  StreamOutput,
} from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import type { SrtpMasterKey } from "../srtp/keys.ts";
import { HandOver, type OutputTick } from "./tick.ts";
import {
  type SrtpOffer,
  SrtpSender,
  type SrtpSource,
  streamSrtpKey,
} from "./rtp_srtp.ts";
import type { TrackFormat } from "../format/tracks.ts";
import {
  byeReport,
  nextTrackOuts,
  senderReport,
  type TrackOut,
  type WallAnchor,
} from "./_rtp_track.ts";
import { type RtpStart, rtpStarts, rtpStartsAt } from "./_rtp_info.ts";
import { INTERLEAVED_HEADER_SIZE } from "../rtsp/interleaved.ts";
import {
  type InterleavedRoom,
  InterleavedRun,
  withRoom,
} from "./_interleaved_room.ts";

export type { RtpStart } from "./_rtp_info.ts";
export { interleavedFor, type InterleavedRun } from "./_interleaved_room.ts";

/** One RTSP reader of an {@link RtpOutput}. */
export interface RtpReader {
  /** The reader set up RTP/SAVP: it gets SRTP and SRTCP, protected once for all such readers. */
  readonly srtp?: boolean;
  /**
   * Bytes the reader queues before it skips to a keyframe: an output on a
   * tick hands its pending packets over early, before they reach a quarter
   * of the smallest such budget.
   */
  readonly maxBytes?: number;
  /** Takes an RTP (or, with `rtcp`, an RTCP) packet of a track; shared bytes, do not modify. */
  offer(trackId: number, packet: Packet, rtcp: boolean): void;
  /**
   * Takes a tick's packets joined behind their interleaved headers as one
   * part, where the reader can (an RTSP/TCP reader on the run's channels
   * whose queue has room); false, taking nothing, and the output offers the
   * packets one by one.
   */
  offerRun?(run: InterleavedRun): boolean;
  /** Called when the stream ends (no publisher within the grace period). */
  onEnd(): void;
}

/** An RTP packet with where it sits in its track's RTP stream. */
export interface RtpPacketOut extends SrtpSource, InterleavedRoom {
  trackId: number;
  seq: number;
  rtptime: number;
}

/** Options of {@link RtpOutput}. */
export interface RtpOutputOptions {
  /** @default {Date.now} */
  now?: () => number;
  /** The SRTP master key of a track. @default {a random key per output and track} */
  srtpKey?: (trackId: number) => SrtpMasterKey;
  /**
   * The readers' shared tick: packets made between ticks reach the readers
   * at the next one, each reader taking them all in one go, as
   * {@link FlvOutputOptions.tick} does. Without one, every packet is offered
   * as it is made.
   */
  tick?: OutputTick;
}

/** A packet waiting for the tick: of which track, and whether it is RTCP. */
interface Pending {
  trackId: number;
  p: Packet;
  rtcp: boolean;
}

/** How often a track's Sender Report goes out. */
const SR_INTERVAL_MS = 5000;

/** Encodes a stream's frames as RTP once for all its RTSP readers. */
export class RtpOutput implements StreamOutput<RtpPacketOut> {
  readonly #readers = new ReaderList<RtpReader>();
  readonly #cached: CachedPackets<RtpPacketOut>;
  readonly #now: () => number;
  readonly #srtp: SrtpSender;
  #tracks = new Map<number, TrackOut>();
  #hasVideo = false;
  #lastSr = 0;
  /** Packets made since the last tick, not yet offered. */
  readonly #pending: HandOver<Pending>;
  /**
   * Wall clock of the stream's timeline, fixed at its first frame: every
   * track's Sender Report maps its RTP time through this one anchor, so
   * players line audio up with video exactly as the stream has them.
   */
  #anchor: WallAnchor | undefined;

  /** `cached` hands out this output's packets of the stream's GOP cache. */
  constructor(
    cached: CachedPackets<RtpPacketOut>,
    options: RtpOutputOptions = {},
  ) {
    this.#cached = cached;
    this.#now = options.now ?? Date.now;
    this.#srtp = new SrtpSender(
      options.srtpKey ?? ((id) => streamSrtpKey(this, id)),
    );
    this.#pending = new HandOver(options.tick, (ps) => this.#offerAll(ps));
  }

  /**
   * What MIKEY gives an SRTP reader of `trackId` (RFC 4567): the track's
   * master key, its SSRC, and the roll-over counter of the first packet a
   * reader joining now gets (the GOP cache's first, which may lie before a
   * sequence wrap), from which the reader's own estimate carries on.
   */
  srtpOffer(trackId: number): SrtpOffer | undefined {
    const t = this.#tracks.get(trackId);
    if (t === undefined) return undefined;
    const first = this.#cached().find((p) => p.trackId === trackId);
    return {
      master: this.#srtp.key(trackId),
      ssrc: t.packetizer.ssrc,
      roc: first?.roc ?? t.roc,
    };
  }

  get readers(): number {
    return this.#readers.size;
  }

  /** The tracks RTSP can carry, with their SDP media descriptions. */
  get formats(): TrackFormat[] {
    return [...this.#tracks.values()].map((t) => t.format);
  }

  /**
   * Where a reader attached now would begin on each of `trackIds` (the GOP
   * cache's first packet, or the next packet), for RTP-Info: the sequence
   * number of that packet, and every track's RTP time of one instant. With
   * `cached: false`, the next packet: a reader joining a multicast group
   * that is already sent gets no GOP cache of its own.
   */
  rtpStarts(
    trackIds: ReadonlySet<number>,
    options: { cached?: boolean } = {},
  ): RtpStart[] {
    const cached = options.cached === false ? [] : this.#cached();
    return rtpStarts(this.#tracks, cached, trackIds);
  }

  /**
   * Where each of `trackIds` begins when its next frame is the instant
   * `seconds` of the stream's timeline (a file played on demand knows it
   * before the frame is sent): the next sequence number, and that
   * instant's RTP time.
   */
  rtpStartsAt(trackIds: ReadonlySet<number>, seconds: number): RtpStart[] {
    return rtpStartsAt(this.#tracks, trackIds, seconds);
  }

  /** Attaches a reader of `trackIds`: it gets the GOP cache at once, then every new packet. */
  addReader(reader: RtpReader, trackIds: ReadonlySet<number>): void {
    // the GOP below holds the pending packets: the others get them first
    this.#pending.flush();
    this.#readers.add(reader);
    if (reader.maxBytes !== undefined) this.#pending.joined(reader.maxBytes);
    const cached = this.#cached();
    for (let i = 0; i < cached.length; i++) {
      const p = cached[i]!;
      if (!trackIds.has(p.trackId)) continue;
      reader.offer(
        p.trackId,
        reader.srtp ? this.#srtp.rtp(p.trackId, p) : p,
        false,
      );
    }
  }

  /** Detaches a reader. */
  removeReader(reader: RtpReader): void {
    this.#pending.flush();
    this.#readers.delete(reader);
  }

  tracks(tracks: readonly Track[]): void {
    this.#tracks = nextTrackOuts(this.#tracks, tracks);
    this.#hasVideo = tracks.some((t) => t.kind === "video");
  }

  metadata(_metadata: Metadata | undefined): void {}

  frame(frame: Frame): readonly RtpPacketOut[] {
    const t = this.#tracks.get(frame.trackId);
    if (t === undefined) return [];
    const out: RtpPacketOut[] = [];
    const video = t.format.track.kind === "video";
    const key = video ? frame.keyframe : !this.#hasVideo;
    const rtptime = t.packetizer.rtpTimestamp(frame.pts);
    let first = true;
    t.packetizer.push(frame, {
      enqueue: (bytes) => {
        const kind: PacketKind = first && key
          ? PACKET_KIND.KEY
          : PACKET_KIND.DELTA;
        const seq = (bytes[2]! << 8) | bytes[3]!;
        if (t.packets > 0 && seq < t.lastSeq && t.lastSeq - seq > 0x8000) {
          t.roc = (t.roc + 1) >>> 0;
        }
        t.lastSeq = seq;
        const framed = withRoom(bytes);
        const p: RtpPacketOut = {
          bytes: framed.subarray(INTERLEAVED_HEADER_SIZE),
          kind,
          trackId: frame.trackId,
          seq,
          rtptime,
          roc: t.roc,
          framed,
          framedChannel: -1,
        };
        out.push(p);
        this.#offer(frame.trackId, p, false);
        t.packets++;
        t.octets += bytes.length - 12;
        first = false;
      },
    });
    t.lastPts = frame.pts;
    const now = this.#now();
    this.#anchor ??= {
      wallMs: now,
      seconds: frame.pts / t.format.track.clockRate,
    };
    this.#maybeSenderReports(now);
    return out;
  }

  /**
   * Sends each track's Sender Report every few seconds: it ties the track's
   * RTP clock to the wall clock, which is how players line audio up with video.
   */
  #maybeSenderReports(nowMs: number): void {
    if (nowMs - this.#lastSr < SR_INTERVAL_MS || this.#readers.size === 0) {
      return;
    }
    this.#lastSr = nowMs;
    const anchor = this.#anchor!;
    for (const [id, t] of this.#tracks) {
      if (t.lastPts === undefined) continue;
      const bytes = senderReport(t, t.lastPts, anchor);
      this.#offer(id, { bytes, kind: PACKET_KIND.REPORT }, true);
    }
  }

  /** A packet for every reader: kept until the tick (see {@link HandOver}), or offered now. */
  #offer(trackId: number, p: Packet, rtcp: boolean): void {
    if (this.#readers.size === 0) return;
    const item = { trackId, p, rtcp };
    if (this.#pending.waits) this.#pending.add(item, p.bytes.length);
    else this.#offerAll([item]);
  }

  /**
   * `pending` to every reader now, reader by reader: as one run to each
   * RTSP/TCP reader that takes it (see {@link InterleavedRun}), one by one
   * to the others.
   */
  #offerAll(pending: readonly Pending[]): void {
    const n = pending.length;
    const readers = this.#readers.list;
    const run = n > 1 ? InterleavedRun.of(pending) : undefined;
    for (let i = 0; i < readers.length; i++) {
      const r = readers[i]!;
      if (run !== undefined && !r.srtp && r.offerRun?.(run) === true) continue;
      for (let j = 0; j < n; j++) {
        const { trackId, p, rtcp } = pending[j]!;
        if (!r.srtp) r.offer(trackId, p, rtcp);
        else r.offer(trackId, this.#secured(trackId, p, rtcp), rtcp);
      }
    }
  }

  /** `p` as SRTP or SRTCP, protected once for all SRTP readers. */
  #secured(trackId: number, p: Packet, rtcp: boolean): Packet {
    return rtcp
      ? this.#srtp.rtcp(trackId, p)
      : this.#srtp.rtp(trackId, p as RtpPacketOut);
  }

  /** The stream ended: every reader gets an RTCP BYE for each track (RFC 3550 §6.6), then onEnd. */
  end(): void {
    this.#pending.flush();
    const byes: Pending[] = [];
    for (const [id, t] of this.#tracks) {
      const p = { bytes: byeReport(t), kind: PACKET_KIND.CONTROL };
      byes.push({ trackId: id, p, rtcp: true });
    }
    this.#offerAll(byes);
    for (const r of this.#readers.clear()) r.onEnd();
  }
}

/**
 * The RTSP output of `stream`, made on first use. Its SRTP keys are the
 * stream's own ({@link streamSrtpKey}), so the key a DESCRIBE gave out
 * still holds at PLAY even if the output was dropped and made again.
 */
export function rtspOutput(
  stream: Pick<Stream, "output">,
  tick?: OutputTick,
): RtpOutput {
  return stream.output<RtpOutput>(
    "rtsp",
    (cached) =>
      new RtpOutput(cached, {
        srtpKey: (id) => streamSrtpKey(stream, id),
        tick,
      }),
  );
}
