/**
 * The RTSP face of a stream: each frame is packetized into RTP once, with
 * the stream's sequence numbers and SSRC, and the same packets go to every
 * reader (over TCP behind its own 4-byte interleaved header, over UDP to its
 * own ports).
 *
 * @module
 */

import { type Packet, PACKET_KIND, type PacketKind } from "./packet.ts";
import type {
  CachedPackets,
  Metadata,
  Stream,
  StreamOutput,
} from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { sameParameterSets } from "./parameter_sets.ts";
import { encodeRtcp, msToNtp } from "../rtp/rtcp.ts";
import type { SrtpMasterKey } from "../srtp/keys.ts";
import {
  type SrtpOffer,
  SrtpSender,
  type SrtpSource,
  streamSrtpKey,
} from "./rtp_srtp.ts";
import {
  createPacketizer,
  describeTracks,
  type TrackFormat,
  type TrackPacketizer,
} from "../format/tracks.ts";

/** One RTSP reader of an {@link RtpOutput}. */
export interface RtpReader {
  /** The reader set up RTP/SAVP: it gets SRTP and SRTCP, protected once for all such readers. */
  readonly srtp?: boolean;
  /** Takes an RTP (or, with `rtcp`, an RTCP) packet of a track; shared bytes, do not modify. */
  offer(trackId: number, packet: Packet, rtcp: boolean): void;
  /** Called when the stream ends (no publisher within the grace period). */
  onEnd(): void;
}

/** Where a new reader's RTP begins, per track (for RTP-Info). */
export interface RtpStart {
  trackId: number;
  seq: number;
  rtptime: number;
}

interface TrackOut {
  format: TrackFormat;
  packetizer: TrackPacketizer;
  /** Last frame's pts, for Sender Reports and RTP-Info. */
  lastPts: number | undefined;
  packets: number;
  octets: number;
  /** Roll-over counter of the packetizer's sequence numbers (SRTP's index). */
  roc: number;
  lastSeq: number;
}

/** An RTP packet with where it sits in its track's RTP stream. */
export interface RtpPacketOut extends SrtpSource {
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
}

/** How often a track's Sender Report goes out. */
const SR_INTERVAL_MS = 5000;

