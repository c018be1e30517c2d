/**
 * The Enhanced RTMP v2 headers that video and audio tags share (ModEx and
 * multitrack), and the error every FLV tag reader throws.
 *
 * @module
 */

import type { ByteReader } from "../binary.ts";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import {
  AUDIO_PACKET_TYPE,
  AV_MULTITRACK_TYPE,
  VIDEO_PACKET_TYPE,
} from "./tag.ts";

/**
 * Enhanced RTMP v2 ModEx: { modExDataSize UI8+1 (256 → UI16+1) | modExData |
 * modExType UB[4] | packetType UB[4] } until the packet type is no longer
 * ModEx. The one defined modifier, TimestampOffsetNano, is below a
 * millisecond and is skipped with the rest.
 */
export function skipModEx(r: ByteReader): number {
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
export function forDefaultTrack(
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

/** A `ProtocolError` of FLV: "Cannot <action>: <detail>". */
export function fail(
  code: ProtocolErrorCode,
  action: string,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot ${action}: ${detail}`, {
    protocol: "flv",
    code,
  });
}
