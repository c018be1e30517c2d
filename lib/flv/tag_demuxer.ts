/**
 * FLV tag bodies → the media model: legacy AVC/HEVC and AAC/MP3/G.711 (FLV
 * v10.1 §E.4.2, §E.4.3), and Enhanced RTMP v1/v2 video ('avc1' 'hvc1' 'av01'
 * 'vp09') and audio ('mp4a' 'Opus' '.mp3'), including ModEx and the default
 * track (id 0) of a multitrack message.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { AudioTrack, VideoTrack } from "../media/mod.ts";
import { FLV_TAG_TYPE, type FlvEvent, type FlvTag } from "./tag.ts";
import { VideoTagDemuxer } from "./_video_tags.ts";
import { AudioTagDemuxer } from "./_audio_tags.ts";

export { FLV_VIDEO_TRACK_ID } from "./_video_track.ts";
export { FLV_AUDIO_TRACK_ID } from "./_audio_tags.ts";

/**
 * Turns FLV tags (RTMP audio/video/data messages, or tags of an FLV file) into
 * tracks and frames. Video is track 0 on the 90 kHz clock; audio is track 1
 * on its sample rate. Frames that come before their track's configuration are
 * dropped and counted, never thrown.
 */
export class FlvTagDemuxer implements StageCore<FlvTag, FlvEvent> {
  readonly #video = new VideoTagDemuxer();
  readonly #audio = new AudioTagDemuxer();

  /** Frames dropped because their track was not configured yet. */
  get dropped(): number {
    return this.#video.dropped + this.#audio.dropped;
  }

  /** The current video track, if configured. */
  get videoTrack(): VideoTrack | undefined {
    return this.#video.track;
  }

  /** The current audio track, if configured. */
  get audioTrack(): AudioTrack | undefined {
    return this.#audio.track;
  }

  push(tag: FlvTag, out: Sink<FlvEvent>): void {
    if (tag.data.length === 0) return; // an empty message carries nothing
    try {
      if (tag.type === FLV_TAG_TYPE.VIDEO) this.#video.push(tag, out);
      else if (tag.type === FLV_TAG_TYPE.AUDIO) this.#audio.push(tag, out);
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
}

/** {@link FlvTagDemuxer} as a `TransformStream`. */
export class FlvTagDemuxerStream extends StageStream<FlvTag, FlvEvent> {
  constructor() {
    super(new FlvTagDemuxer());
  }
}
