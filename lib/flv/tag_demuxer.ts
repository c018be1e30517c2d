/**
 * FLV tag bodies → the media model: legacy AVC/HEVC and AAC/MP3/G.711 (FLV
 * v10.1 §E.4.2, §E.4.3), and Enhanced RTMP v1/v2 video ('avc1' 'hvc1' 'av01'
 * 'vp09') and audio ('mp4a' 'Opus' '.mp3'), including ModEx and the default
 * track (id 0) of a multitrack message.
 *
 * @module
 */

import { ByteReader } from "../binary.ts";
import { equals } from "@std/bytes";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import {
  type AudioCodec,
  type AudioTrack,
  VIDEO_CLOCK_RATE,
  type VideoCodec,
  type VideoTrack,
} from "../media/mod.ts";
import {
  H264_NAL_TYPE,
  h264NalType,
  isH264Keyframe,
} from "../codec/h264/nal.ts";
import { buildAvcc, parseAvcc } from "../codec/h264/avcc.ts";
import { parseSps } from "../codec/h264/sps.ts";
import {
  H265_NAL_TYPE,
  h265NalType,
  isH265Keyframe,
} from "../codec/h265/nal.ts";
import { buildHvcc, parseHvcc } from "../codec/h265/hvcc.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { splitLengthPrefixed } from "../codec/nal_units.ts";
import {
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from "../codec/aac/asc.ts";
import { isAdts, splitAdts } from "../codec/aac/adts.ts";
import { parseMp3Header } from "../codec/mp3/header.ts";
import { OPUS_CLOCK_RATE, parseOpusHead } from "../codec/opus/head.ts";
import { parseAv1c } from "../codec/av1/av1c.ts";
import { parseVpcc } from "../codec/vp9/vpcc.ts";
import {
  AAC_PACKET_TYPE,
  AUDIO_FOURCC,
  AUDIO_PACKET_TYPE,
  AV_MULTITRACK_TYPE,
  AVC_PACKET_TYPE,
  EX_HEADER_FLAG,
  FLV_FRAME_TYPE,
  FLV_SOUND_FORMAT,
  FLV_TAG_TYPE,
  FLV_VIDEO_CODEC_ID,
  type FlvEvent,
  type FlvTag,
  fourCcText,
  VIDEO_FOURCC,
  VIDEO_PACKET_TYPE,
} from "./tag.ts";

/** Track id of the video track of an FLV stream. */
export const FLV_VIDEO_TRACK_ID = 0;
/** Track id of the audio track of an FLV stream. */
export const FLV_AUDIO_TRACK_ID = 1;

/** SoundRate, FLV v10.1 §E.4.2.1: 5.5, 11, 22, 44 kHz. */
const SOUND_RATES = [5512, 11025, 22050, 44100];
/** Samples per AAC frame when an ADTS tag carries several. */
const AAC_FRAME_SAMPLES = 1024;
const OPUS_TAGS = [0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73]; // "OpusTags"

type Events = Sink<FlvEvent>;

/**
 * Turns FLV tags (RTMP audio/video/data messages, or tags of an FLV file) into
 * tracks and frames. Video is track 0 on the 90 kHz clock; audio is track 1
 * on its sample rate. Frames that come before their track's configuration are
 * dropped and counted, never thrown.
 */
export class FlvTagDemuxer implements StageCore<FlvTag, FlvEvent> {
  #video: VideoTrack | undefined;
  #audio: AudioTrack | undefined;
  #lengthSize = 4;
  #aacFrameLength = AAC_FRAME_SAMPLES;
  #dropped = 0;

  /** Frames dropped because their track was not configured yet. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The current video track, if configured. */
  get videoTrack(): VideoTrack | undefined {
    return this.#video;
  }

  /** The current audio track, if configured. */
  get audioTrack(): AudioTrack | undefined {
    return this.#audio;
  }

  push(tag: FlvTag, out: Events): void {
    if (tag.data.length === 0) return; // an empty message carries nothing
    try {
      if (tag.type === FLV_TAG_TYPE.VIDEO) this.#videoTag(tag, out);
      else if (tag.type === FLV_TAG_TYPE.AUDIO) this.#audioTag(tag, out);
      else if (tag.type === FLV_TAG_TYPE.SCRIPT) {
        out.enqueue({ kind: "script", data: tag.data.slice() });
      }
    } catch (e) {
      // A codec helper's message says what was wrong; the peer broke FLV.
      if (e instanceof ProtocolError && e.protocol !== "flv") {
        throw new ProtocolError(e.message, {
          protocol: "flv",
          code: e.code,
          cause: e,
        });
      }
      throw e;
    }
  }

  // ---- video ----

  #videoTag(tag: FlvTag, out: Events): void {
    const d = tag.data;
    const b0 = d[0]!;
    if (b0 & EX_HEADER_FLAG) return this.#exVideoTag(tag, out);
    const frameType = b0 >> 4;
    const codecId = b0 & 0x0f;
    if (frameType === FLV_FRAME_TYPE.COMMAND) return; // one UI8 command, no picture
    if (
      codecId !== FLV_VIDEO_CODEC_ID.AVC && codecId !== FLV_VIDEO_CODEC_ID.HEVC
    ) {
      throw fail(
        "unsupported",
        "read FLV video tag",
        `video codec id ${codecId}`,
      );
    }
    if (d.length < 5) {
      throw fail(
        "truncated",
        "read FLV video tag",
        `${d.length} bytes of an AVC header`,
      );
    }
    const packetType = d[1]!;
    const cts = ((d[2]! << 16) | (d[3]! << 8) | d[4]!) << 8 >> 8; // SI24
    if (packetType === AVC_PACKET_TYPE.SEQUENCE_HEADER) {
      if (codecId === FLV_VIDEO_CODEC_ID.HEVC) {
        this.#videoConfig("H265", d.subarray(5), out);
      } else this.#legacyAvcConfig(d.subarray(5), out);
    } else if (packetType === AVC_PACKET_TYPE.NALU) {
      // Codec id 7 may carry HEVC when its sequence header was an hvcC.
      const codec =
        codecId === FLV_VIDEO_CODEC_ID.HEVC || this.#video?.codec === "H265"
          ? "H265"
          : "H264";
      this.#nalUnits(
        codec,
        tag.timestamp,
        cts,
        isKeyType(frameType),
        d.subarray(5),
        out,
      );
    } else if (packetType !== AVC_PACKET_TYPE.END_OF_SEQUENCE) {
      throw fail(
        "malformed",
        "read FLV video tag",
        `AVCPacketType ${packetType}`,
      );
    }
  }

  /**
   * Codec id 7 sequence header: an avcC, or an hvcC from publishers that flag
   * HEVC as AVC (older OBS forks and hardware encoders, INTEROP.md).
   */
  #legacyAvcConfig(record: Uint8Array, out: Events): void {
    if (record.length === 0) return;
    let avcError: unknown;
    try {
      const avcc = parseAvcc(record);
      if (avcc.sps.every((s) => h264NalType(s) === H264_NAL_TYPE.SPS)) {
        return this.#videoConfig("H264", record, out);
      }
    } catch (e) {
      avcError = e;
    }
    try {
      parseHvcc(record);
    } catch {
      throw avcError ??
        fail(
          "malformed",
          "read FLV video tag",
          "sequence header is neither avcC nor hvcC",
        );
    }
    this.#videoConfig("H265", record, out);
  }

  #exVideoTag(tag: FlvTag, out: Events): void {
    const r = new ByteReader(tag.data, "flv");
    const b0 = r.u8();
    const frameType = (b0 >> 4) & 0x07;
    let packetType = b0 & 0x0f;
    if (packetType === VIDEO_PACKET_TYPE.MOD_EX) packetType = skipModEx(r);
    if (
      packetType !== VIDEO_PACKET_TYPE.METADATA &&
      frameType === FLV_FRAME_TYPE.COMMAND
    ) return;
    if (packetType !== VIDEO_PACKET_TYPE.MULTITRACK) {
      const fourCc = r.u32();
      return this.#exVideoPacket(
        fourCc,
        packetType,
        frameType,
        r.bytesView(r.remaining),
        tag.timestamp,
        out,
      );
    }
    forDefaultTrack(r, "video", (fourCc, type, body) => {
      this.#exVideoPacket(fourCc, type, frameType, body, tag.timestamp, out);
    });
  }

  #exVideoPacket(
    fourCc: number,
    packetType: number,
    frameType: number,
    body: Uint8Array,
    ms: number,
    out: Events,
  ): void {
    const codec = videoCodecOf(fourCc);
    switch (packetType) {
      case VIDEO_PACKET_TYPE.SEQUENCE_START:
        return this.#videoConfig(codec, body, out);
      case VIDEO_PACKET_TYPE.CODED_FRAMES:
      case VIDEO_PACKET_TYPE.CODED_FRAMES_X: {
        const key = isKeyType(frameType);
        if (codec === "AV1" || codec === "VP9") {
          return this.#wholeFrame(codec, ms, key, body, out);
        }
        let cts = 0;
        let data = body;
        if (packetType === VIDEO_PACKET_TYPE.CODED_FRAMES) {
          if (body.length < 3) {
            throw fail(
              "truncated",
              "read FLV video tag",
              "no composition time",
            );
          }
          cts = ((body[0]! << 16) | (body[1]! << 8) | body[2]!) << 8 >> 8;
          data = body.subarray(3);
        }
        return this.#nalUnits(codec, ms, cts, key, data, out);
      }
      case VIDEO_PACKET_TYPE.SEQUENCE_END:
      case VIDEO_PACKET_TYPE.METADATA: // AMF colorInfo: not part of the model
      case VIDEO_PACKET_TYPE.MPEG2TS_SEQUENCE_START: // AV1 over MPEG-TS descriptor; av1C wins
        return;
      default:
        throw fail(
          "malformed",
          "read FLV video tag",
          `VideoPacketType ${packetType}`,
        );
    }
  }

  /** A sequence header: emits the track unless it repeats the current one. */
  #videoConfig(codec: VideoCodec, body: Uint8Array, out: Events): void {
    if (body.length === 0) return;
    const current = this.#video;
    if (
      current?.codec === codec && current.record !== undefined &&
      equals(current.record, body)
    ) return;
    const record = body.slice(); // outlives the socket chunk
    const track: VideoTrack = {
      kind: "video",
      id: FLV_VIDEO_TRACK_ID,
      codec,
      clockRate: VIDEO_CLOCK_RATE,
    };
    if (codec === "H264") {
      const avcc = parseAvcc(record);
      if (avcc.sps.length === 0) return; // parameter sets come in-band
      track.parameterSets = { sps: avcc.sps, pps: avcc.pps };
      this.#lengthSize = avcc.lengthSize;
      Object.assign(track, sizeOf(() => parseSps(avcc.sps[0]!)));
    } else if (codec === "H265") {
      const hvcc = parseHvcc(record);
      if (hvcc.sps.length === 0) return;
      track.parameterSets = { vps: hvcc.vps, sps: hvcc.sps, pps: hvcc.pps };
      this.#lengthSize = hvcc.lengthSize;
      Object.assign(track, sizeOf(() => parseH265Sps(hvcc.sps[0]!)));
    } else if (codec === "AV1") {
      const av1c = parseAv1c(record);
      if (av1c.width !== undefined && av1c.height !== undefined) {
        track.width = av1c.width;
        track.height = av1c.height;
      }
    } else {
      parseVpcc(record);
    }
    track.record = record;
    this.#video = track;
    out.enqueue({ kind: "track", track });
  }

  /** H.264/H.265 NAL units with length prefixes → one frame, one allocation. */
  #nalUnits(
    codec: "H264" | "H265",
    ms: number,
    cts: number,
    key: boolean,
    data: Uint8Array,
    out: Events,
  ): void {
    if (data.length === 0) return;
    if (this.#video?.codec !== codec && !this.#inBandConfig(codec, data, out)) {
      this.#dropped++;
      return;
    }
    const units = splitLengthPrefixed(data.slice(), this.#lengthSize);
    if (units.length === 0) return;
    const keyframe = key ||
      (codec === "H264" ? isH264Keyframe(units) : isH265Keyframe(units));
    out.enqueue({
      kind: "frame",
      frame: {
        trackId: FLV_VIDEO_TRACK_ID,
        dts: ms * 90,
        pts: (ms + cts) * 90,
        keyframe,
        units,
      },
    });
  }

  /**
   * No sequence header yet: parameter sets sent in-band (publishers relaying
   * RTSP cameras without sprop-parameter-sets) configure the track.
   */
  #inBandConfig(
    codec: "H264" | "H265",
    data: Uint8Array,
    out: Events,
  ): boolean {
    if (this.#video !== undefined) return false; // another codec is configured
    let units: Uint8Array[];
    try {
      units = splitLengthPrefixed(data, 4);
    } catch {
      return false;
    }
    const vps: Uint8Array[] = [];
    const sps: Uint8Array[] = [];
    const pps: Uint8Array[] = [];
    for (const u of units) {
      if (codec === "H264") {
        const t = h264NalType(u);
        if (t === H264_NAL_TYPE.SPS) sps.push(u.slice());
        else if (t === H264_NAL_TYPE.PPS) pps.push(u.slice());
      } else {
        const t = h265NalType(u);
        if (t === H265_NAL_TYPE.VPS) vps.push(u.slice());
        else if (t === H265_NAL_TYPE.SPS) sps.push(u.slice());
        else if (t === H265_NAL_TYPE.PPS) pps.push(u.slice());
      }
    }
    if (
      sps.length === 0 || pps.length === 0 ||
      (codec === "H265" && vps.length === 0)
    ) return false;
    const track: VideoTrack = {
      kind: "video",
      id: FLV_VIDEO_TRACK_ID,
      codec,
      clockRate: VIDEO_CLOCK_RATE,
    };
    if (codec === "H264") {
      track.parameterSets = { sps, pps };
      Object.assign(track, sizeOf(() => parseSps(sps[0]!)));
      track.record = buildAvcc(sps, pps);
    } else {
      track.parameterSets = { vps, sps, pps };
      Object.assign(track, sizeOf(() => parseH265Sps(sps[0]!)));
      track.record = buildHvcc(track.parameterSets);
    }
    this.#lengthSize = 4;
    this.#video = track;
    out.enqueue({ kind: "track", track });
    return true;
  }

  /** AV1 (one temporal unit) and VP9 (one frame): a single unit. */
  #wholeFrame(
    codec: VideoCodec,
    ms: number,
    keyframe: boolean,
    body: Uint8Array,
    out: Events,
  ): void {
    if (body.length === 0) return;
    if (this.#video?.codec !== codec) {
      this.#dropped++;
      return;
    }
    const dts = ms * 90;
    out.enqueue({
      kind: "frame",
      frame: {
        trackId: FLV_VIDEO_TRACK_ID,
        dts,
        pts: dts,
        keyframe,
        units: [body.slice()],
      },
    });
  }

  // ---- audio ----

  #audioTag(tag: FlvTag, out: Events): void {
    const d = tag.data;
    const b0 = d[0]!;
    const format = b0 >> 4;
    switch (format) {
      case FLV_SOUND_FORMAT.EX_HEADER:
        return this.#exAudioTag(tag, out);
      case FLV_SOUND_FORMAT.AAC: {
        if (d.length < 2) {
          throw fail("truncated", "read FLV audio tag", "no AACPacketType");
        }
        const packetType = d[1]!;
        if (packetType === AAC_PACKET_TYPE.SEQUENCE_HEADER) {
          return this.#aacConfig(d.subarray(2), out);
        }
        if (packetType === AAC_PACKET_TYPE.RAW) {
          return this.#aacFrame(d.subarray(2), tag.timestamp, out);
        }
        throw fail(
          "malformed",
          "read FLV audio tag",
          `AACPacketType ${packetType}`,
        );
      }
      case FLV_SOUND_FORMAT.MP3:
      case FLV_SOUND_FORMAT.MP3_8K: {
        const flagRate = format === FLV_SOUND_FORMAT.MP3_8K
          ? 8000
          : SOUND_RATES[(b0 >> 2) & 0x03]!;
        return this.#mp3Frame(
          d.subarray(1),
          tag.timestamp,
          flagRate,
          (b0 & 0x01) + 1,
          out,
        );
      }
      case FLV_SOUND_FORMAT.PCMA:
      case FLV_SOUND_FORMAT.PCMU: {
        const codec = format === FLV_SOUND_FORMAT.PCMA ? "PCMA" : "PCMU";
        return this.#rawAudioFrame(
          codec,
          8000,
          (b0 & 0x01) + 1,
          d.subarray(1),
          tag.timestamp,
          out,
        );
      }
      default:
        throw fail(
          "unsupported",
          "read FLV audio tag",
          `sound format ${format}`,
        );
    }
  }

  #exAudioTag(tag: FlvTag, out: Events): void {
    const r = new ByteReader(tag.data, "flv");
    let packetType = r.u8() & 0x0f;
    if (packetType === AUDIO_PACKET_TYPE.MOD_EX) packetType = skipModEx(r);
    if (packetType !== AUDIO_PACKET_TYPE.MULTITRACK) {
      const fourCc = r.u32();
      return this.#exAudioPacket(
        fourCc,
        packetType,
        r.bytesView(r.remaining),
        tag.timestamp,
        out,
      );
    }
    forDefaultTrack(r, "audio", (fourCc, type, body) => {
      this.#exAudioPacket(fourCc, type, body, tag.timestamp, out);
    });
  }

  #exAudioPacket(
    fourCc: number,
    packetType: number,
    body: Uint8Array,
    ms: number,
    out: Events,
  ): void {
    if (
      fourCc !== AUDIO_FOURCC.AAC && fourCc !== AUDIO_FOURCC.OPUS &&
      fourCc !== AUDIO_FOURCC.MP3
    ) {
      throw fail(
        "unsupported",
        "read FLV audio tag",
        `audio FourCC "${fourCcText(fourCc)}"`,
      );
    }
    switch (packetType) {
      case AUDIO_PACKET_TYPE.SEQUENCE_START:
        if (fourCc === AUDIO_FOURCC.AAC) return this.#aacConfig(body, out);
        if (fourCc === AUDIO_FOURCC.OPUS) return this.#opusConfig(body, out);
        return;
      case AUDIO_PACKET_TYPE.CODED_FRAMES:
        if (fourCc === AUDIO_FOURCC.AAC) return this.#aacFrame(body, ms, out);
        if (fourCc === AUDIO_FOURCC.MP3) {
          return this.#mp3Frame(body, ms, 44100, 2, out);
        }
        if (this.#audio?.codec !== "OPUS") {
          if (body.length > 0) this.#dropped++;
          return;
        }
        return this.#rawAudioFrame(
          "OPUS",
          OPUS_CLOCK_RATE,
          this.#audio.channels,
          body,
          ms,
          out,
        );
      case AUDIO_PACKET_TYPE.SEQUENCE_END:
      case AUDIO_PACKET_TYPE.MULTICHANNEL_CONFIG: // channel order: not part of the model
        return;
      default:
        throw fail(
          "malformed",
          "read FLV audio tag",
          `AudioPacketType ${packetType}`,
        );
    }
  }

  #aacConfig(body: Uint8Array, out: Events): void {
    if (body.length === 0) return;
    const current = this.#audio;
    if (
      current?.codec === "AAC" && current.config !== undefined &&
      equals(current.config, body)
    ) return;
    const config = body.slice();
    const asc = parseAudioSpecificConfig(config);
    this.#aacFrameLength = asc.frameLength;
    this.#setAudio({
      kind: "audio",
      id: FLV_AUDIO_TRACK_ID,
      codec: "AAC",
      clockRate: asc.sampleRate,
      sampleRate: asc.sampleRate,
      channels: asc.channels,
      config,
    }, out);
  }

  #aacFrame(raw: Uint8Array, ms: number, out: Events): void {
    if (raw.length === 0) return;
    // ADTS inside FLV: publishers that pass an MPEG-TS AAC track through
    // unchanged. A raw AU never starts with 0xFFF: that would be ID_END first.
    if (isAdts(raw)) {
      let frames;
      try {
        frames = splitAdts(raw);
      } catch {
        frames = undefined; // not ADTS after all: a raw AU
      }
      if (frames !== undefined) return this.#adtsFrames(frames, ms, out);
    }
    const track = this.#audio;
    if (track?.codec !== "AAC") {
      this.#dropped++;
      return;
    }
    this.#emitAudio(track, ms, 0, raw.slice(), out);
  }

  #adtsFrames(
    frames: ReturnType<typeof splitAdts>,
    ms: number,
    out: Events,
  ): void {
    const first = frames[0]!.header;
    if (this.#audio?.codec !== "AAC") {
      const config = buildAudioSpecificConfig(first);
      this.#aacFrameLength = AAC_FRAME_SAMPLES;
      this.#setAudio({
        kind: "audio",
        id: FLV_AUDIO_TRACK_ID,
        codec: "AAC",
        clockRate: first.sampleRate,
        sampleRate: first.sampleRate,
        channels: first.channels,
        config,
      }, out);
    }
    const track = this.#audio!;
    frames.forEach((f, i) => {
      if (f.payload.length > 0) {
        this.#emitAudio(
          track,
          ms,
          i * this.#aacFrameLength,
          f.payload.slice(),
          out,
        );
      }
    });
  }

  #mp3Frame(
    data: Uint8Array,
    ms: number,
    flagRate: number,
    flagChannels: number,
    out: Events,
  ): void {
    if (data.length === 0) return;
    // The frame header knows the true rate (48 kHz is flagged as 44 kHz).
    let sampleRate = flagRate;
    let channels = flagChannels;
    try {
      const h = parseMp3Header(data);
      sampleRate = h.sampleRate;
      channels = h.channels;
    } catch {
      // not a frame header at the start: trust the tag flags
    }
    this.#rawAudioFrame("MP3", sampleRate, channels, data, ms, out);
  }

  #opusConfig(body: Uint8Array, out: Events): void {
    if (body.length === 0 || OPUS_TAGS.every((b, i) => body[i] === b)) return; // comment header
    const head = parseOpusHead(body);
    this.#rawAudioTrack("OPUS", OPUS_CLOCK_RATE, head.channels, out);
  }

  /** Codecs without a sequence header: a track on the first frame or a change of format. */
  #rawAudioFrame(
    codec: AudioCodec,
    sampleRate: number,
    channels: number,
    data: Uint8Array,
    ms: number,
    out: Events,
  ): void {
    if (data.length === 0) return;
    this.#rawAudioTrack(codec, sampleRate, channels, out);
    this.#emitAudio(this.#audio!, ms, 0, data.slice(), out);
  }

  #rawAudioTrack(
    codec: AudioCodec,
    sampleRate: number,
    channels: number,
    out: Events,
  ): void {
    const a = this.#audio;
    if (
      a?.codec === codec && a.sampleRate === sampleRate &&
      a.channels === channels
    ) return;
    this.#setAudio({
      kind: "audio",
      id: FLV_AUDIO_TRACK_ID,
      codec,
      clockRate: sampleRate,
      sampleRate,
      channels,
    }, out);
  }

  #setAudio(track: AudioTrack, out: Events): void {
    this.#audio = track;
    out.enqueue({ kind: "track", track });
  }

  #emitAudio(
    track: AudioTrack,
    ms: number,
    offset: number,
    unit: Uint8Array,
    out: Events,
  ): void {
    const dts = Math.round((ms * track.clockRate) / 1000) + offset;
    out.enqueue({
      kind: "frame",
      frame: {
        trackId: FLV_AUDIO_TRACK_ID,
        dts,
        pts: dts,
        keyframe: true,
        units: [unit],
      },
    });
  }
}

