/**
 * Tracks: what a stream carries, independent of the protocol it came in on.
 *
 * @module
 */

/** Codec identifiers of the media model. */
export const CODEC = {
  H264: "H264",
  H265: "H265",
  AV1: "AV1",
  VP9: "VP9",
  AAC: "AAC",
  MP3: "MP3",
  OPUS: "OPUS",
  PCMA: "PCMA",
  PCMU: "PCMU",
} as const;
/** One of {@link CODEC}. */
export type Codec = typeof CODEC[keyof typeof CODEC];
/** Video codecs. */
export type VideoCodec = "H264" | "H265" | "AV1" | "VP9";
/** Audio codecs. */
export type AudioCodec = "AAC" | "MP3" | "OPUS" | "PCMA" | "PCMU";

/** Clock of every video track in the model: 90 kHz, as RTP uses (RFC 3551 §5). */
export const VIDEO_CLOCK_RATE = 90000;

/** H.264/H.265 parameter sets, NAL units without start codes. */
export interface ParameterSets {
  /** H.265 only. */
  vps?: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** A video track. */
export interface VideoTrack {
  kind: "video";
  /** Position of the track in its stream. */
  id: number;
  codec: VideoCodec;
  /** Always {@link VIDEO_CLOCK_RATE}. */
  clockRate: number;
  /** Coded size, when known from the parameter sets or metadata. */
  width?: number;
  height?: number;
  /** H.264 / H.265 parameter sets. */
  parameterSets?: ParameterSets;
  /** Codec configuration record as carried in FLV/MP4 (avcC, hvcC, av1C, vpcC), when known. */
  record?: Uint8Array;
}

/** An audio track. */
export interface AudioTrack {
  kind: "audio";
  id: number;
  codec: AudioCodec;
  /** Ticks per second: the sample rate (RTP payloads with another clock, such as MP3 at 90 kHz, rescale). */
  clockRate: number;
  sampleRate: number;
  channels: number;
  /** AAC: the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
  config?: Uint8Array;
}

/** A track of a stream. */
export type Track = VideoTrack | AudioTrack;
