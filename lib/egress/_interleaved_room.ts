/**
 * RTSP/TCP's interleaved framing without a copy per reader: each RTP packet
 * is made with 4 bytes of room in front, and the first TCP reader of a
 * channel writes that channel's header there for every reader on it.
 *
 * @module
 */

import { concat } from "@std/bytes";
import type { Packet } from "./packet.ts";
import {
  INTERLEAVED_HEADER_SIZE,
  interleavedHeader,
} from "../rtsp/interleaved.ts";

/** A packet made with room for RTSP's interleaved header in front. */
export interface InterleavedRoom {
  /**
   * The packet behind 4 bytes of room for RTSP's interleaved header: `bytes`
   * is a view of it. See {@link interleavedFor}.
   */
  framed: Uint8Array;
  /** The channel whose header `framed` holds; -1 until a reader claims it. */
  framedChannel: number;
}

/**
 * `p` behind the interleaved header of `channel`, when `p` can be: the
 * first RTSP/TCP reader of a packet writes its channel into the packet's
 * room, and every reader on that channel (players set up the same
 * channels, in the same order) queues this one shared buffer instead of a
 * header and the packet, half the parts per batch. A reader on another
 * channel, or a packet without room (RTCP, SRTP), gets `undefined`.
 */
export function interleavedFor(
  p: Packet & Partial<InterleavedRoom>,
  channel: number,
): Uint8Array | undefined {
  const framed = p.framed;
  if (framed === undefined) return undefined;
  if (p.framedChannel === channel) return framed;
  if (p.framedChannel !== -1) return undefined;
  framed.set(interleavedHeader(channel, p.bytes.length));
  p.framedChannel = channel;
  return framed;
}

/**
 * `packet` behind room for a TCP reader's interleaved header: the
 * packetizers leave that room in the packet's own buffer (`headroom`), so
 * this is a view; a packet without it is copied once, for all readers.
 */
export function withRoom(packet: Uint8Array): Uint8Array {
  const room = INTERLEAVED_HEADER_SIZE;
  if (
    packet.byteOffset === room &&
    packet.buffer.byteLength === room + packet.byteLength
  ) return new Uint8Array(packet.buffer, 0, room + packet.byteLength);
  const framed = new Uint8Array(room + packet.length);
  framed.set(packet, room);
  return framed;
}

/** One packet of a tick's hand-over: of which track, and whether it is RTCP. */
export interface RunItem {
  trackId: number;
  p: Packet & Partial<InterleavedRoom>;
  rtcp: boolean;
}

/**
 * The RTP packets of one tick behind their interleaved headers, joined once
 * for every RTSP/TCP reader on the same channels: such a reader queues
 * them as one part instead of one part per packet, and readers in step
 * then hold the very same batch, which the tick writes from one memory
 * file (`WriteBatcher.fileOf`).
 */
export class InterleavedRun {
  /** The packets, in order (a queue counts them as it takes the run). */
  readonly packets: readonly Packet[];
  readonly #items: readonly RunItem[];
  /** The channel of each track in the run, once a reader's channels framed it all. */
  #channels: Map<number, number> | undefined;
  #bytes: Uint8Array | undefined;

  /** A run of `items`, or undefined when one of them cannot be framed (RTCP, SRTP). */
  static of(items: readonly RunItem[]): InterleavedRun | undefined {
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.rtcp || items[i]!.p.framed === undefined) return undefined;
    }
    return new InterleavedRun(items);
  }

  private constructor(items: readonly RunItem[]) {
    this.#items = items;
    this.packets = items.map((x) => x.p);
  }

  /**
   * The joined run for a reader whose RTP channel of a track is
   * `channelOf(track)`, or undefined when its channels are not the run's
   * (or it lacks one of its tracks). The first reader that fits frames the
   * packets for its channels (see {@link interleavedFor}).
   */
  bytesFor(
    channelOf: (trackId: number) => number | undefined,
  ): Uint8Array | undefined {
    const known = this.#channels;
    if (known !== undefined) {
      for (const [trackId, channel] of known) {
        if (channelOf(trackId) !== channel) return undefined;
      }
      return this.#bytes;
    }
    const items = this.#items;
    const channels = new Map<number, number>();
    const framed: Uint8Array[] = [];
    for (let i = 0; i < items.length; i++) {
      const { trackId, p } = items[i]!;
      const channel = channelOf(trackId);
      const f = channel === undefined ? undefined : interleavedFor(p, channel);
      if (f === undefined) return undefined;
      channels.set(trackId, channel!);
      framed.push(f);
    }
    this.#channels = channels;
    this.#bytes = concat(framed);
    return this.#bytes;
  }
}
