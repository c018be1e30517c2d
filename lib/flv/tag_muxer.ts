/**
 * The media model → FLV tag bodies. The server calls these once per frame and
 * shares the result with every player, so each body is sized exactly and
 * allocated once. H.264 goes out as legacy AVC (FLV v10.1 §E.4.3.1); H.265,
 * AV1 and VP9 as Enhanced RTMP v1 (ExVideoTagHeader with a FourCC); AAC, MP3
 * and G.711 as legacy audio (§E.4.2.1) and Opus as Enhanced RTMP v2.
 *
 * @module
 */

import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { AudioTrack, Frame, Track, VideoTrack } from "../media/mod.ts";
import { buildAvcc } from "../codec/h264/avcc.ts";
import { buildHvcc } from "../codec/h265/hvcc.ts";
import { buildAudioSpecificConfig } from "../codec/aac/asc.ts";
import { buildOpusHead } from "../codec/opus/head.ts";
import {
  AAC_PACKET_TYPE,
  AUDIO_FOURCC,
  AUDIO_PACKET_TYPE,
  AVC_PACKET_TYPE,
  EX_HEADER_FLAG,
  FLV_FRAME_TYPE,
  FLV_SOUND_FORMAT,
  FLV_TAG_TYPE,
  FLV_VIDEO_CODEC_ID,
  type FlvEvent,
  type FlvTag,
  VIDEO_FOURCC,
  VIDEO_PACKET_TYPE,
} from "./tag.ts";

const SI24_MIN = -0x800000;
const SI24_MAX = 0x7fffff;

/**
 * The sequence header tag body of a video track: legacy AVC for H.264,
 * Enhanced RTMP SequenceStart for H.265 ('hvc1'), AV1 ('av01') and VP9
 * ('vp09'). The record is the track's, or built from its parameter sets, and
 * always announces the 4-byte NAL unit lengths {@link videoTagBody} writes.
 */
export function videoSequenceHeader(
  track: VideoTrack,
): Uint8Array<ArrayBuffer> {
  const record = recordOf(track);
  if (track.codec === "H264") {
    const out = new Uint8Array(5 + record.length);
    out[0] = (FLV_FRAME_TYPE.KEY << 4) | FLV_VIDEO_CODEC_ID.AVC;
    out[1] = AVC_PACKET_TYPE.SEQUENCE_HEADER; // composition time stays 0
    out.set(record, 5);
    out[5 + 4] = out[5 + 4]! | 0x03; // lengthSizeMinusOne = 3
    return out;
  }
  const out = exVideoHeader(
    track,
    FLV_FRAME_TYPE.KEY,
    VIDEO_PACKET_TYPE.SEQUENCE_START,
    record.length,
  );
  out.set(record, 5);
  if (track.codec === "H265") out[5 + 21] = out[5 + 21]! | 0x03; // lengthSizeMinusOne = 3
  return out;
}

/**
 * The tag body of one video frame: 4-byte length-prefixed NAL units with the
 * composition time `round((pts - dts) / 90)` ms as signed 24 bits for
 * H.264/H.265 (CodedFramesX when it is 0 for H.265), the frame's units as
 * they are for AV1 and VP9.
 */
export function videoTagBody(
  track: VideoTrack,
  frame: Frame,
): Uint8Array<ArrayBuffer> {
  const frameType = frame.keyframe ? FLV_FRAME_TYPE.KEY : FLV_FRAME_TYPE.INTER;
  const nalus = track.codec === "H264" || track.codec === "H265";
  let payload = 0;
  for (const u of frame.units) payload += u.length + (nalus ? 4 : 0);
  const cts = nalus ? compositionMs(track, frame) : 0;
  let out: Uint8Array<ArrayBuffer>;
  let pos: number;
  if (track.codec === "H264") {
    out = new Uint8Array(5 + payload);
    out[0] = (frameType << 4) | FLV_VIDEO_CODEC_ID.AVC;
    out[1] = AVC_PACKET_TYPE.NALU;
    writeSi24(out, 2, cts);
    pos = 5;
  } else if (cts !== 0) {
    out = exVideoHeader(
      track,
      frameType,
      VIDEO_PACKET_TYPE.CODED_FRAMES,
      3 + payload,
    );
    writeSi24(out, 5, cts);
    pos = 8;
  } else {
    const type = track.codec === "H265"
      ? VIDEO_PACKET_TYPE.CODED_FRAMES_X
      : VIDEO_PACKET_TYPE.CODED_FRAMES;
    out = exVideoHeader(track, frameType, type, payload);
    pos = 5;
  }
  const view = new DataView(out.buffer);
  for (const u of frame.units) {
    if (nalus) {
      view.setUint32(pos, u.length);
      pos += 4;
    }
    out.set(u, pos);
    pos += u.length;
  }
  return out;
}

