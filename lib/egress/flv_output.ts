/**
 * The RTMP and HTTP-FLV faces of a stream: every frame becomes an FLV tag
 * body once, framed as RTMP chunks or as an FLV file tag, and the same bytes
 * go to every player's queue.
 *
 * @module
 */

import { ReaderList } from "./_reader_list.ts";
import { type Packet, PACKET_KIND, type PacketKind } from "./packet.ts";
import type { ReaderQueue } from "./reader_queue.ts";
import { HandOver, type OutputTick } from "./tick.ts";
import type { CachedPackets, Metadata, StreamOutput } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { AudioTrack, Track, VideoTrack } from "../media/track.ts";
import {
  audioSequenceHeader,
  audioTagBody,
  tagTimestampMs,
  videoSequenceHeader,
  videoTagBody,
} from "../flv/tag_muxer.ts";
import { encodeFlvTag } from "../flv/file.ts";
import type { FlvTagType } from "../flv/tag.ts";
import { encodeData } from "../rtmp/command.ts";
import { encodeMessage } from "../rtmp/chunk_muxer.ts";
import {
  CHUNK_STREAM,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../rtmp/message.ts";
import { concat, equals } from "@std/bytes";

/** One player attached to an {@link FlvOutput}. */
export interface FlvReader {
  readonly queue: ReaderQueue;
  /** `receiveAudio(false)` / `receiveVideo(false)` turn these off. @default {true} */
  audio?: boolean;
  video?: boolean;
  /** Called when the stream ends (no publisher within the grace period). */
  onEnd(): void;
}

/** Options of {@link FlvOutput}. */
export interface FlvOutputOptions {
  /**
   * How tags go on the wire: RTMP chunks of `chunkSize` on `streamId`, or
   * FLV file tags (HTTP-FLV). @default {"rtmp"}
   */
  framing?: "rtmp" | "flv";
  /** The chunk size every player was told (RTMP framing). @default {4096} */
  chunkSize?: number;
  /** The message stream id players play on. @default {1} */
  streamId?: number;
  /**
   * How metadata goes out: `onMetaData` to players, or
   * `@setDataFrame` when Sluice itself publishes to another server.
   * @default {"onMetaData"}
   */
  metadataCommand?: "onMetaData" | "@setDataFrame";
  /**
   * The readers' shared tick: frames that come between ticks reach the
   * readers' queues at the next one, each reader taking them all in one
   * go. A thousand readers are then touched ten times a second, not once
   * per frame each (that walk, cache miss after cache miss, was the
   * largest part of fan-out's own CPU). Without a tick (or with an
   * interval of 0) every frame is queued as it comes.
   */
  tick?: OutputTick;
}

/**
 * FLV codec id of each track codec: a number for the legacy ids, a FourCC
 * for Enhanced RTMP.
 */
export const FLV_CODEC_IDS: Record<string, number | string> = {
  H264: 7,
  H265: "hvc1",
  AV1: "av01",
  VP9: "vp09",
  AAC: 10,
  MP3: 2,
  PCMA: 7,
  PCMU: 8,
  OPUS: "Opus",
};

/** Encodes a stream's frames as RTMP messages (or FLV file tags) once for all its players. */
export class FlvOutput implements StreamOutput<MediaPacket> {
  readonly #flv: boolean;
  readonly #chunkSize: number;
  readonly #streamId: number;
  readonly #readers = new ReaderList<FlvReader>();
  readonly #cached: CachedPackets<MediaPacket>;
  readonly #metadataCommand: "onMetaData" | "@setDataFrame";
  /** Packets encoded since the last tick, not yet queued for the readers. */
  readonly #pending: HandOver<MediaPacket>;
  #video: VideoTrack | undefined;
  #audio: AudioTrack | undefined;
  #videoConfig: Uint8Array | undefined;
  #audioConfig: Uint8Array | undefined;
  #metadata: Metadata | undefined;
  /** Latest timestamp sent, ms: configuration sent later carries it. */
  #lastMs = 0;
  /** Frames encoded (once, whatever the number of players). */
  framesEncoded = 0;

  /** `cached` hands out this output's packets of the stream's GOP cache. */
  constructor(
    cached: CachedPackets<MediaPacket>,
    options: FlvOutputOptions = {},
  ) {
    this.#cached = cached;
    this.#flv = options.framing === "flv";
    this.#chunkSize = options.chunkSize ?? 4096;
    this.#streamId = options.streamId ?? 1;
    this.#metadataCommand = options.metadataCommand ?? "onMetaData";
    this.#pending = new HandOver(options.tick, (ps) => this.#queueAll(ps));
  }

  get readers(): number {
    return this.#readers.size;
  }

  /** Whether the stream has video and audio now (an FLV header says so). */
  get hasVideo(): boolean {
    return this.#video !== undefined;
  }

  get hasAudio(): boolean {
    return this.#audio !== undefined;
  }

  /** Attaches a player: it gets metadata, codec configuration and the GOP at once. */
  addReader(reader: FlvReader): void {
    // the GOP below holds the pending packets: the others get them first
    this.#pending.flush();
    this.#readers.add(reader);
    this.#pending.joined(reader.queue.maxBytes);
    const gop = this.#cached();
    for (const p of this.#configPackets(gop[0]?.ms ?? this.#lastMs)) {
      reader.queue.offer(p);
    }
    for (const p of gop) if (wants(reader, p.video)) reader.queue.offer(p);
  }

  /** Detaches a player. */
  removeReader(reader: FlvReader): void {
    this.#pending.flush();
    this.#readers.delete(reader);
  }

  tracks(tracks: readonly Track[]): void {
    const video = tracks.find((t): t is VideoTrack => t.kind === "video");
    const audio = tracks.find((t): t is AudioTrack => t.kind === "audio");
    this.#video = video;
    this.#audio = audio;
    const videoConfig = video === undefined ? undefined : sequenceHeader(video);
    const audioConfig = audio === undefined
      ? undefined
      : audioSequenceHeader(audio);
    const changed = !same(videoConfig, this.#videoConfig) ||
      !same(audioConfig, this.#audioConfig);
    this.#videoConfig = videoConfig;
    this.#audioConfig = audioConfig;
    if (changed && this.#readers.size > 0) {
      this.#pending.flush(); // the frames before the change go before it
      // A new publisher or new codec parameters: players need them before the next frame.
      const packets = this.#configPackets(this.#lastMs);
      for (const r of this.#readers.list) {
        for (const p of packets) r.queue.offer(p);
      }
    }
  }

  metadata(metadata: Metadata | undefined): void {
    this.#metadata = metadata;
  }

  frame(frame: Frame): readonly MediaPacket[] {
    let body: Uint8Array;
    let typeId: number;
    let kind: PacketKind;
    let ms: number;
    if (frame.trackId === this.#video?.id) {
      body = videoTagBody(this.#video, frame);
      typeId = MESSAGE_TYPE.VIDEO;
      kind = frame.keyframe ? PACKET_KIND.KEY : PACKET_KIND.DELTA;
      ms = tagTimestampMs(this.#video, frame.dts);
    } else if (frame.trackId === this.#audio?.id) {
      body = audioTagBody(this.#audio, frame);
      typeId = MESSAGE_TYPE.AUDIO;
      kind = this.#video === undefined ? PACKET_KIND.KEY : PACKET_KIND.DELTA;
      ms = tagTimestampMs(this.#audio, frame.dts);
    } else {
      return [];
    }
    const video = typeId === MESSAGE_TYPE.VIDEO;
    const packet: MediaPacket = {
      video,
      ms,
      bytes: this.#encode(typeId, ms, body),
      kind,
    };
    this.framesEncoded++;
    this.#lastMs = ms;
    if (this.#readers.size === 0) return [packet];
    if (this.#pending.waits) this.#pending.add(packet, packet.bytes.length);
    else this.#queueAll([packet]);
    return [packet];
  }

  end(): void {
    this.#pending.flush();
    for (const r of this.#readers.clear()) r.onEnd();
  }

  /**
   * Queues the packets since the last tick, reader by reader: joined once
   * into one run for every reader that takes them all, one by one for a
   * reader that is behind or leaves audio or video out.
   */
  #queueAll(pending: readonly MediaPacket[]): void {
    const n = pending.length;
    const readers = this.#readers.list;
    let run: Uint8Array | undefined;
    for (let i = 0; i < readers.length; i++) {
      const r = readers[i]!;
      const queue = r.queue;
      const audio = r.audio !== false;
      const video = r.video !== false;
      if (n > 1 && audio && video) {
        run ??= concat(pending.map((p) => p.bytes));
        if (queue.offerRun(pending, run)) continue;
      }
      for (let j = 0; j < n; j++) {
        const p = pending[j]!;
        if (p.video ? video : audio) queue.offer(p);
      }
    }
  }

  /** onMetaData and the sequence headers, stamped `ms`. */
  #configPackets(ms: number): Packet[] {
    const out: Packet[] = [];
    const meta = this.#metadataCommand === "onMetaData"
      ? encodeData("onMetaData", this.#onMetaData())
      : encodeData("@setDataFrame", "onMetaData", this.#onMetaData());
    // Stamped 0: ffmpeg's FLV reader turns metadata with a later timestamp into a data stream.
    out.push({
      bytes: this.#encode(MESSAGE_TYPE.DATA_AMF0, 0, meta),
      kind: PACKET_KIND.CONTROL,
    });
    if (this.#videoConfig !== undefined) {
      out.push({
        bytes: this.#encode(MESSAGE_TYPE.VIDEO, ms, this.#videoConfig),
        kind: PACKET_KIND.CONTROL,
      });
    }
    if (this.#audioConfig !== undefined) {
      out.push({
        bytes: this.#encode(MESSAGE_TYPE.AUDIO, ms, this.#audioConfig),
        kind: PACKET_KIND.CONTROL,
      });
    }
    return out;
  }

  /** The publisher's metadata, corrected by what the tracks say. */
  #onMetaData(): Record<string, unknown> {
    const meta: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(this.#metadata ?? {})) {
      if (
        typeof v === "number" || typeof v === "string" || typeof v === "boolean"
      ) meta[k] = v;
    }
    const v = this.#video;
    if (v !== undefined) {
      if (v.width !== undefined) meta.width = v.width;
      if (v.height !== undefined) meta.height = v.height;
      meta.videocodecid = FLV_CODEC_IDS[v.codec];
    }
    const a = this.#audio;
    if (a !== undefined) {
      meta.audiocodecid = FLV_CODEC_IDS[a.codec];
      meta.audiosamplerate = a.sampleRate;
      meta.audiochannels = a.channels;
      meta.stereo = a.channels > 1;
    }
    meta.server = "Sluice";
    return meta;
  }

  /** A tag of type `typeId` (audio 8, video 9, data 18: the same numbers in RTMP and FLV). */
  #encode(typeId: number, ms: number, payload: Uint8Array): Uint8Array {
    if (this.#flv) {
      return encodeFlvTag({
        type: typeId as FlvTagType,
        timestamp: ms,
        data: payload,
      });
    }
    const message: RtmpMessage = {
      chunkStreamId: typeId === MESSAGE_TYPE.VIDEO
        ? CHUNK_STREAM.VIDEO
        : typeId === MESSAGE_TYPE.AUDIO
        ? CHUNK_STREAM.AUDIO
        : CHUNK_STREAM.DATA,
      typeId,
      timestamp: ms >>> 0,
      streamId: this.#streamId,
      payload,
    };
    return encodeMessage(message, this.#chunkSize);
  }
}

/** A tag with what it carries (readers can refuse audio or video) and its time. */
export interface MediaPacket extends Packet {
  video: boolean;
  ms: number;
}

function wants(reader: FlvReader, video: boolean): boolean {
  return video ? reader.video !== false : reader.audio !== false;
}

function sequenceHeader(track: VideoTrack): Uint8Array | undefined {
  // Without parameter sets or a record there is nothing to announce yet.
  if (track.record === undefined && track.parameterSets === undefined) {
    return undefined;
  }
  return videoSequenceHeader(track);
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && equals(a, b));
}
