/**
 * Protocol control messages (Adobe RTMP specification 1.0, §5.4) and user
 * control events (§6.2, §7.1.7), built as and read from {@link RtmpMessage}s.
 * Both travel on chunk stream 2, message stream 0, timestamp 0.
 *
 * @module
 */
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { CHUNK_STREAM, MESSAGE_TYPE, type RtmpMessage } from "./message.ts";

/** Limit types of Set Peer Bandwidth (§5.4.5). */
export const PEER_BANDWIDTH_LIMIT = {
  /** The peer should limit its output bandwidth to the window size. */
  HARD: 0,
  /** Limit to this window or the one already in effect, whichever is smaller. */
  SOFT: 1,
  /** Hard if the previous limit was hard, else ignore the message. */
  DYNAMIC: 2,
} as const;

/** A limit type from {@link PEER_BANDWIDTH_LIMIT}. */
export type PeerBandwidthLimit =
  typeof PEER_BANDWIDTH_LIMIT[keyof typeof PEER_BANDWIDTH_LIMIT];

/** User control event types (§7.1.7). */
export const USER_CONTROL_EVENT = {
  /** Server → client: stream (4-byte id) is ready; sent for id 0 after `connect`. */
  STREAM_BEGIN: 0,
  /** Server → client: playback of the stream (4-byte id) is over. */
  STREAM_EOF: 1,
  /** Server → client: no more data on the stream (4-byte id) for now. */
  STREAM_DRY: 2,
  /** Client → server: stream id (4), then its buffer length in ms (4). */
  SET_BUFFER_LENGTH: 3,
  /** Server → client: the stream (4-byte id) is a recorded one. */
  STREAM_IS_RECORDED: 4,
  /** Server → client: 4-byte server time; the client answers with a ping response. */
  PING_REQUEST: 6,
  /** Client → server: the time from the ping request, echoed. */
  PING_RESPONSE: 7,
} as const;

/** A protocol control message, decoded (§5.4). */
export type ControlMessage =
  | { type: "setChunkSize"; size: number }
  | { type: "abort"; chunkStreamId: number }
  | { type: "acknowledgement"; sequenceNumber: number }
  | { type: "windowAckSize"; size: number }
  | { type: "setPeerBandwidth"; size: number; limitType: PeerBandwidthLimit };

/**
 * A user control event, decoded (§7.1.7). Events outside the specification
 * (Flash Media Server 3.5 sends 31 and 32, "buffer empty" and "buffer ready")
 * come back as `unknown` with their data.
 */
export type UserControlEvent =
  | { type: "streamBegin"; streamId: number }
  | { type: "streamEof"; streamId: number }
  | { type: "streamDry"; streamId: number }
  | { type: "setBufferLength"; streamId: number; bufferMs: number }
  | { type: "streamIsRecorded"; streamId: number }
  | { type: "pingRequest"; timestamp: number }
  | { type: "pingResponse"; timestamp: number }
  | { type: "unknown"; eventType: number; data: Uint8Array };

/** The largest value a 31-bit chunk size or window field may hold. */
const MAX_31_BIT = 0x7fffffff;

/** Set Chunk Size (§5.4.1): the sender's chunks are `size` bytes (1..2^31-1) from now on. */
export function setChunkSize(size: number): RtmpMessage {
  if (!Number.isInteger(size) || size < 1 || size > MAX_31_BIT) {
    throw new RangeError(
      `Cannot build Set Chunk Size: size "${size}" is not in 1..${MAX_31_BIT}`,
    );
  }
  return control(MESSAGE_TYPE.SET_CHUNK_SIZE, u32(size));
}

/** Abort Message (§5.4.2): drop the partial message on `chunkStreamId`. */
export function abort(chunkStreamId: number): RtmpMessage {
  return control(
    MESSAGE_TYPE.ABORT,
    u32(checkU32(chunkStreamId, "Abort", "chunk stream id")),
  );
}