/**
 * The sequence header tag body of an audio track: AAC's AudioSpecificConfig
 * (the track's, or built from rate and channels), Opus' OpusHead (Enhanced
 * RTMP v2); undefined for codecs without one.
 */
export function audioSequenceHeader(
  track: AudioTrack,
): Uint8Array<ArrayBuffer> | undefined {
  if (track.codec === "AAC") {
    const config = track.config ?? buildAudioSpecificConfig(track);
    const out = new Uint8Array(2 + config.length);
    out[0] = AAC_FLAGS;
    out[1] = AAC_PACKET_TYPE.SEQUENCE_HEADER;
    out.set(config, 2);
    return out;
  }
  if (track.codec === "OPUS") {
    const head = buildOpusHead(Math.min(track.channels, 2));
    const out = exAudioHeader(AUDIO_PACKET_TYPE.SEQUENCE_START, head.length);
    out.set(head, 5);
    return out;
  }
  return undefined;
}

/** The tag body of one audio frame: flags (and AACPacketType) or an ExAudioTagHeader, then the frame. */
export function audioTagBody(
  track: AudioTrack,
  frame: Frame,
): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const u of frame.units) size += u.length;
  let out: Uint8Array<ArrayBuffer>;
  let pos: number;
  if (track.codec === "OPUS") {
    out = exAudioHeader(AUDIO_PACKET_TYPE.CODED_FRAMES, size);
    pos = 5;
  } else if (track.codec === "AAC") {
    out = new Uint8Array(2 + size);
    out[0] = AAC_FLAGS;
    out[1] = AAC_PACKET_TYPE.RAW;
    pos = 2;
  } else {
    out = new Uint8Array(1 + size);
    out[0] = legacyAudioFlags(track);
    pos = 1;
  }
  for (const u of frame.units) {
    out.set(u, pos);
    pos += u.length;
  }
  return out;
}

/** A time in `track`'s clock ticks as FLV milliseconds, rounded. */
export function tagTimestampMs(track: Track, ticks: number): number {
  return Math.round((ticks * 1000) / track.clockRate);
}

/**
 * AAC: "SoundRate 3 (44 kHz) and SoundType 1 (stereo)" whatever the stream,
 * FLV v10.1 §E.4.2.1; the AudioSpecificConfig says the truth.
 */
const AAC_FLAGS = (FLV_SOUND_FORMAT.AAC << 4) | (3 << 2) | (1 << 1) | 1;

/** SoundFormat | SoundRate | SoundSize (16-bit) | SoundType for MP3 and G.711. */
function legacyAudioFlags(track: AudioTrack): number {
  const stereo = track.channels >= 2 ? 1 : 0;
  switch (track.codec) {
    case "MP3": {
      if (track.sampleRate === 8000) {
        return (FLV_SOUND_FORMAT.MP3_8K << 4) | (1 << 1) | stereo;
      }
      const rate = track.sampleRate >= 44100
        ? 3
        : track.sampleRate >= 22050
        ? 2
        : track.sampleRate >= 11025
        ? 1
        : 0;
      return (FLV_SOUND_FORMAT.MP3 << 4) | (rate << 2) | (1 << 1) | stereo;
    }
    case "PCMA":
      return (FLV_SOUND_FORMAT.PCMA << 4) | (1 << 1) | stereo; // rate bits 0: G.711 is 8 kHz
    case "PCMU":
      return (FLV_SOUND_FORMAT.PCMU << 4) | (1 << 1) | stereo;
    default:
      throw new TypeError(
        `Cannot write FLV audio tag: codec "${track.codec}" has no legacy sound format`,
      );
  }
}

