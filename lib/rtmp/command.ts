/**
 * RTMP command and data messages (RTMP 1.0 §7.1.1, §7.1.2, §7.2): AMF
 * payloads read as `name, transaction id, command object, arguments…`, and
 * the onStatus info objects a server sends.
 *
 * Command messages are type 20 (AMF0) or 17 (AMF3), data messages 18 or 15;
 * callers pass the `amf3` flag for types 17 and 15. Those payloads begin with
 * a format byte 0x00, then AMF0 values that may switch to AMF3 one value at a
 * time (avmplus-object marker 0x11), as Flash Player sends them (not in the
 * spec; see "RTMP Errata and Addenda", Object Encoding 3).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { decodeAmf0, encodeAmf0 } from "../amf/amf0.ts";
import {
  type AmfDecodeOptions,
  type AmfObject,
  type AmfValue,
  setProperty,
} from "../amf/amf3.ts";

/** A command message (RTMP 1.0 §7.1.1, §7.2). */
export interface RtmpCommand {
  /** Command name: `connect`, `createStream`, `publish`, `_result`, `onStatus` … */
  name: string;
  /** Matches a `_result`/`_error` to its call; 0 when the call wants no answer or none was sent. */
  transactionId: number;
  /** Properties of `connect` and `_result`; `null` for most others. */
  commandObject: unknown;
  /** The arguments after the command object (stream name, publishing type, info object …). */
  args: unknown[];
}

/** Command names of RTMP 1.0 §7.2 and those encoders send around them (FMLE, OBS, ffmpeg). */
export const RTMP_COMMAND = {
  CONNECT: "connect",
  CALL: "call",
  CLOSE: "close",
  CREATE_STREAM: "createStream",
  DELETE_STREAM: "deleteStream",
  CLOSE_STREAM: "closeStream",
  RELEASE_STREAM: "releaseStream",
  FC_PUBLISH: "FCPublish",
  FC_UNPUBLISH: "FCUnpublish",
  FC_SUBSCRIBE: "FCSubscribe",
  PUBLISH: "publish",
  PLAY: "play",
  PLAY2: "play2",
  SEEK: "seek",
  PAUSE: "pause",
  RECEIVE_AUDIO: "receiveAudio",
  RECEIVE_VIDEO: "receiveVideo",
  GET_STREAM_LENGTH: "getStreamLength",
  CHECK_BW: "_checkbw",
  RESULT: "_result",
  ERROR: "_error",
  ON_STATUS: "onStatus",
  ON_BW_DONE: "onBWDone",
  ON_FC_PUBLISH: "onFCPublish",
  ON_FC_UNPUBLISH: "onFCUnpublish",
} as const;
/** One of {@link RTMP_COMMAND}. */
export type RtmpCommandName = typeof RTMP_COMMAND[keyof typeof RTMP_COMMAND];

/** Handler names that open data messages (RTMP 1.0 §7.1.2; FLV SCRIPTDATA). */
export const RTMP_DATA = {
  /** A publisher asks the server to keep the following metadata for new players. */
  SET_DATA_FRAME: "@setDataFrame",
  CLEAR_DATA_FRAME: "@clearDataFrame",
  ON_META_DATA: "onMetaData",
  /** Sent to players so Flash may read the raw audio and video. */
  SAMPLE_ACCESS: "|RtmpSampleAccess",
} as const;

/** `level` of an onStatus info object. */
export type StatusLevel = "status" | "warning" | "error";

/**
 * `code` of onStatus info objects, spelled as Flash Player and Flash Media
 * Server spell them (NetStatusEvent.info.code).
 */