/** Acknowledgement (§5.4.3): `sequenceNumber` bytes received so far (taken mod 2^32). */
export function acknowledgement(sequenceNumber: number): RtmpMessage {
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0) {
    throw new RangeError(
      `Cannot build Acknowledgement: "${sequenceNumber}" is not a byte count`,
    );
  }
  return control(
    MESSAGE_TYPE.ACKNOWLEDGEMENT,
    u32(sequenceNumber % 0x100000000),
  );
}

/** Window Acknowledgement Size (§5.4.4): acknowledge after every `size` bytes. */
export function windowAckSize(size: number): RtmpMessage {
  return control(
    MESSAGE_TYPE.WINDOW_ACK_SIZE,
    u32(checkU32(size, "Window Acknowledgement Size", "size")),
  );
}

/** Set Peer Bandwidth (§5.4.5): window `size` and how to apply it. */
export function setPeerBandwidth(
  size: number,
  limitType: PeerBandwidthLimit,
): RtmpMessage {
  const payload = new Uint8Array(5);
  new DataView(payload.buffer).setUint32(
    0,
    checkU32(size, "Set Peer Bandwidth", "size"),
  );
  if (limitType !== 0 && limitType !== 1 && limitType !== 2) {
    throw new RangeError(
      `Cannot build Set Peer Bandwidth: limit type "${limitType}" is not 0, 1 or 2`,
    );
  }
  payload[4] = limitType;
  return control(MESSAGE_TYPE.SET_PEER_BANDWIDTH, payload);
}

/** User control Stream Begin (event 0). */
export function streamBegin(streamId: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.STREAM_BEGIN, streamId);
}

/** User control Stream EOF (event 1). */
export function streamEof(streamId: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.STREAM_EOF, streamId);
}

/** User control StreamDry (event 2). */
export function streamDry(streamId: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.STREAM_DRY, streamId);
}

/** User control SetBuffer Length (event 3): the client buffers `bufferMs` of `streamId`. */
export function setBufferLength(
  streamId: number,
  bufferMs: number,
): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.SET_BUFFER_LENGTH, streamId, bufferMs);
}

/** User control StreamIs Recorded (event 4). */
export function streamIsRecorded(streamId: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.STREAM_IS_RECORDED, streamId);
}

/** User control PingRequest (event 6) carrying the server's time in ms (mod 2^32). */
export function pingRequest(timestamp: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.PING_REQUEST, timestamp >>> 0);
}

/** User control PingResponse (event 7) echoing a PingRequest's time. */
export function pingResponse(timestamp: number): RtmpMessage {
  return userControl(USER_CONTROL_EVENT.PING_RESPONSE, timestamp >>> 0);
}

/**
 * Reads a protocol control message (types 1, 2, 3, 5, 6); `undefined` for
 * any other type. A payload shorter than its fields is a `truncated`
 * {@link ProtocolError}; longer payloads are read up to their fields.
 */
export function decodeControl(
  message: Pick<RtmpMessage, "typeId" | "payload">,
): ControlMessage | undefined {
  const { typeId, payload } = message;
  switch (typeId) {
    case MESSAGE_TYPE.SET_CHUNK_SIZE:
      // §5.4.1: bit 31 must be zero; the demuxer enforces it, here it is masked.
      return {
        type: "setChunkSize",
        size: readU32(payload, 0, "Set Chunk Size") & MAX_31_BIT,
      };
    case MESSAGE_TYPE.ABORT:
      return { type: "abort", chunkStreamId: readU32(payload, 0, "Abort") };
    case MESSAGE_TYPE.ACKNOWLEDGEMENT:
      return {
        type: "acknowledgement",
        sequenceNumber: readU32(payload, 0, "Acknowledgement"),
      };
    case MESSAGE_TYPE.WINDOW_ACK_SIZE:
      return {
        type: "windowAckSize",
        size: readU32(payload, 0, "Window Acknowledgement Size"),
      };
    case MESSAGE_TYPE.SET_PEER_BANDWIDTH: {
      const size = readU32(payload, 0, "Set Peer Bandwidth");
      if (payload.length < 5) {
        throw fail("Set Peer Bandwidth", "truncated", "no limit type");
      }
      const limitType = payload[4]!;
      if (limitType > 2) {
        throw fail(
          "Set Peer Bandwidth",
          "malformed",
          `limit type ${limitType} is not 0, 1 or 2`,
        );
      }
      return {
        type: "setPeerBandwidth",
        size,
        limitType: limitType as PeerBandwidthLimit,
      };
    }
    default:
      return undefined;
  }
}