/** {@link FlvTagDemuxer} as a `TransformStream`. */
export class FlvTagDemuxerStream extends StageStream<FlvTag, FlvEvent> {
  constructor() {
    super(new FlvTagDemuxer());
  }
}

/** FrameType 1 (keyframe) and 4 (generated keyframe) are where a decoder can start. */
function isKeyType(frameType: number): boolean {
  return frameType === FLV_FRAME_TYPE.KEY ||
    frameType === FLV_FRAME_TYPE.GENERATED_KEY;
}

function videoCodecOf(fourCc: number): VideoCodec {
  switch (fourCc) {
    case VIDEO_FOURCC.AVC:
      return "H264";
    case VIDEO_FOURCC.HEVC:
      return "H265";
    case VIDEO_FOURCC.AV1:
      return "AV1";
    case VIDEO_FOURCC.VP9:
      return "VP9";
    default:
      throw fail(
        "unsupported",
        "read FLV video tag",
        `video FourCC "${fourCcText(fourCc)}"`,
      );
  }
}

/**
 * Enhanced RTMP v2 ModEx: { modExDataSize UI8+1 (256 → UI16+1) | modExData |
 * modExType UB[4] | packetType UB[4] } until the packet type is no longer
 * ModEx. The one defined modifier, TimestampOffsetNano, is below a
 * millisecond and is skipped with the rest.
 */
