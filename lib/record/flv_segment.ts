/**
 * FLV recordings: a file header, `onMetaData` with room for a `keyframes`
 * index (`times` in seconds, `filepositions` of each keyframe's tag, as
 * ffmpeg, yamdi and RTMP servers read it for seeking), the sequence
 * headers, then tags. The metadata tag is written at its final size when
 * the segment opens, padded, and filled in over itself when it closes: a
 * file cut short is still a valid FLV, only without the index. Its
 * `creationdate` is an AMF0 Date (ms, UTC) of the segment's time 0, so the
 * file itself says when it was recorded (RTSP `Range: clock=` on VOD).
 *
 * @module
 */

import { concat } from "@std/bytes";
import { encodeAmf0 } from "../amf/amf0.ts";
import type { Metadata } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import type { AudioTrack, Track, VideoTrack } from "../media/track.ts";
import { encodeFlvTag, flvHeader } from "../flv/file.ts";
import { FLV_TAG_TYPE } from "../flv/tag.ts";
import {
  audioSequenceHeader,
  audioTagBody,
  tagTimestampMs,
  videoSequenceHeader,
  videoTagBody,
} from "../flv/tag_muxer.ts";
import type {
  FilePatch,
  SegmentMuxer,
  SegmentOpening,
} from "./segment_muxer.ts";
import { FLV_CODEC_IDS } from "../egress/flv_output.ts";

/** Options of {@link FlvSegmentMuxer}. */
export interface FlvSegmentMuxerOptions {
  /** Keyframes the index has room for; later ones are not indexed. @default {3600} */
  maxKeyframes?: number;
}

const HEADER_SIZE = 13; // header + PreviousTagSize0
/** Bytes per index entry: one AMF0 number in `times`, one in `filepositions`. */
const ENTRY_SIZE = 18;

/** Writes FLV segments with an `onMetaData` keyframes index. */
export class FlvSegmentMuxer implements SegmentMuxer {
  readonly extension = "flv" as const;
  readonly #maxKeyframes: number;
  #video: VideoTrack | undefined;
  #audio: AudioTrack | undefined;
  #base: Record<string, unknown> = {};
  #metaSize = 0;
  /** Bytes of the file so far, parts included. */
  #position = 0;
  #pending: Uint8Array[] = [];
  #times: number[] = [];
  #positions: number[] = [];

  constructor(options: FlvSegmentMuxerOptions = {}) {
    this.#maxKeyframes = options.maxKeyframes ?? 3600;
  }

