/**
 * Where a new RTSP reader's RTP begins on each track, for RTP-Info (RFC
 * 2326 §12.33): the sequence number of its first packet and every track's
 * RTP time of one instant. Private to `egress/`.
 *
 * @module
 */

import type { TrackOut } from "./_rtp_track.ts";

/** Where a new reader's RTP begins, per track (for RTP-Info). */
export interface RtpStart {
  trackId: number;
  seq: number;
  rtptime: number;
}

/**
 * Where a reader attached now would begin on each of `trackIds`: the first
 * of the `cached` packets (the GOP cache's, in order), or the next packet.
 */
export function rtpStarts(
  tracks: ReadonlyMap<number, TrackOut>,
  cached: readonly RtpStart[],
  trackIds: ReadonlySet<number>,
): RtpStart[] {
  const starts = new Map<number, RtpStart>();
  for (let i = 0; i < cached.length && starts.size < trackIds.size; i++) {
    const p = cached[i]!;
    if (trackIds.has(p.trackId) && !starts.has(p.trackId)) {
      starts.set(p.trackId, {
        trackId: p.trackId,
        seq: p.seq,
        rtptime: p.rtptime,
      });
    }
  }
  const fromCache = new Set(starts.keys());
  for (const id of trackIds) {
    const t = tracks.get(id);
    if (t === undefined || starts.has(id)) continue;
    const pts = t.lastPts ?? 0;
    starts.set(id, {
      trackId: id,
      seq: t.packetizer.sequenceNumber,
      rtptime: t.packetizer.rtpTimestamp(pts),
    });
  }
  return atOneInstant(tracks, [...starts.values()], fromCache);
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
function atOneInstant(
  tracks: ReadonlyMap<number, TrackOut>,
  starts: RtpStart[],
  cached: ReadonlySet<number>,
): RtpStart[] {
  const some = starts.some((s) => cached.has(s.trackId));
  let seconds = Infinity;
  for (const s of starts) {
    const t = tracks.get(s.trackId);
    if (t?.lastPts === undefined || (some && !cached.has(s.trackId))) {
      continue;
    }
    seconds = Math.min(seconds, startSeconds(t, t.lastPts, s));
  }
  if (seconds === Infinity) return starts;
  return starts.map((s) => {
    const t = tracks.get(s.trackId);
    if (t === undefined) return s;
    const ticks = Math.round(seconds * t.format.track.clockRate);
    return { ...s, rtptime: t.packetizer.rtpTimestamp(ticks) };
  });
}

/**
 * Where each of `trackIds` begins when its next frame is the instant
 * `seconds` of the stream's timeline: the next sequence number, and that
 * instant's RTP time.
 */
export function rtpStartsAt(
  tracks: ReadonlyMap<number, TrackOut>,
  trackIds: ReadonlySet<number>,
  seconds: number,
): RtpStart[] {
  const starts: RtpStart[] = [];
  for (const id of trackIds) {
    const t = tracks.get(id);
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

/** Seconds of the stream's timeline at which a track's start lies. */
function startSeconds(t: TrackOut, lastPts: number, start: RtpStart): number {
  // A start is at most a GOP before the last frame: the signed step is exact across a wrap.
  const step = (start.rtptime - t.packetizer.rtpTimestamp(lastPts)) | 0;
  return (lastPts + step) / t.format.track.clockRate;
}
