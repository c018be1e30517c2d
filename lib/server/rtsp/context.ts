/**
 * What the RTSP methods see: the server's part (hub, configuration, session
 * table, sockets) and the part of the connection the request came on. Both
 * are narrow interfaces, so the methods run without sockets in tests.
 *
 * @module
 */

import type { Vod } from "../../vod/vod.ts";
import type { Authenticator } from "../../auth/authenticator.ts";
import type { RtspAuthenticator } from "../../auth/credentials.ts";
import type { Config } from "../../config/schema.ts";
import type { Hub } from "../../hub/hub.ts";
import type { Logger } from "../../log.ts";
import type { WriteBatcher } from "../../net/batch_writer.ts";
import type { StreamConn } from "../../net/tcp.ts";
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
      | "srtp"
      | "multicastIPRange"
      | "multicastRTPPort"
      | "multicastRTCPPort"
      | "multicastTTL"
    >
  >;

/** The server, as the methods use it. */
export interface ServerContext {
  readonly hub:
    & Pick<Hub, "publish" | "waitForStream" | "readerLeft" | "stream">
    & Partial<Pick<Hub, "readerJoined">>;
  readonly config: RtspServerConfig;
  /** Digest nonces and challenges. */
  readonly auth: Pick<RtspAuthenticator, "digest" | "challenges">;
  /** Who may do what; one built from `config` when left out. */
  readonly authenticator?: Pick<Authenticator, "authorize" | "digestUsable">;
  readonly sessions: SessionTable;
  /** The shared tick of every reader. */
  readonly batcher: WriteBatcher;
  /** The server's RTP and RTCP sockets (UDP readers send from them). */
  udp(): UdpSockets;
  readonly serverPorts: { rtp: number; rtcp: number };
  /** Multicast groups and senders; without it multicast SETUPs get 461. */
  readonly multicast?: Multicast;
  /** Who pulls REGISTERed streams; without one REGISTER is a 501. */
  readonly registrar?: Registrar;
  /** The VOD folder: paths under `vod/` play its files. */
  readonly vod?: Vod;
}

/** A REGISTER the server accepted: what to pull, into which path, and how. */
export interface Registration {
  /** The path the stream is published on. */
  path: string;
  /** The `rtsp://` URL the registering side named. */
  url: string;
  /** How RTP should come: interleaved in the RTSP connection, or UDP first. */
  transport: "tcp" | "automatic";
  /**
   * With `reuse_connection`: the connection the REGISTER came on, once the
   * server has answered and let go of it (the pull runs over it).
   */
  conn?: Promise<StreamConn>;
}

/**
 * Pulls registered streams (live555's REGISTER proxying). The server checks
 * the request and its credentials; the registrar runs the pull.
 */
export interface Registrar {
  /** Whether `path` is registered now. */
  has(path: string): boolean;
  /** Registrations now. */
  readonly size: number;
  /** REGISTERs accepted, DEREGISTERs done, and both refused (the server counts). */
  readonly stats: { registered: number; deregistered: number; refused: number };
  /**
   * Takes `path` at once and starts pulling. Resolves when the registration
   * stands: at once over a reused connection, after the URL answered when
   * Sluice connects out (rejects when it did not, within a bounded wait).
   */
  register(r: Registration): Promise<void>;
  /** Stops the pull of `path` and frees it; false when it was not registered. */
  deregister(path: string): boolean;
  /** Multicast groups and senders; without it multicast SETUPs get 461. */
  readonly multicast?: Multicast;
}

/** The connection a request came on, as the methods use it. */
export interface ConnectionContext extends SessionConnection, SessionOwner {
  readonly log: Logger;
  /** Whether the connection is a TLS session (RTSPS): URLs Sluice writes say `rtsps://`. */
  readonly secure?: boolean;
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
  /**
   * Answers nothing more and lets go of the socket once the replies queued
   * so far are written, returning it (a REGISTER with `reuse_connection`).
   */
  handOver?(): Promise<StreamConn>;
  /**
   * On a connection Sluice opened to REGISTER this path at another server:
   * that server may read this path, and nothing else, without credentials.
   */
  readonly registeredPath?: string;
}
