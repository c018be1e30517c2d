/**
 * Aggregate messages (RTMP 1.0 §7.1.6): several FLV tags in one message.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { FlvTag } from "../flv/tag.ts";

/** Tag header: type (1), data size (3), timestamp (3 + 1 extended), stream id (3). */
const TAG_HEADER_SIZE = 11;
/** Each tag is followed by its back pointer, the size of the tag with its header. */
const BACK_POINTER_SIZE = 4;

/**
 * The audio and video tags of an aggregate message. Sub-message timestamps
 * are relative: the first one takes the aggregate's timestamp and the rest
 * keep their distance to it (§7.1.6), modulo 2^32 as every RTMP timestamp
 * (§5.3.1.2.1). Other tag types are skipped.
 */
export function parseAggregate(
  payload: Uint8Array,
  timestamp: number,
): FlvTag[] {
  const tags: FlvTag[] = [];
  let pos = 0;
  let first: number | undefined;
  while (pos < payload.length) {
    if (payload.length - pos < TAG_HEADER_SIZE) {
      throw fail(
        "truncated",
        `${payload.length - pos} bytes left for an 11-byte header`,
      );
    }
    const type = payload[pos]! & 0x1f;
    const size = (payload[pos + 1]! << 16) | (payload[pos + 2]! << 8) |
      payload[pos + 3]!;
    const ts = ((payload[pos + 7]! << 24) | (payload[pos + 4]! << 16) |
      (payload[pos + 5]! << 8) | payload[pos + 6]!) >>> 0;
    const start = pos + TAG_HEADER_SIZE;
    const end = start + size;
    if (end > payload.length) {
      throw fail("truncated", `tag of ${size} bytes exceeds the message`);
    }
    first ??= ts;
    if (type === 8 || type === 9) {
      tags.push({
        type,
        timestamp: (timestamp + ((ts - first) | 0)) >>> 0,
        data: payload.subarray(start, end),
      });
    }
    pos = Math.min(payload.length, end + BACK_POINTER_SIZE);
  }
  return tags;
}

function fail(code: "truncated", detail: string): ProtocolError {
  return new ProtocolError(`Cannot read aggregate message: ${detail}`, {
    protocol: "rtmp",
    code,
  });
}
