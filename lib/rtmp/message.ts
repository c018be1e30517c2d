/**
 * The RTMP message: what the chunk stream carries once its chunks are joined
 * (Adobe RTMP specification 1.0, §5.1 and §7.1).
 *
 * @module
 */

/** Message type ids (RTMP specification 1.0, §5.4 and §7.1). */
export const MESSAGE_TYPE = {
  /** §5.4.1: 4 bytes, the new maximum chunk size of the sender. */
  SET_CHUNK_SIZE: 1,
  /** §5.4.2: 4 bytes, the chunk stream id whose partial message is dropped. */
  ABORT: 2,
  /** §5.4.3: 4 bytes, the number of bytes received so far. */
  ACKNOWLEDGEMENT: 3,
  /** §6.2 / §7.1.7: 2-byte event type, then event data. */
  USER_CONTROL: 4,
  /** §5.4.4: 4 bytes, the window after which the peer must acknowledge. */
  WINDOW_ACK_SIZE: 5,
  /** §5.4.5: 4-byte window size, 1-byte limit type. */
  SET_PEER_BANDWIDTH: 6,
  /** §7.1.4: an FLV audio tag body. */
  AUDIO: 8,
  /** §7.1.5: an FLV video tag body. */
  VIDEO: 9,
  /** §7.1.2: metadata in AMF3 (`@setDataFrame`, `onMetaData`). */
  DATA_AMF3: 15,
  /** §7.1.3: shared object events in AMF3. */
  SHARED_OBJECT_AMF3: 16,
  /** §7.1.1: a command in AMF3 (one leading 0x00 byte, then AMF0). */
  COMMAND_AMF3: 17,
  /** §7.1.2: metadata in AMF0. */
  DATA_AMF0: 18,
  /** §7.1.3: shared object events in AMF0. */
  SHARED_OBJECT_AMF0: 19,
  /** §7.1.1: a command in AMF0 (`connect`, `publish`, `onStatus` …). */
  COMMAND_AMF0: 20,
  /** §7.1.6: several audio, video or data messages with their own headers. */
  AGGREGATE: 22,
} as const;

/** A message type id from {@link MESSAGE_TYPE}. */
export type MessageType = typeof MESSAGE_TYPE[keyof typeof MESSAGE_TYPE];

/**
 * Chunk stream ids Sluice sends on. The specification fixes only id 2
 * (protocol control, §5.4 and §6.2); the rest is convention. nginx-rtmp sends
 * commands on 3, stream commands and metadata on 5, audio on 6 and video on 7;
 * SRS uses 5 for stream messages too but swaps audio (7) and video (6);
 * ffmpeg's client uses 3 for commands, 4 for audio and 6 for video. Any id
 * from 3 up works (each connection keeps its own header state per id), but
 * audio and video on separate ids let every message after the first on each
 * use the shorter type-1/2/3 headers. Sluice follows nginx-rtmp.
 */
export const CHUNK_STREAM = {
  /** Protocol control messages and user control events (§5.4, §6.2). */
  PROTOCOL_CONTROL: 2,
  /** Connection commands and their `_result`/`_error` answers. */
  COMMAND: 3,
  /** Stream commands (`onStatus`), `onMetaData` and other data messages. */
  DATA: 5,
  /** Audio messages to players. */
  AUDIO: 6,
  /** Video messages to players. */
  VIDEO: 7,
} as const;

/** The smallest chunk stream id the basic header can carry (§5.3.1.1). */
export const MIN_CHUNK_STREAM_ID = 2;
/** The largest chunk stream id: 3-byte basic header, 65535 + 64 (§5.3.1.1). */
export const MAX_CHUNK_STREAM_ID = 65599;
/** The chunk size both sides start with (§5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/** The largest message length the 24-bit length field can state (§5.3.1.2.1). */
export const MAX_MESSAGE_LENGTH = 0xffffff;

/** One RTMP message, as the chunk stream delivers it (§5.1, §5.3.1.2). */
export interface RtmpMessage {
  /** The chunk stream it travelled on (2..65599). */
  chunkStreamId: number;
  /** Message type id, see {@link MESSAGE_TYPE}. */
  typeId: number;
  /** Milliseconds, absolute, as on the wire: 32 bits that wrap (mod 2^32). */
  timestamp: number;
  /** Message stream id: 0 for the connection, else a `createStream` result. */
  streamId: number;
  /** The message body. */
  payload: Uint8Array;
}