function recordOf(track: VideoTrack): Uint8Array {
  if (track.record !== undefined) return track.record;
  const ps = track.parameterSets;
  if (track.codec === "H264" && ps !== undefined) {
    return buildAvcc(ps.sps, ps.pps);
  }
  if (track.codec === "H265" && ps !== undefined) {
    return buildHvcc(ps);
  }
  throw new TypeError(
    `Cannot write FLV sequence header: ${track.codec} track has no configuration record`,
  );
}

/** ExVideoTagHeader, Enhanced RTMP v1: IsExHeader | FrameType (3) | PacketType (4) | FourCC. */
function exVideoHeader(
  track: VideoTrack,
  frameType: number,
  packetType: number,
  payload: number,
): Uint8Array<ArrayBuffer> {
  const fourCc = track.codec === "H265"
    ? VIDEO_FOURCC.HEVC
    : track.codec === "AV1"
    ? VIDEO_FOURCC.AV1
    : track.codec === "VP9"
    ? VIDEO_FOURCC.VP9
    : VIDEO_FOURCC.AVC;
  const out = new Uint8Array(5 + payload);
  out[0] = EX_HEADER_FLAG | (frameType << 4) | packetType;
  new DataView(out.buffer).setUint32(1, fourCc);
  return out;
}

/** ExAudioTagHeader, Enhanced RTMP v2: SoundFormat 9 | AudioPacketType (4) | FourCC 'Opus'. */
function exAudioHeader(
  packetType: number,
  payload: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload);
  out[0] = (FLV_SOUND_FORMAT.EX_HEADER << 4) | packetType;
  new DataView(out.buffer).setUint32(1, AUDIO_FOURCC.OPUS);
  return out;
}

function compositionMs(track: Track, frame: Frame): number {
  const ms = Math.round(((frame.pts - frame.dts) * 1000) / track.clockRate);
  return Math.max(SI24_MIN, Math.min(SI24_MAX, ms));
}

function writeSi24(out: Uint8Array, at: number, v: number): void {
  out[at] = (v >> 16) & 0xff;
  out[at + 1] = (v >> 8) & 0xff;
  out[at + 2] = v & 0xff;
}

/**
 * {@link FlvEvent}s → FLV tags: a track becomes its sequence header tag (if
 * the codec has one), a frame its tag body at `dts` in milliseconds, script
 * data a script tag. The inverse of `FlvTagDemuxer`.
 */
export class FlvTagMuxer implements StageCore<FlvEvent, FlvTag> {
  readonly #tracks = new Map<number, Track>();
  #lastMs = 0;
  #dropped = 0;

  /** Frames dropped because their track was never announced. */
  get dropped(): number {
    return this.#dropped;
  }

  push(event: FlvEvent, out: Sink<FlvTag>): void {
    if (event.kind === "script") {
      out.enqueue({
        type: FLV_TAG_TYPE.SCRIPT,
        timestamp: this.#lastMs,
        data: event.data,
      });
      return;
    }
    if (event.kind === "track") {
      const track = event.track;
      this.#tracks.set(track.id, track);
      if (track.kind === "video") {
        out.enqueue({
          type: FLV_TAG_TYPE.VIDEO,
          timestamp: this.#lastMs,
          data: videoSequenceHeader(track),
        });
      } else {
        const data = audioSequenceHeader(track);
        if (data !== undefined) {
          out.enqueue({
            type: FLV_TAG_TYPE.AUDIO,
            timestamp: this.#lastMs,
            data,
          });
        }
      }
      return;
    }
    const frame = event.frame;
    const track = this.#tracks.get(frame.trackId);
    if (track === undefined) {
      this.#dropped++;
      return;
    }
    const timestamp = tagTimestampMs(track, frame.dts);
    this.#lastMs = timestamp;
    if (track.kind === "video") {
      out.enqueue({
        type: FLV_TAG_TYPE.VIDEO,
        timestamp,
        data: videoTagBody(track, frame),
      });
    } else {
      out.enqueue({
        type: FLV_TAG_TYPE.AUDIO,
        timestamp,
        data: audioTagBody(track, frame),
      });
    }
  }
}

/** {@link FlvTagMuxer} as a `TransformStream`. */
export class FlvTagMuxerStream extends StageStream<FlvEvent, FlvTag> {
  constructor() {
    super(new FlvTagMuxer());
  }
}