export const NET_STATUS = {
  CALL_BAD_VERSION: "NetConnection.Call.BadVersion",
  CALL_FAILED: "NetConnection.Call.Failed",
  CALL_PROHIBITED: "NetConnection.Call.Prohibited",
  CONNECT_APP_SHUTDOWN: "NetConnection.Connect.AppShutdown",
  CONNECT_CLOSED: "NetConnection.Connect.Closed",
  CONNECT_FAILED: "NetConnection.Connect.Failed",
  CONNECT_IDLE_TIMEOUT: "NetConnection.Connect.IdleTimeout",
  CONNECT_INVALID_APP: "NetConnection.Connect.InvalidApp",
  CONNECT_REJECTED: "NetConnection.Connect.Rejected",
  CONNECT_SUCCESS: "NetConnection.Connect.Success",
  STREAM_FAILED: "NetStream.Failed",
  BUFFER_EMPTY: "NetStream.Buffer.Empty",
  BUFFER_FLUSH: "NetStream.Buffer.Flush",
  BUFFER_FULL: "NetStream.Buffer.Full",
  PUBLISH_START: "NetStream.Publish.Start",
  PUBLISH_BAD_NAME: "NetStream.Publish.BadName",
  PUBLISH_IDLE: "NetStream.Publish.Idle",
  UNPUBLISH_SUCCESS: "NetStream.Unpublish.Success",
  PLAY_START: "NetStream.Play.Start",
  PLAY_STOP: "NetStream.Play.Stop",
  PLAY_RESET: "NetStream.Play.Reset",
  PLAY_FAILED: "NetStream.Play.Failed",
  PLAY_STREAM_NOT_FOUND: "NetStream.Play.StreamNotFound",
  PLAY_PUBLISH_NOTIFY: "NetStream.Play.PublishNotify",
  PLAY_UNPUBLISH_NOTIFY: "NetStream.Play.UnpublishNotify",
  PLAY_INSUFFICIENT_BW: "NetStream.Play.InsufficientBW",
  PLAY_SWITCH: "NetStream.Play.Switch",
  PLAY_TRANSITION: "NetStream.Play.Transition",
  PLAY_COMPLETE: "NetStream.Play.Complete",
  DATA_START: "NetStream.Data.Start",
  PAUSE_NOTIFY: "NetStream.Pause.Notify",
  UNPAUSE_NOTIFY: "NetStream.Unpause.Notify",
  SEEK_NOTIFY: "NetStream.Seek.Notify",
  SEEK_FAILED: "NetStream.Seek.Failed",
  SEEK_INVALID_TIME: "NetStream.Seek.InvalidTime",
  RECORD_START: "NetStream.Record.Start",
  RECORD_STOP: "NetStream.Record.Stop",
  RECORD_FAILED: "NetStream.Record.Failed",
  RECORD_NO_ACCESS: "NetStream.Record.NoAccess",
} as const;
/** One of {@link NET_STATUS}. */
export type NetStatusCode = typeof NET_STATUS[keyof typeof NET_STATUS];

/** Format byte before the values of AMF3 command and data messages (types 17, 15). */
const AMF3_FORMAT_AMF0 = 0x00;

/**
 * Decodes a command message payload. Lenient as real clients need: a missing
 * transaction id reads as 0, a missing command object as `null` (`publish`
 * without its type argument decodes, with one argument).
 *
 * @throws {ProtocolError} `malformed` (protocol `rtmp`) when the first value is
 * not a string; AMF errors (protocol `amf`) from {@link decodeAmf0}
 */
export function decodeCommand(
  payload: Uint8Array,
  amf3: boolean,
  options?: AmfDecodeOptions,
): RtmpCommand {
  const values = decodeAmf0(valuesOf(payload, amf3), options);
  const name = values[0];
  if (typeof name !== "string") {
    const found = values.length === 0
      ? "empty payload"
      : `first value is ${kindOf(name)}`;
    throw new ProtocolError(`Cannot decode command: ${found}, not a name`, {
      protocol: "rtmp",
      code: "malformed",
    });
  }
  let i = 1;
  let transactionId = 0;
  if (typeof values[1] === "number") {
    transactionId = values[1];
    i = 2;
  }
  let commandObject: AmfValue = null;
  // With its transaction id in place the command object is the next value,
  // whatever it is; without one, only a value that can be a command object.
  if (i < values.length && (i === 2 || isCommandObject(values[i]))) {
    commandObject = values[i];
    i++;
  }
  return { name, transactionId, commandObject, args: values.slice(i) };
}

/** Encodes a command as an AMF0 command message payload (type 20); an `undefined` command object goes out as null. */
export function encodeCommand(cmd: RtmpCommand): Uint8Array<ArrayBuffer> {
  return encodeAmf0(
    cmd.name,
    cmd.transactionId,
    cmd.commandObject ?? null,
    ...cmd.args,
  );
}

/**
 * Decodes a data message payload (type 18, or 15 with `amf3`) into its
 * values, e.g. `["@setDataFrame", "onMetaData", {…}]`.
 *
 * @throws {ProtocolError} AMF errors from {@link decodeAmf0}
 */
export function decodeData(
  payload: Uint8Array,
  amf3: boolean,
  options?: AmfDecodeOptions,
): AmfValue[] {
  return decodeAmf0(valuesOf(payload, amf3), options);
}

/** Encodes values as an AMF0 data message payload (type 18). */
export function encodeData(...values: unknown[]): Uint8Array<ArrayBuffer> {
  return encodeAmf0(...values);
}

/**
 * The info object of an onStatus command (and of the connect `_result`):
 * `{ level, code, description, ...extra }`.
 */
export function statusInfo(
  level: StatusLevel,
  code: NetStatusCode | string,
  description: string,
  extra: Record<string, unknown> = {},
): AmfObject {
  const info: AmfObject = { level, code, description };
  for (const key of Object.keys(extra)) {
    setProperty(info, key, extra[key] as AmfValue);
  }
  return info;
}

function valuesOf(payload: Uint8Array, amf3: boolean): Uint8Array {
  // A type-17/15 payload without its format byte (it would read as a number) is taken as AMF0.
  return amf3 && payload[0] === AMF3_FORMAT_AMF0
    ? payload.subarray(1)
    : payload;
}

function isCommandObject(v: AmfValue): boolean {
  return v === null || v === undefined ||
    (typeof v === "object" && !Array.isArray(v) &&
      Object.getPrototypeOf(v) === Object.prototype);
}

function kindOf(v: AmfValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