function skipModEx(r: ByteReader): number {
  let packetType: number = VIDEO_PACKET_TYPE.MOD_EX; // 7 for audio too
  while (packetType === VIDEO_PACKET_TYPE.MOD_EX) {
    let size = r.u8() + 1;
    if (size === 256) size = r.u16() + 1;
    r.skip(size);
    packetType = r.u8() & 0x0f;
  }
  return packetType;
}

/**
 * Enhanced RTMP v2 multitrack: { AvMultitrackType UB[4] | packetType UB[4] |
 * [FourCC] | { [FourCC] | trackId UI8 | [size UI24] | body }* }. Only track
 * 0, the default track, maps onto the model; others are skipped.
 */
function forDefaultTrack(
  r: ByteReader,
  kind: "video" | "audio",
  visit: (fourCc: number, packetType: number, body: Uint8Array) => void,
): void {
  const b = r.u8();
  const multitrackType = b >> 4;
  const packetType = b & 0x0f;
  const multitrack = kind === "video"
    ? VIDEO_PACKET_TYPE.MULTITRACK
    : AUDIO_PACKET_TYPE.MULTITRACK;
  if (packetType === multitrack) {
    throw fail(
      "malformed",
      `read FLV ${kind} tag`,
      "multitrack inside multitrack",
    );
  }
  if (multitrackType > AV_MULTITRACK_TYPE.MANY_TRACKS_MANY_CODECS) {
    throw fail(
      "malformed",
      `read FLV ${kind} tag`,
      `AvMultitrackType ${multitrackType}`,
    );
  }
  const manyCodecs =
    multitrackType === AV_MULTITRACK_TYPE.MANY_TRACKS_MANY_CODECS;
  let fourCc = manyCodecs ? 0 : r.u32();
  while (r.remaining > 0) {
    if (manyCodecs) fourCc = r.u32();
    const trackId = r.u8();
    const size = multitrackType === AV_MULTITRACK_TYPE.ONE_TRACK
      ? r.remaining
      : r.u24();
    const body = r.bytesView(size);
    if (trackId === 0) visit(fourCc, packetType, body);
  }
}

/** Width and height from an SPS parser; a SPS we cannot read leaves them unknown. */
function sizeOf(
  parse: () => { width: number; height: number },
): { width?: number; height?: number } {
  try {
    const { width, height } = parse();
    return { width, height };
  } catch (e) {
    if (e instanceof ProtocolError) return {};
    throw e;
  }
}

function fail(
  code: ProtocolErrorCode,
  action: string,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot ${action}: ${detail}`, {
    protocol: "flv",
    code,
  });
}
