/**
 * FLV video tag bodies → the video track and its frames: legacy AVC/HEVC
 * (FLV v10.1 §E.4.3) and Enhanced RTMP v1/v2 ('avc1' 'hvc1' 'av01' 'vp09'),
 * with in-band parameter sets for publishers that send no sequence header.
 * Private to `flv/`: `FlvTagDemuxer` is the public face.
 *
 * @module
 */

import { ByteReader } from "../binary.ts";
import { equals } from "@std/bytes";
import type { Sink } from "../stage.ts";
import type { VideoCodec, VideoTrack } from "../media/mod.ts";
import { isH265Keyframe } from "../codec/h265/nal.ts";
import { splitLengthPrefixed } from "../codec/nal_units.ts";
import { parseAvcc } from "../codec/h264/avcc.ts";
import {
  H264_NAL_TYPE,
  h264NalType,
  isH264Keyframe,
} from "../codec/h264/nal.ts";
import { parseHvcc } from "../codec/h265/hvcc.ts";
import {
  AVC_PACKET_TYPE,
  EX_HEADER_FLAG,
  FLV_FRAME_TYPE,
  FLV_VIDEO_CODEC_ID,
  type FlvEvent,
  type FlvTag,
  fourCcText,
  VIDEO_FOURCC,
  VIDEO_PACKET_TYPE,
} from "./tag.ts";
import { fail, forDefaultTrack, skipModEx } from "./_ex_header.ts";
import {
  FLV_VIDEO_TRACK_ID,
  inBandVideoTrack,
  videoTrackOf,
} from "./_video_track.ts";

type Events = Sink<FlvEvent>;

/**
 * The video half of `FlvTagDemuxer`: track 0 on the 90 kHz clock. Frames
 * before the track's configuration are dropped and counted.
 */
export class VideoTagDemuxer {
  #video: VideoTrack | undefined;
  #lengthSize = 4;
  #dropped = 0;

  /** Frames dropped because the track was not configured yet. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The current video track, if configured. */
  get track(): VideoTrack | undefined {
    return this.#video;
  }

  /** A video tag body: legacy (codec id 7 or 12) or Enhanced RTMP. */
  push(tag: FlvTag, out: Events): void {
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
    const configured = videoTrackOf(codec, body.slice()); // outlives the socket chunk
    if (configured === undefined) return;
    if (configured.lengthSize !== undefined) {
      this.#lengthSize = configured.lengthSize;
    }
    this.#video = configured.track;
    out.enqueue({ kind: "track", track: configured.track });
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
    const track = inBandVideoTrack(codec, data);
    if (track === undefined) return false;
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