/** Encodes a stream's frames as RTP once for all its RTSP readers. */
export class RtpOutput implements StreamOutput<RtpPacketOut> {
  readonly #readers = new Set<RtpReader>();
  readonly #cached: CachedPackets<RtpPacketOut>;
  readonly #now: () => number;
  readonly #srtp: SrtpSender;
  #tracks = new Map<number, TrackOut>();
  #hasVideo = false;
  #lastSr = 0;
  /**
   * Wall clock of the stream's timeline, fixed at its first frame: every
   * track's Sender Report maps its RTP time through this one anchor, so
   * players line audio up with video exactly as the stream has them.
   */
  #anchor: { wallMs: number; seconds: number } | undefined;

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
    const starts = new Map<number, RtpStart>();
    for (const p of options.cached === false ? [] : this.#cached()) {
      if (trackIds.has(p.trackId) && !starts.has(p.trackId)) {
        starts.set(p.trackId, {
          trackId: p.trackId,
          seq: p.seq,
          rtptime: p.rtptime,
        });
      }
    }
    const cached = new Set(starts.keys());
    for (const id of trackIds) {
      const t = this.#tracks.get(id);
      if (t === undefined || starts.has(id)) continue;
      const pts = t.lastPts ?? 0;
      starts.set(id, {
        trackId: id,
        seq: t.packetizer.sequenceNumber,
        rtptime: t.packetizer.rtpTimestamp(pts),
      });
    }
    return this.#atOneInstant([...starts.values()], cached);
  }

  /**
   * Restamps `starts` at one instant: the earliest first packet of the GOP
   * cache, or with nothing cached, the earliest latest frame. RTP-Info's
   * rtptime is the RTP time of the Range's start (RFC 2326 §12.33), the same
   * instant on every track; ffmpeg takes each track's rtptime as npt 0 until
   * that track's first Sender Report, then places it by the report. The
   * tracks' first packets are not one instant: the GOP cache opens on a
   * video keyframe, and the audio that follows it on the wire starts up to
   * the keyframe's composition delay earlier (ffmpeg's x264 and AAC over
   * RTMP: 57–80 ms), so per-packet rtptimes made ffmpeg step that audio back
   * by the difference at its first Sender Report. A track with nothing
   * cached does not choose the instant (its last frame may be long gone),
   * nor does one without any frame: they take it from the others.
   */
  #atOneInstant(
    starts: RtpStart[],
    cached: ReadonlySet<number>,
  ): RtpStart[] {
    const some = starts.some((s) => cached.has(s.trackId));
    let seconds = Infinity;
    for (const s of starts) {
      const t = this.#tracks.get(s.trackId);
      if (t?.lastPts === undefined || (some && !cached.has(s.trackId))) {
        continue;
      }
      seconds = Math.min(seconds, startSeconds(t, t.lastPts, s));
    }
    if (seconds === Infinity) return starts;
    return starts.map((s) => {
      const t = this.#tracks.get(s.trackId);
      if (t === undefined) return s;
      const ticks = Math.round(seconds * t.format.track.clockRate);
      return { ...s, rtptime: t.packetizer.rtpTimestamp(ticks) };
    });
  }

  /**
   * Where each of `trackIds` begins when its next frame is the instant
   * `seconds` of the stream's timeline (a file played on demand knows it
   * before the frame is sent): the next sequence number, and that
   * instant's RTP time.
   */
  rtpStartsAt(trackIds: ReadonlySet<number>, seconds: number): RtpStart[] {
    const starts: RtpStart[] = [];
    for (const id of trackIds) {
      const t = this.#tracks.get(id);
      if (t === undefined) continue;
      const ticks = Math.round(seconds * t.format.track.clockRate);
      starts.push({
        trackId: id,
        seq: t.packetizer.sequenceNumber,
        rtptime: t.packetizer.rtpTimestamp(ticks),
      });
    }
    return starts;
  }

  /** Attaches a reader of `trackIds`: it gets the GOP cache at once, then every new packet. */
  addReader(reader: RtpReader, trackIds: ReadonlySet<number>): void {
    this.#readers.add(reader);
    for (const p of this.#cached()) {
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
    this.#readers.delete(reader);
  }

  tracks(tracks: readonly Track[]): void {
    const next = new Map<number, TrackOut>();
    for (const format of describeTracks(tracks)) {
      const have = this.#tracks.get(format.track.id);
      // While a track's codec stays, its RTP stream goes on (SSRC, sequence numbers,
      // timestamps): a takeover must look like one continuous stream to the readers.
      // New parameter sets still need a new packetizer: it sends them before keyframes.
      if (
        have !== undefined && have.format.track.codec === format.track.codec
      ) {
        const payloadType = have.format.payloadType;
        const packetizer = sameParameterSets(have.format.track, format.track)
          ? have.packetizer
          : createPacketizer(format.track, {
            payloadType,
            continueFrom: have.packetizer,
          });
        next.set(format.track.id, {
          ...have,
          packetizer,
          format: { ...format, payloadType },
        });
        continue;
      }
      next.set(format.track.id, {
        format,
        packetizer: createPacketizer(format.track, {
          payloadType: format.payloadType,
        }),
        lastPts: undefined,
        packets: 0,
        octets: 0,
        roc: 0,
        lastSeq: 0,
      });
    }
    this.#tracks = next;
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
        const p: RtpPacketOut = {
          bytes,
          kind,
          trackId: frame.trackId,
          seq,
          rtptime,
          roc: t.roc,
        };
        out.push(p);
        for (const r of this.#readers) {
          r.offer(
            frame.trackId,
            r.srtp ? this.#srtp.rtp(frame.trackId, p) : p,
            false,
          );
        }
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
      const seconds = t.lastPts / t.format.track.clockRate;
      const { ntpSeconds, ntpFraction } = msToNtp(
        anchor.wallMs + (seconds - anchor.seconds) * 1000,
      );
      const bytes = encodeRtcp([{
        kind: "sr",
        ssrc: t.packetizer.ssrc,
        ntpSeconds,
        ntpFraction,
        rtpTimestamp: t.packetizer.rtpTimestamp(t.lastPts),
        packetCount: t.packets >>> 0,
        octetCount: t.octets >>> 0,
        reports: [],
      }]);
      this.#offerRtcp(this.#readers, id, { bytes, kind: PACKET_KIND.CONTROL });
    }
  }

  /** An RTCP packet of `trackId` to `readers`: SRTCP to SRTP readers, protected once. */
  #offerRtcp(readers: Iterable<RtpReader>, trackId: number, p: Packet): void {
    let secure: Packet | undefined;
    for (const r of readers) {
      if (!r.srtp) r.offer(trackId, p, true);
      else r.offer(trackId, secure ??= this.#srtp.rtcp(trackId, p), true);
    }
  }

  /** The stream ended: every reader gets an RTCP BYE for each track (RFC 3550 §6.6), then onEnd. */
  end(): void {
    const readers = [...this.#readers];
    this.#readers.clear();
    for (const [id, t] of this.#tracks) {
      const bytes = encodeRtcp([{
        kind: "bye",
        ssrcs: [t.packetizer.ssrc],
        reason: "stream ended",
      }]);
      this.#offerRtcp(readers, id, { bytes, kind: PACKET_KIND.CONTROL });
    }
    for (const r of readers) r.onEnd();
  }
}

/** Seconds of the stream's timeline at which a track's start lies. */
function startSeconds(t: TrackOut, lastPts: number, start: RtpStart): number {
  // A start is at most a GOP before the last frame: the signed step is exact across a wrap.
  const step = (start.rtptime - t.packetizer.rtpTimestamp(lastPts)) | 0;
  return (lastPts + step) / t.format.track.clockRate;
}

/**
 * The RTSP output of `stream`, made on first use. Its SRTP keys are the
 * stream's own ({@link streamSrtpKey}), so the key a DESCRIBE gave out
 * still holds at PLAY even if the output was dropped and made again.
 */
export function rtspOutput(stream: Pick<Stream, "output">): RtpOutput {
  return stream.output<RtpOutput>(
    "rtsp",
    (cached) =>
      new RtpOutput(cached, { srtpKey: (id) => streamSrtpKey(stream, id) }),
  );
}