/** Reads the payload of a user control message (type 4, §7.1.7). */
export function decodeUserControl(payload: Uint8Array): UserControlEvent {
  if (payload.length < 2) {
    throw fail("user control event", "truncated", "no event type");
  }
  const eventType = (payload[0]! << 8) | payload[1]!;
  const what = "user control event";
  switch (eventType) {
    case USER_CONTROL_EVENT.STREAM_BEGIN:
      return { type: "streamBegin", streamId: readU32(payload, 2, what) };
    case USER_CONTROL_EVENT.STREAM_EOF:
      return { type: "streamEof", streamId: readU32(payload, 2, what) };
    case USER_CONTROL_EVENT.STREAM_DRY:
      return { type: "streamDry", streamId: readU32(payload, 2, what) };
    case USER_CONTROL_EVENT.SET_BUFFER_LENGTH:
      return {
        type: "setBufferLength",
        streamId: readU32(payload, 2, what),
        bufferMs: readU32(payload, 6, what),
      };
    case USER_CONTROL_EVENT.STREAM_IS_RECORDED:
      return { type: "streamIsRecorded", streamId: readU32(payload, 2, what) };
    case USER_CONTROL_EVENT.PING_REQUEST:
      return { type: "pingRequest", timestamp: readU32(payload, 2, what) };
    case USER_CONTROL_EVENT.PING_RESPONSE:
      return { type: "pingResponse", timestamp: readU32(payload, 2, what) };
    default:
      return { type: "unknown", eventType, data: payload.subarray(2) };
  }
}

function userControl(
  eventType: number,
  first: number,
  second?: number,
): RtmpMessage {
  const payload = new Uint8Array(second === undefined ? 6 : 10);
  const view = new DataView(payload.buffer);
  view.setUint16(0, eventType);
  view.setUint32(2, checkU32(first, "user control event", "value"));
  if (second !== undefined) {
    view.setUint32(6, checkU32(second, "user control event", "value"));
  }
  return {
    chunkStreamId: CHUNK_STREAM.PROTOCOL_CONTROL,
    typeId: MESSAGE_TYPE.USER_CONTROL,
    timestamp: 0,
    streamId: 0,
    payload,
  };
}

function control(typeId: number, payload: Uint8Array): RtmpMessage {
  return {
    chunkStreamId: CHUNK_STREAM.PROTOCOL_CONTROL,
    typeId,
    timestamp: 0,
    streamId: 0,
    payload,
  };
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value);
  return b;
}

function checkU32(value: number, what: string, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(
      `Cannot build ${what}: ${field} "${value}" is not a 32-bit unsigned integer`,
    );
  }
  return value;
}

function readU32(payload: Uint8Array, at: number, what: string): number {
  if (payload.length < at + 4) {
    throw fail(what, "truncated", `${payload.length} bytes, need ${at + 4}`);
  }
  return ((payload[at]! << 24) | (payload[at + 1]! << 16) |
    (payload[at + 2]! << 8) | payload[at + 3]!) >>> 0;
}

function fail(
  what: string,
  code: ProtocolErrorCode,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot read ${what}: ${detail}`, {
    protocol: "rtmp",
    code,
  });
}
