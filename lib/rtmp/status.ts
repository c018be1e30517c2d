/**
 * Command messages as both sides of a connection build and read them: a
 * call or `_result` on the connection, an `onStatus` on a stream (RTMP 1.0
 * §7.2.1.1, §7.2.2), and the info object a reply carries.
 *
 * @module
 */

import {
  encodeCommand,
  type RtmpCommand,
  statusInfo,
  type StatusLevel,
} from "./command.ts";
import { CHUNK_STREAM, MESSAGE_TYPE, type RtmpMessage } from "./message.ts";

/**
 * `cmd` as an AMF0 command message (type 20) on `streamId`: on the command
 * chunk stream for the connection (stream 0), on the data chunk stream for a
 * stream's own commands (`play`, `publish`), as nginx-rtmp sends them.
 */
export function commandMessage(
  streamId: number,
  cmd: RtmpCommand,
): RtmpMessage {
  return {
    chunkStreamId: streamId === 0 ? CHUNK_STREAM.COMMAND : CHUNK_STREAM.DATA,
    typeId: MESSAGE_TYPE.COMMAND_AMF0,
    timestamp: 0,
    streamId,
    payload: encodeCommand(cmd),
  };
}

/**
 * The `_result` of the call `transactionId` (RTMP 1.0 §7.2.1.1): the command
 * object, then `value` when there is one (`createStream`'s stream id).
 */
export function resultMessage(
  transactionId: number,
  commandObject: unknown,
  value?: unknown,
): RtmpMessage {
  return commandMessage(0, {
    name: "_result",
    transactionId,
    commandObject,
    args: value === undefined ? [] : [value],
  });
}

/**
 * The `_error` of the call `transactionId` (RTMP 1.0 §7.2.1.1): no command
 * object, then the info object `{ level: "error", code, description }`.
 */
export function errorMessage(
  transactionId: number,
  code: string,
  description: string,
): RtmpMessage {
  return commandMessage(0, {
    name: "_error",
    transactionId,
    commandObject: null,
    args: [statusInfo("error", code, description)],
  });
}

/**
 * An `onStatus` for `streamId` (RTMP 1.0 §7.2.2), always on the data chunk
 * stream, with the info object `{ level, code, description, ...extra }`.
 */
export function statusMessage(
  streamId: number,
  level: StatusLevel,
  code: string,
  description: string,
  extra?: Record<string, unknown>,
): RtmpMessage {
  return {
    chunkStreamId: CHUNK_STREAM.DATA,
    typeId: MESSAGE_TYPE.COMMAND_AMF0,
    timestamp: 0,
    streamId,
    payload: encodeCommand({
      name: "onStatus",
      transactionId: 0,
      commandObject: null,
      args: [statusInfo(level, code, description, extra)],
    }),
  };
}

/**
 * The info object of an `onStatus`, `_result` or `_error` (its first
 * argument); an empty object when there is none.
 */
export function infoOf(reply: RtmpCommand): Record<string, unknown> {
  const info = reply.args[0];
  return typeof info === "object" && info !== null
    ? info as Record<string, unknown>
    : {};
}