  open(
    tracks: readonly Track[],
    metadata: Metadata | undefined,
    start?: SegmentOpening,
  ): Uint8Array {
    this.#video = tracks.find((t): t is VideoTrack => t.kind === "video");
    this.#audio = tracks.find((t): t is AudioTrack => t.kind === "audio");
    this.#times = [];
    this.#positions = [];
    this.#pending = [];
    this.#base = baseMetadata(this.#video, this.#audio, metadata);
    if (start !== undefined) this.#base.creationdate = new Date(start.startMs);
    const reserved = reservedMetadata(this.#base, this.#maxKeyframes);
    this.#metaSize = reserved.length;
    const out: Uint8Array[] = [
      flvHeader(this.#audio !== undefined, this.#video !== undefined),
      reserved,
    ];
    if (this.#video !== undefined) {
      const body = this.#video.record === undefined &&
          this.#video.parameterSets === undefined
        ? undefined
        : videoSequenceHeader(this.#video);
      if (body !== undefined) {
        out.push(
          encodeFlvTag({ type: FLV_TAG_TYPE.VIDEO, timestamp: 0, data: body }),
        );
      }
    }
    if (this.#audio !== undefined) {
      const body = audioSequenceHeader(this.#audio);
      if (body !== undefined) {
        out.push(
          encodeFlvTag({ type: FLV_TAG_TYPE.AUDIO, timestamp: 0, data: body }),
        );
      }
    }
    const bytes = concat(out);
    this.#position = bytes.length;
    return bytes;
  }

  add(track: Track, frame: Frame): void {
    let tag: Uint8Array;
    const ms = tagTimestampMs(track, frame.dts);
    if (track.kind === "video" && track.id === this.#video?.id) {
      if (frame.keyframe && this.#times.length < this.#maxKeyframes) {
        this.#times.push(ms / 1000);
        this.#positions.push(this.#position);
      }
      tag = encodeFlvTag({
        type: FLV_TAG_TYPE.VIDEO,
        timestamp: ms,
        data: videoTagBody(track, frame),
      });
    } else if (track.kind === "audio" && track.id === this.#audio?.id) {
      tag = encodeFlvTag({
        type: FLV_TAG_TYPE.AUDIO,
        timestamp: ms,
        data: audioTagBody(track, frame),
      });
    } else {
      return;
    }
    this.#pending.push(tag);
    this.#position += tag.length;
  }

  part(): Uint8Array | undefined {
    if (this.#pending.length === 0) return undefined;
    const bytes = concat(this.#pending);
    this.#pending = [];
    return bytes;
  }

  close(durationSeconds: number): FilePatch[] {
    const meta = {
      ...this.#base,
      duration: durationSeconds,
      filesize: this.#position,
      keyframes: { times: this.#times, filepositions: this.#positions },
    };
    const bytes = paddedMetadata(meta, this.#metaSize) ??
      paddedMetadata({ ...meta, keyframes: undefined }, this.#metaSize);
    return bytes === undefined ? [] : [{ offset: HEADER_SIZE, bytes }];
  }
}

function baseMetadata(
  video: VideoTrack | undefined,
  audio: AudioTrack | undefined,
  metadata: Metadata | undefined,
): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (
      k === "duration" || k === "filesize" || k === "keyframes" ||
      k === "creationdate"
    ) continue;
    if (
      typeof v === "number" || typeof v === "string" || typeof v === "boolean"
    ) {
      meta[k] = v;
    }
  }
  meta.duration = 0;
  meta.filesize = 0;
  if (video !== undefined) {
    if (video.width !== undefined) meta.width = video.width;
    if (video.height !== undefined) meta.height = video.height;
    meta.videocodecid = FLV_CODEC_IDS[video.codec];
  }
  if (audio !== undefined) {
    meta.audiocodecid = FLV_CODEC_IDS[audio.codec];
    meta.audiosamplerate = audio.sampleRate;
    meta.audiochannels = audio.channels;
    meta.stereo = audio.channels > 1;
  }
  meta.server = "Sluice";
  return meta;
}

/** The metadata tag at its final size: room for `max` keyframes, held by padding. */
function reservedMetadata(
  base: Record<string, unknown>,
  max: number,
): Uint8Array {
  const empty = { ...base, keyframes: { times: [], filepositions: [] } };
  const size = metadataTag({ ...empty, padding: [], pad: "" }).length +
    max * ENTRY_SIZE;
  return paddedMetadata(empty, size)!;
}

/**
 * `meta` as a tag of exactly `size` bytes, or `undefined` when it does not
 * fit. The room left is an array of `false` (2 bytes each) and a string of
 * 0 or 1 byte: ffmpeg's FLV reader refuses strings of 256 bytes or more.
 */
function paddedMetadata(
  meta: Record<string, unknown>,
  size: number,
): Uint8Array | undefined {
  const bare = metadataTag({ ...meta, padding: [], pad: "" }).length;
  const room = size - bare;
  if (room < 0) return undefined;
  const tag = metadataTag({
    ...meta,
    padding: new Array(Math.floor(room / 2)).fill(false),
    pad: room % 2 === 1 ? " " : "",
  });
  return tag.length === size ? tag : undefined;
}

function metadataTag(meta: Record<string, unknown>): Uint8Array {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) clean[k] = v;
  return encodeFlvTag({
    type: FLV_TAG_TYPE.SCRIPT,
    timestamp: 0,
    data: encodeAmf0("onMetaData", clean),
  });
}
