/**
 * RTMP media messages into the hub: FLV tags become tracks and frames,
 * `onMetaData` becomes stream metadata. The RTMP server uses it for
 * publishers, the RTMP pull relay for the streams it plays.
 *
 * @module
 */

import { FlvTagDemuxer } from "../flv/tag_demuxer.ts";
import type { FlvTag } from "../flv/tag.ts";
import type { Publisher } from "../hub/hub.ts";
import type { Track } from "../media/track.ts";
import { Unwrapper32 } from "../media/time.ts";
import { parseAggregate } from "../rtmp/aggregate.ts";
import { decodeData } from "../rtmp/command.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../rtmp/message.ts";

/** Feeds one RTMP stream's media and data messages to a publisher. */
export class RtmpInput {
  readonly #publisher: Pick<
    Publisher,
    "setTrack" | "setMetadata" | "writeFrame"
  >;
  readonly #onTrack: ((track: Track) => void) | undefined;
  readonly #flv = new FlvTagDemuxer();
  /** Audio and video travel on their own chunk streams: each has its own 32-bit timeline. */
  readonly #unwrap = { audio: new Unwrapper32(), video: new Unwrapper32() };

  constructor(
    publisher: Pick<Publisher, "setTrack" | "setMetadata" | "writeFrame">,
    onTrack?: (track: Track) => void,
  ) {
    this.#publisher = publisher;
    this.#onTrack = onTrack;
  }

  /** Frames dropped because their track was not configured yet. */
  get dropped(): number {
    return this.#flv.dropped;
  }

  /** An audio, video, data or aggregate message; others are ignored. */
  push(m: RtmpMessage): void {
    switch (m.typeId) {
      case MESSAGE_TYPE.AUDIO:
      case MESSAGE_TYPE.VIDEO:
        return this.#tag(m.typeId, m.timestamp, m.payload);
      case MESSAGE_TYPE.DATA_AMF0:
      case MESSAGE_TYPE.DATA_AMF3:
        return this.#data(
          decodeData(m.payload, m.typeId === MESSAGE_TYPE.DATA_AMF3),
        );
      case MESSAGE_TYPE.AGGREGATE:
        for (const tag of parseAggregate(m.payload, m.timestamp)) {
          this.#tag(tag.type, tag.timestamp >>> 0, tag.data);
        }
        return;
    }
  }

  #tag(typeId: number, timestamp: number, data: Uint8Array): void {
    const kind = typeId === MESSAGE_TYPE.VIDEO ? "video" : "audio";
    const tag: FlvTag = {
      type: typeId as 8 | 9,
      timestamp: this.#unwrap[kind].unwrap(timestamp),
      data,
    };
    this.#flv.push(tag, {
      enqueue: (ev) => {
        if (ev.kind === "frame") this.#publisher.writeFrame(ev.frame);
        else if (ev.kind === "track") {
          this.#publisher.setTrack(ev.track);
          this.#onTrack?.(ev.track);
        }
      },
    });
  }

  /** `@setDataFrame onMetaData {…}` or plain `onMetaData {…}`. */
  #data(values: unknown[]): void {
    let i = 0;
    if (values[i] === "@setDataFrame") i++;
    if (values[i] !== "onMetaData") return;
    const meta = values[i + 1];
    if (meta !== null && typeof meta === "object") {
      this.#publisher.setMetadata({ ...meta as Record<string, unknown> });
    }
  }
}
