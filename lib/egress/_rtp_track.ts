/**
 * One track of an `RtpOutput`: its packetizer, which lives on across
 * a publisher takeover while the codec stays, the counters a Sender Report
 * announces, and its RTCP Sender Report and BYE. Private to `egress/`.
 *
 * @module
 */

import type { Track } from "../media/track.ts";
import { INTERLEAVED_HEADER_SIZE } from "../rtsp/interleaved.ts";
import { sameParameterSets } from "./parameter_sets.ts";
import { encodeRtcp, msToNtp } from "../rtp/rtcp.ts";
import {
  createPacketizer,
  describeTracks,
  type TrackFormat,
  type TrackPacketizer,
} from "../format/tracks.ts";

/** The RTP stream of one track. */
export interface TrackOut {
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

/** The wall clock and the stream-timeline second it was at, fixed at the first frame. */
export interface WallAnchor {
  wallMs: number;
  seconds: number;
}

/** The RTP streams of `tracks`, going on from those in `have`. */
export function nextTrackOuts(
  have: ReadonlyMap<number, TrackOut>,
  tracks: readonly Track[],
): Map<number, TrackOut> {
  const next = new Map<number, TrackOut>();
  for (const format of describeTracks(tracks)) {
    const old = have.get(format.track.id);
    // While a track's codec stays, its RTP stream goes on (SSRC, sequence numbers,
    // timestamps): a takeover must look like one continuous stream to the readers.
    // New parameter sets still need a new packetizer: it sends them before keyframes.
    if (old !== undefined && old.format.track.codec === format.track.codec) {
      const payloadType = old.format.payloadType;
      const packetizer = sameParameterSets(old.format.track, format.track)
        ? old.packetizer
        : createPacketizer(format.track, {
          payloadType,
          continueFrom: old.packetizer,
          headroom: INTERLEAVED_HEADER_SIZE,
        });
      next.set(format.track.id, {
        ...old,
        packetizer,
        format: { ...format, payloadType },
      });
      continue;
    }
    next.set(format.track.id, {
      format,
      packetizer: createPacketizer(format.track, {
        payloadType: format.payloadType,
        headroom: INTERLEAVED_HEADER_SIZE,
      }),
      lastPts: undefined,
      packets: 0,
      octets: 0,
      roc: 0,
      lastSeq: 0,
    });
  }
  return next;
}

/**
 * The RTCP Sender Report of a track that has sent a frame at `lastPts`: it
 * ties the track's RTP clock to the wall clock through `anchor`, one for
 * every track, which is how players line audio up with video.
 */
export function senderReport(
  t: TrackOut,
  lastPts: number,
  anchor: WallAnchor,
): Uint8Array {
  const seconds = lastPts / t.format.track.clockRate;
  const { ntpSeconds, ntpFraction } = msToNtp(
    anchor.wallMs + (seconds - anchor.seconds) * 1000,
  );
  return encodeRtcp([{
    kind: "sr",
    ssrc: t.packetizer.ssrc,
    ntpSeconds,
    ntpFraction,
    rtpTimestamp: t.packetizer.rtpTimestamp(lastPts),
    packetCount: t.packets >>> 0,
    octetCount: t.octets >>> 0,
    reports: [],
  }]);
}

/** The RTCP BYE of a track whose stream ended (RFC 3550 §6.6). */
export function byeReport(t: TrackOut): Uint8Array {
  return encodeRtcp([{
    kind: "bye",
    ssrcs: [t.packetizer.ssrc],
    reason: "stream ended",
  }]);
}
