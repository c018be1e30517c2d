/**
 * RTSP/TCP's interleaved framing without a copy per reader: each RTP packet
 * is made with 4 bytes of room in front, and the first TCP reader of a
 * channel writes that channel's header there for every reader on it.
 *
 * @module
 */

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
