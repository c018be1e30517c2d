/**
 * The unit of egress: bytes on the wire of one protocol, encoded once per
 * stream and format and shared by every reader of that format.
 *
 * @module
 */

/** What a queued packet is to the reader. */
export const PACKET_KIND = {
  /** Session replies, metadata, codec configuration: never dropped. */
  CONTROL: 0,
  /** A point a decoder can start at (video keyframe; audio in audio-only streams). */
  KEY: 1,
  /** Anything else: dropped while the reader skips to a keyframe. */
  DELTA: 2,
  /**
   * Reports that ride with the media (RTCP Sender Reports): never dropped,
   * but they wait for the next batch as media does. Every reader gets one
   * at the same moment; going out at once, each would have flushed its
   * queue alone, a private copy per reader instead of one shared batch.
   */
  REPORT: 3,
} as const;
/** One of {@link PACKET_KIND}. */
export type PacketKind = typeof PACKET_KIND[keyof typeof PACKET_KIND];

/** Bytes on the wire of one protocol, shared by every reader of that format. */
export interface Packet {
  bytes: Uint8Array;
  kind: PacketKind;
}
