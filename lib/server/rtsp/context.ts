/**
 * What the RTSP methods see: the server's part (hub, configuration, session
 * table, sockets) and the part of the connection the request came on. Both
 * are narrow interfaces, so the methods run without sockets in tests.
 *
 * @module
 */

import type { RtspAuthenticator } from "../../auth/credentials.ts";
import type { Config } from "../../config/schema.ts";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import type { WriteBatcher } from "../../net/batch_writer.ts";
import type { ServerConfig } from "../_config.ts";
import type { Multicast } from "./multicast.ts";
import type { SessionOwner, UdpSockets } from "./readers.ts";
import type {
  Announced,
  Session,
  SessionConnection,
  SessionTable,
  UdpRoute,
} from "./sessions.ts";

/** What the RTSP server needs of the configuration (milliseconds and bytes). */
export type RtspServerConfig =
  & ServerConfig
  & Pick<Config, "rtspSessionTimeout">
  & Partial<
    Pick<
      Config,
      | "multicastIPRange"
      | "multicastRTPPort"
      | "multicastRTCPPort"
      | "multicastTTL"
    >
  >;

/** The server, as the methods use it. */
export interface ServerContext {
  readonly hub: Pick<
    Hub,
    "publish" | "waitForStream" | "readerLeft" | "stream"
  >;
  readonly config: RtspServerConfig;
  readonly auth: Pick<RtspAuthenticator, "check">;
  readonly sessions: SessionTable;
  /** The shared tick of every reader. */
  readonly batcher: WriteBatcher;
  /** The server's RTP and RTCP sockets (UDP readers send from them). */
  udp(): UdpSockets;
  readonly serverPorts: { rtp: number; rtcp: number };
  /** Multicast groups and senders; without it multicast SETUPs get 461. */
  readonly multicast?: Multicast;
}

/** The connection a request came on, as the methods use it. */
export interface ConnectionContext extends SessionConnection, SessionOwner {
  readonly log: Logger;
  /** The client's address: UDP media goes there and nowhere else. */
  readonly remoteHostname: string;
  /** Aborted when the connection closes (a DESCRIBE waiting for a publisher stops). */
  readonly signal: AbortSignal;
  /** The last ANNOUNCE, until its SETUPs. */
  announced: Announced | undefined;
  /** Interleaved channel → the RECORD session track it carries, or a player's RTCP. */
  readonly channels: Map<number, UdpRoute>;
  /** The sessions this connection made. */
  readonly sessions: Set<Session>;
  close(reason: string): Promise<void>;
}
