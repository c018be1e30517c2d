/**
 * FLV audio tag bodies → the audio track and its frames: legacy AAC, MP3 and
 * G.711 (FLV v10.1 §E.4.2) and Enhanced RTMP v1/v2 ('mp4a' 'Opus' '.mp3'),
 * with ADTS inside FLV for publishers that pass MPEG-TS AAC through.
 * Private to `flv/`: `FlvTagDemuxer` is the public face.
 *
 * @module
 */

import { ByteReader } from "../binary.ts";
import { equals } from "@std/bytes";
import type { Sink } from "../stage.ts";
import type { AudioCodec, AudioTrack } from "../media/mod.ts";
import {
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from "../codec/aac/asc.ts";
import { isAdts, splitAdts } from "../codec/aac/adts.ts";
import { parseMp3Header } from "../codec/mp3/header.ts";
import { OPUS_CLOCK_RATE, parseOpusHead } from "../codec/opus/head.ts";
import {
  AAC_PACKET_TYPE,
  AUDIO_FOURCC,
  AUDIO_PACKET_TYPE,
  FLV_SOUND_FORMAT,
  type FlvEvent,
  type FlvTag,
  fourCcText,
} from "./tag.ts";
import { fail, forDefaultTrack, skipModEx } from "./_ex_header.ts";

/** Track id of the audio track of an FLV stream. */
export const FLV_AUDIO_TRACK_ID = 1;

/** SoundRate, FLV v10.1 §E.4.2.1: 5.5, 11, 22, 44 kHz. */
const SOUND_RATES = [5512, 11025, 22050, 44100];
/** Samples per AAC frame when an ADTS tag carries several. */
const AAC_FRAME_SAMPLES = 1024;
const OPUS_TAGS = [0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73]; // "OpusTags"

type Events = Sink<FlvEvent>;

/**
 * The audio half of `FlvTagDemuxer`: track 1 on its sample rate. Frames
 * before the track's configuration are dropped and counted.
 */
export class AudioTagDemuxer {
  #audio: AudioTrack | undefined;
  #aacFrameLength = AAC_FRAME_SAMPLES;
  #dropped = 0;

  /** Frames dropped because the track was not configured yet. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The current audio track, if configured. */
  get track(): AudioTrack | undefined {
    return this.#audio;
  }

  /** An audio tag body: legacy (AAC, MP3, G.711) or Enhanced RTMP. */
  push(tag: FlvTag, out: Events): void {
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
