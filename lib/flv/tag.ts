/**
 * FLV tags and the numbers inside their bodies: Adobe Flash Video File
 * Format Specification v10.1 Annex E, and Enhanced RTMP v1/v2 (Veovera).
 *
 * @module
 */

import type { Frame, Track } from "../media/mod.ts";

/** TagType, FLV v10.1 §E.4.1. */
export const FLV_TAG_TYPE = {
  AUDIO: 8,
  VIDEO: 9,
  SCRIPT: 18,
} as const;
/** One of {@link FLV_TAG_TYPE}. */
export type FlvTagType = typeof FLV_TAG_TYPE[keyof typeof FLV_TAG_TYPE];

/** One FLV tag: an RTMP audio/video/data message or a tag of an FLV file. */
export interface FlvTag {
  type: FlvTagType;
  /** Milliseconds, continuous (already unwrapped past 2^32 by the caller). */
  timestamp: number;
  /** The tag body (AUDIODATA, VIDEODATA or SCRIPTDATA). */
  data: Uint8Array;
}

/** FrameType, FLV v10.1 §E.4.3.1 (UB[4]; UB[3] in an ExVideoTagHeader). */
export const FLV_FRAME_TYPE = {
  KEY: 1,
  INTER: 2,
  DISPOSABLE_INTER: 3,
  GENERATED_KEY: 4,
  /** Video info/command frame: one UI8 command, no picture. */
  COMMAND: 5,
} as const;

/**
 * CodecID of a legacy VIDEODATA, FLV v10.1 §E.4.3.1. 12 is not in the spec:
 * Chinese CDNs and older OBS forks flag HEVC with it, body laid out as AVC.
 */
export const FLV_VIDEO_CODEC_ID = {
  AVC: 7,
  HEVC: 12,
} as const;

/** AVCPacketType, FLV v10.1 §E.4.3.1 (also used with codec id 12). */
export const AVC_PACKET_TYPE = {
  SEQUENCE_HEADER: 0,
  NALU: 1,
  END_OF_SEQUENCE: 2,
} as const;

/** SoundFormat, FLV v10.1 §E.4.2.1; 9 is Enhanced RTMP's ExHeader. */
export const FLV_SOUND_FORMAT = {
  MP3: 2,
  PCMA: 7,
  PCMU: 8,
  EX_HEADER: 9,
  AAC: 10,
  MP3_8K: 14,
} as const;

/** AACPacketType, FLV v10.1 §E.4.2.2. */
export const AAC_PACKET_TYPE = {
  SEQUENCE_HEADER: 0,
  RAW: 1,
} as const;

/** Bit 7 of the first VIDEODATA byte: an ExVideoTagHeader follows (Enhanced RTMP). */
export const EX_HEADER_FLAG = 0x80;

/** VideoPacketType, Enhanced RTMP v1 and v2 ("Enhanced Video"). */
export const VIDEO_PACKET_TYPE = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  /** CodedFrames with an implied composition time of 0. */
  CODED_FRAMES_X: 3,
  METADATA: 4,
  MPEG2TS_SEQUENCE_START: 5,
  MULTITRACK: 6,
  MOD_EX: 7,
} as const;

/** AudioPacketType, Enhanced RTMP v2 ("Enhanced Audio"). */
export const AUDIO_PACKET_TYPE = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  MULTICHANNEL_CONFIG: 4,
  MULTITRACK: 5,
  MOD_EX: 7,
} as const;

/** AvMultitrackType, Enhanced RTMP v2. */
export const AV_MULTITRACK_TYPE = {
  ONE_TRACK: 0,
  MANY_TRACKS: 1,
  MANY_TRACKS_MANY_CODECS: 2,
} as const;

/** A FourCC as the big-endian 32-bit number it is on the wire. */
export function fourCc(text: string): number {
  return ((text.charCodeAt(0) << 24) | (text.charCodeAt(1) << 16) |
    (text.charCodeAt(2) << 8) |
    text.charCodeAt(3)) >>> 0;
}

/** The text of a FourCC number, for messages. */
export function fourCcText(value: number): string {
  return String.fromCharCode(
    value >>> 24,
    (value >>> 16) & 0xff,
    (value >>> 8) & 0xff,
    value & 0xff,
  );
}

/** Video FourCCs of Enhanced RTMP. */
export const VIDEO_FOURCC: Readonly<
  Record<"AVC" | "HEVC" | "AV1" | "VP9", number>
> = {
  AVC: fourCc("avc1"),
  HEVC: fourCc("hvc1"),
  AV1: fourCc("av01"),
  VP9: fourCc("vp09"),
} as const;

/** Audio FourCCs of Enhanced RTMP v2. */
export const AUDIO_FOURCC: Readonly<Record<"AAC" | "OPUS" | "MP3", number>> = {
  AAC: fourCc("mp4a"),
  OPUS: fourCc("Opus"),
  MP3: fourCc(".mp3"),
} as const;

/**
 * What FLV tags mean in the media model: a new or changed track (on a
 * sequence header, or for codecs without one on the first frame or a change
 * of format), a frame, or a SCRIPTDATA body (onMetaData …).
 */
export type FlvEvent =
  | { kind: "track"; track: Track }
  | { kind: "frame"; frame: Frame }
  | { kind: "script"; data: Uint8Array };
