/**
 * The shape every codec file of `format/` has (as gortsplib's `pkg/format`):
 * describe a track in SDP, read one back, build its packetizer. `tracks.ts`
 * dispatches over these; the types it exports are defined here so the codec
 * files need not import it.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type {
  AudioTrack,
  ParameterSets,
  Track,
  VideoTrack,
} from "../media/track.ts";
import type { RtpPayloadPacket } from "../rtp/packet.ts";
import type { SdpMedia } from "../sdp/types.ts";
import type { Sink, StageCore } from "../stage.ts";

/** A packetizer core with the numbers RTP-Info and Sender Reports need. */
export interface TrackPacketizer extends StageCore<Frame, Uint8Array> {
  readonly ssrc: number;
  /** Sequence number of the next packet. */
  readonly sequenceNumber: number;
  /** RTP timestamp of a presentation time in track ticks. */
  rtpTimestamp(pts: number): number;
}

/** A track read from an SDP media description, with what turns its packets into frames. */
export interface SdpTrack {
  track: Track;
  media: SdpMedia;
  payloadType: number;
  /** Creates the depacketizer; `onParameterSets` hears H.264/H.265 sets found in-band. */
  depacketizer(
    onParameterSets?: (sets: ParameterSets) => void,
  ): StageCore<RtpPayloadPacket, Frame>;
}

/** What a codec reads from a media description: the track and its depacketizer. */
export type ReadTrack = Pick<SdpTrack, "track" | "depacketizer">;

/** An `a=rtpmap` value, `encoding/clock rate[/channels]`, as fields. */
export interface Rtpmap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

/** What a codec writes into its media description: `a=rtpmap` and `a=fmtp`. */
export interface MediaParts {
  rtpmap: Rtpmap;
  fmtp?: string;
}

/** The options `createPacketizer` hands every codec's packetizer. */
export interface PacketizerBase {
  payloadType: number;
  maxPacketSize: number;
  /** Set when going on from another packetizer. */
  ssrc?: number;
  sequenceNumber?: number;
  timestampOffset?: number;
  /** Bytes free in front of each packet (see the packetizers' `headroom`). */
  headroom?: number;
}

/** One codec family: its SDP description and which RTP payload format it needs. */
export interface CodecFormat<T extends Track> {
  /** Codecs of the media model it describes and packetizes. */
  readonly codecs: readonly T["codec"][];
  /** `a=rtpmap` encoding names it reads, upper case. */
  readonly encodings: readonly string[];
  /** The static payload type of a track, when it has one (else a dynamic one). */
  staticPayloadType?(track: T): number | undefined;
  /** The rtpmap a static payload type implies when the SDP gives none. */
  staticRtpmap?(payloadType: number): Rtpmap | undefined;
  /** Track → `a=rtpmap` and `a=fmtp`; `track.codec` is one of {@link codecs}. */
  describe(track: T): MediaParts;
  /**
   * SDP → track of id `id`; `rtpmap.encoding` is upper case and one of
   * {@link encodings}, `params` the fmtp parameters as written.
   */
  read(
    rtpmap: Rtpmap,
    params: Record<string, string>,
    id: number,
  ): ReadTrack;
  /** The packetizer of a track; `track.codec` is one of {@link codecs}. */
  packetizer(track: T, base: PacketizerBase): TrackPacketizer;
}

/** A video codec family, which also builds tracks from parameter sets. */
export interface VideoFormat extends CodecFormat<VideoTrack> {
  /** A video track with size and record from its parameter sets, when they are known. */
  videoTrack(id: number, sets: ParameterSets | undefined): VideoTrack;
}

/** An audio codec family. */
export type AudioFormat = CodecFormat<AudioTrack>;

/** What every RTP packetizer of `rtp/` offers. */
export interface RtpPacketizer extends StageCore<Frame, Uint8Array> {
  readonly ssrc: number;
  readonly sequenceNumber: number;
}

/** An RTP packetizer as a {@link TrackPacketizer}, its RTP timestamps by `rtpTimestamp`. */
export function trackPacketizer(
  p: RtpPacketizer,
  rtpTimestamp: (pts: number) => number,
): TrackPacketizer {
  return {
    push: (f: Frame, out: Sink<Uint8Array>) => p.push(f, out),
    get ssrc() {
      return p.ssrc;
    },
    get sequenceNumber() {
      return p.sequenceNumber;
    },
    rtpTimestamp,
  };
}

/** An rtpmap value, `encoding/clock rate[/channels]`, as fields. */
export function rtpmapOf(text: string): Rtpmap {
  const [encoding, rate, channels] = text.split("/");
  return {
    encoding: encoding!,
    clockRate: Number(rate),
    channels: channels === undefined ? undefined : Number(channels),
  };
}
