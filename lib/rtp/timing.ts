/**
 * RTP time: 32-bit RTP timestamps to and from media-model ticks, NTP wall
 * clock times, and RTCP Sender Report synchronisation (RFC 3550 §6.4.1).
 *
 * An RTP timestamp starts at a random value (RFC 3550 §5.1) and wraps at
 * 2^32; the media model counts ticks on one continuous line. The NTP time
 * and RTP time of a Sender Report name the same instant, which is how tracks
 * of one source line up: each track's ticks map to the sender's wall clock.
 * Time always arrives as an argument (Unix milliseconds); nothing here reads
 * a clock.
 *
 * @module
 */

import { rescale, Unwrapper32 } from "../media/mod.ts";
import { msToNtp, ntpToMs, type RtcpSenderReport } from "./rtcp.ts";

const TWO_32 = 0x1_0000_0000;

/**
 * The NTP time and RTP time of a Sender Report (RFC 3550 §6.4.1): an
 * {@link RtcpSenderReport} fits.
 */
export type SenderReportTimes = Pick<
  RtcpSenderReport,
  "ntpSeconds" | "ntpFraction" | "rtpTimestamp"
>;

/** A random 32-bit initial RTP timestamp (RFC 3550 §5.1). */
export function randomRtpTimestamp(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/**
 * RTP timestamps of one track → media-model ticks: unwrapped across 2^32
 * (a small step back stays a step back) and rescaled when the track clock
 * differs from the RTP clock. The first timestamp maps to itself.
 */
export class RtpTimestampUnwrapper {
  readonly #unwrapper = new Unwrapper32();
  readonly #rtpClockRate: number;
  readonly #trackClockRate: number;

  constructor(rtpClockRate: number, trackClockRate: number = rtpClockRate) {
    this.#rtpClockRate = rtpClockRate;
    this.#trackClockRate = trackClockRate;
  }

  /** Ticks in the track's clock of RTP timestamp `rtpTimestamp`. */
  ticks(rtpTimestamp: number): number {
    return rescale(
      this.#unwrapper.unwrap(rtpTimestamp),
      this.#rtpClockRate,
      this.#trackClockRate,
    );
  }
}

/** Options of {@link RtpTimestamper}. */
export interface RtpTimestamperOptions {
  /** @default the track clock rate */
  rtpClockRate?: number;
  /** RTP timestamp of tick 0. @default {randomRtpTimestamp()} */
  initialTimestamp?: number;
}

/** Media-model ticks → RTP timestamps of one outgoing track: a random start, wrapping at 2^32. */
export class RtpTimestamper {
  /** Ticks per second of the frames stamped. */
  readonly trackClockRate: number;
  /** Ticks per second of the RTP timestamps. */
  readonly rtpClockRate: number;
  /** The RTP timestamp of tick 0. */
  readonly initialTimestamp: number;

  constructor(trackClockRate: number, options: RtpTimestamperOptions = {}) {
    this.trackClockRate = trackClockRate;
    this.rtpClockRate = options.rtpClockRate ?? trackClockRate;
    this.initialTimestamp =
      (options.initialTimestamp ?? randomRtpTimestamp()) >>> 0;
  }

  /** The RTP timestamp of a frame at `ticks` of the track clock (any integer, negative too). */
  timestamp(ticks: number): number {
    const rtp = this.initialTimestamp +
      rescale(ticks, this.trackClockRate, this.rtpClockRate);
    return ((rtp % TWO_32) + TWO_32) % TWO_32;
  }
}

/** Options of {@link SrSync}. */
export interface SrSyncOptions {
  /**
   * Local Unix time (ms) of timeline zero.
   * @default the local time of the first frame mapped
   */
  originMs?: number;
}

interface SyncTrack {
  clockRate: number;
  /** Latest Sender Report: sender wall clock (Unix ms) and raw RTP timestamp. */
  sr?: { senderMs: number; rtpTimestamp: number };
  offset?: number;
  lastDts?: number;
  /** Local time (ms) of tick 0 of the track's dts line, once locked. */
  lockedZeroMs?: number;
}

/**
 * Lines up the tracks of one RTP source on a common timeline using RTCP
 * Sender Reports (RFC 3550 §6.4.1).
 *
 * Each track's frames carry ticks on the line of its unwrapped RTP
 * timestamps ({@link RtpTimestampUnwrapper}). {@link SrSync.offset} returns
 * the ticks to add to a track's dts and pts so that `(dts + offset) /
 * clockRate` is seconds since one origin shared by all tracks. A track's
 * offset is fixed the first time it is asked for, so its timestamps stay
 * monotonic: from the track's Sender Report when one has arrived, else from
 * the frame's arrival time. An owner that wants Sender Report precision holds
 * frames until {@link SrSync.hasSenderReport} (or a timeout).
 *
 * The sender's wall clock is related to the local one once, by the first
 * Sender Report of any track (local arrival time − sender NTP time, network
 * delay included), so arrival-locked and report-locked tracks share a
 * timeline.
 *
 * @example Audio and video of one camera on one timeline
 * ```ts
 * import assert from "node:assert/strict";
 * import { SrSync } from "./timing.ts";
 * import { msToNtp } from "./rtcp.ts";
 *
 * const sync = new SrSync();
 * sync.addTrack(0, 90000); // video
 * sync.addTrack(1, 48000); // audio
 * const t = Date.UTC(2025, 0, 1);
 * sync.senderReport(0, { ...msToNtp(t), rtpTimestamp: 1_000_000 }, t + 20);
 * sync.senderReport(1, { ...msToNtp(t), rtpTimestamp: 3_000 }, t + 20);
 * // Frames captured 1 s after the reports' instant, on each track's own RTP line:
 * const video = 1_000_000 + 90000;
 * const audio = 3_000 + 48000;
 * const v = (video + sync.offset(0, video, t + 1030)) / 90000;
 * const a = (audio + sync.offset(1, audio, t + 1040)) / 48000;
 * assert.equal(v, a); // seconds on the common timeline
 * ```
 */
export class SrSync {
  readonly #tracks = new Map<number, SyncTrack>();
  #originMs: number | undefined;
  /** Local time minus sender time, from the first Sender Report. */
  #senderToLocalMs: number | undefined;

  constructor(options: SrSyncOptions = {}) {
    this.#originMs = options.originMs;
  }

  /** Declares a track and its clock rate (ticks per second of its dts). */
  addTrack(trackId: number, clockRate: number): void {
    if (!(clockRate > 0)) {
      throw new RangeError(
        `Cannot add track ${trackId}: clock rate ${clockRate}`,
      );
    }
    this.#tracks.set(trackId, { clockRate });
  }

  /** Takes a Sender Report of a track, received at local Unix time `nowMs`. */
  senderReport(trackId: number, sr: SenderReportTimes, nowMs: number): void {
    const track = this.#track(trackId);
    const senderMs = ntpToMs(sr.ntpSeconds, sr.ntpFraction);
    this.#senderToLocalMs ??= nowMs - senderMs;
    track.sr = { senderMs, rtpTimestamp: sr.rtpTimestamp >>> 0 };
  }

  /** Whether a Sender Report of the track has arrived. */
  hasSenderReport(trackId: number): boolean {
    return this.#track(trackId).sr !== undefined;
  }

  /**
   * Ticks to add to the track's timestamps to put them on the common
   * timeline. `dts` is the frame about to be converted, `nowMs` the local
   * Unix time it arrived; both only matter the first time.
   */
  offset(trackId: number, dts: number, nowMs: number): number {
    const track = this.#track(trackId);
    track.lastDts = dts;
    if (track.offset !== undefined) return track.offset;
    const localMs = this.#senderLocalMs(track, dts) ?? nowMs;
    this.#originMs ??= localMs;
    const timeline = Math.round(
      ((localMs - this.#originMs) * track.clockRate) / 1000,
    );
    track.offset = timeline - dts;
    track.lockedZeroMs = localMs - (dts * 1000) / track.clockRate;
    return track.offset;
  }

  /** The offset fixed for a track, if any. */
  lockedOffset(trackId: number): number | undefined {
    return this.#track(trackId).offset;
  }

  /**
   * How far (ms) the latest Sender Report of a track puts its last frame
   * from where the fixed offset put it: the sender's RTP clock drifting
   * against its NTP clock, or a track fixed by arrival time. The owner may
   * log it; the offsets stay.
   */
  driftMs(trackId: number): number | undefined {
    const track = this.#track(trackId);
    if (track.lockedZeroMs === undefined || track.lastDts === undefined) {
      return undefined;
    }
    const reported = this.#senderLocalMs(track, track.lastDts);
    if (reported === undefined) return undefined;
    return reported -
      (track.lockedZeroMs + (track.lastDts * 1000) / track.clockRate);
  }

  /** Local time of `dts` by the track's latest Sender Report. */
  #senderLocalMs(track: SyncTrack, dts: number): number | undefined {
    if (track.sr === undefined || this.#senderToLocalMs === undefined) {
      return undefined;
    }
    // The report's RTP timestamp, put on the dts line: the nearest value ≡ it mod 2^32.
    const srTicks = dts + ((track.sr.rtpTimestamp - wrap32(dts)) | 0);
    const senderMs = track.sr.senderMs +
      ((dts - srTicks) * 1000) / track.clockRate;
    return senderMs + this.#senderToLocalMs;
  }

  #track(trackId: number): SyncTrack {
    const track = this.#tracks.get(trackId);
    if (track === undefined) {
      throw new RangeError(`Cannot sync track ${trackId}: not added`);
    }
    return track;
  }
}

/**
 * What our own Sender Reports carry for the tracks of one outgoing session
 * (RFC 3550 §6.4.1): the session's media timeline is tied to the wall clock
 * once, by the first frame sent, and every track's RTP time for a wall time
 * follows from it, so receivers line the tracks up as we do.
 */
export class SenderReportClock {
  #anchorSeconds: number | undefined;
  #anchorMs = 0;

  /** Whether the timeline is tied to the wall clock yet. */
  get anchored(): boolean {
    return this.#anchorSeconds !== undefined;
  }

  /**
   * Ties the timeline to the wall clock: a frame at `dts` ticks of
   * `clockRate` is being sent at Unix time `nowMs`. Only the first call
   * after construction or {@link SenderReportClock.reset} counts.
   */
  anchor(dts: number, clockRate: number, nowMs: number): void {
    if (this.#anchorSeconds !== undefined) return;
    this.#anchorSeconds = dts / clockRate;
    this.#anchorMs = nowMs;
  }

  /** Forgets the anchor, after a discontinuity of the timeline. */
  reset(): void {
    this.#anchorSeconds = undefined;
  }

  /**
   * The NTP and RTP times of a Sender Report sent at Unix time `nowMs` for
   * the track stamped by `stamper`; undefined before the first anchor.
   */
  report(
    nowMs: number,
    stamper: RtpTimestamper,
  ): SenderReportTimes | undefined {
    if (this.#anchorSeconds === undefined) return undefined;
    const seconds = this.#anchorSeconds + (nowMs - this.#anchorMs) / 1000;
    const ticks = Math.round(seconds * stamper.trackClockRate);
    return { ...msToNtp(nowMs), rtpTimestamp: stamper.timestamp(ticks) };
  }
}

function wrap32(n: number): number {
  return ((n % TWO_32) + TWO_32) % TWO_32;
}
