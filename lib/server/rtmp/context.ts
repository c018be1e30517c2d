/**
 * What the RTMP commands see of their connection: what it sends, its command
 * state and the hub, as a narrow interface, so a table of commands and
 * replies tests them without sockets.
 *
 * @module
 */

import type { Vod, VodStream } from "../../vod/vod.ts";
import type { Authenticator } from "../../auth/authenticator.ts";
import type { Config } from "../../config/schema.ts";
import type { SessionInfo } from "../../events/events.ts";
import type { FlvOutput, FlvReader } from "../../egress/flv_output.ts";
import type { ReaderQueue } from "../../egress/reader_queue.ts";
import type { OutputTick } from "../../egress/tick.ts";
import type { Hub, Publisher } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import type { RtmpInput } from "../../ingest/rtmp_input.ts";
import type { Logger } from "../../log.ts";
import type { RtmpCommand } from "../../rtmp/command.ts";
import type { RtmpMessage } from "../../rtmp/message.ts";
import type { ServerConfig } from "../_config.ts";

/** What the RTMP server needs of the configuration (milliseconds and bytes). */
export type RtmpServerConfig =
  & ServerConfig
  & Pick<Config, "rtmpChunkSize" | "rtmpMaxMessageSize" | "rtmpMaxChunkSize">;

/** Where a connection is, once its handshake is done. */
export type CommandPhase =
  | "connecting"
  | "connected"
  | "waiting"
  | "playing"
  | "publishing";

/** What the commands know of a connection and change as they run. */
export interface CommandState {
  phase: CommandPhase;
  /** Chunk size of what the server sends: 128 until `connect` sets it. */
  outChunkSize: number;
  app: string;
  /** The query of the tcUrl (`rtmp://h/live?user=u&pass=p`), for credentials. */
  appQuery: string;
  objectEncoding: number;
  /** What the next `createStream` answers. */
  nextStreamId: number;
  /** The path published or played. */
  path: string;
  // publishing
  publisher: Publisher | undefined;
  publishStreamId: number;
  ingest: RtmpInput | undefined;
  // playing
  stream: Stream | undefined;
  output: FlvOutput | undefined;
  reader: FlvReader | undefined;
  playStreamId: number;
  /** The file played, for a path of the VOD folder. */
  vod?: VodStream;
  /** Who plays, for the read events (set while playing). */
  readSession?: SessionInfo;
}

/** The state of a connection whose handshake just ended. */
export function initialState(): CommandState {
  return {
    phase: "connecting",
    outChunkSize: 128,
    app: "",
    appQuery: "",
    objectEncoding: 0,
    nextStreamId: 1,
    path: "",
    publisher: undefined,
    publishStreamId: 0,
    ingest: undefined,
    stream: undefined,
    output: undefined,
    reader: undefined,
    playStreamId: 0,
  };
}

/** A command and the message stream it came on. */
export interface CommandSource {
  cmd: RtmpCommand;
  streamId: number;
}

/** One RTMP connection, as its commands use it. */
export interface CommandSession {
  /** Who may publish and play; one built from `config` when left out. */
  readonly auth?: Pick<Authenticator, "authorize">;
  /** The client's address, as the authenticator and webhooks see it. */
  readonly remoteHostname?: string;
  /** The connection's id in logs, webhooks and the API. */
  readonly id?: string;
  readonly hub:
    & Pick<Hub, "publish" | "waitForStream" | "readerLeft">
    & Partial<Pick<Hub, "readerJoined">>;
  readonly config: RtmpServerConfig;
  readonly log: Logger;
  readonly state: CommandState;
  /** The queue toward the socket: a player's media joins it. */
  readonly queue: ReaderQueue;
  /** The readers' shared tick: a stream's RTMP output hands frames over on it. */
  readonly outputTick?: OutputTick;
  /** Aborted when the connection closes: a play waiting for its stream stops. */
  readonly signal: AbortSignal;
  /** Whether the connection is closing or closed. */
  readonly closing: boolean;
  /** Queues one message, cut into chunks of `state.outChunkSize`. */
  send(message: RtmpMessage): void;
  /** Writes what is queued now, not with the next batch (a player's GOP). */
  flush(): void;
  /** Ends the connection, after its last replies unless `flush` is false. */
  close(reason: string, options?: { flush?: boolean }): Promise<void>;
  /**
   * Ends the connection for an error a command met after it returned (a
   * play that waited), answering the command when the error has an answer.
   */
  fail(e: unknown, source?: CommandSource): Promise<void>;
  /** Counts what a leaving player's queue dropped into its stream. */
  countDrops(): void;
  /** The VOD folder: paths under `vod/` play its files. */
  readonly vod?: Vod;
}
