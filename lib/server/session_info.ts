/**
 * What every protocol server tells about its open connections: the one
 * read-only shape the REST API and the metrics list, whatever the protocol.
 *
 * @module
 */

/** The protocols a session can speak. */
export type SessionProtocol = "rtmp" | "rtsp" | "flv";

/** What a session does with its path. */
export type SessionRole = "publisher" | "reader" | "none";

/** One open connection or session, as the API shows it. */
export interface SessionInfo {
  /** Unique among the server's sessions, prefixed by the protocol (`rtmp-3`). */
  id: string;
  protocol: SessionProtocol;
  /** `host:port` of the peer. */
  remoteAddress: string;
  /** The path it publishes or reads, once it named one. */
  path: string | undefined;
  role: SessionRole;
  /** Protocol state (`publishing`, `playing`, `record`, `ready` …). */
  state: string;
  /** When it connected, in milliseconds since the epoch. */
  since: number;
  /** Bytes received from the peer. */
  bytesIn: number;
  /** Bytes written to the peer. */
  bytesOut: number;
  /**
   * Media packets queued to the peer: one per frame for RTMP and HTTP-FLV,
   * RTP packets for RTSP over TCP.
   */
  packetsOut: number;
}

/** A server whose sessions can be listed and closed. */
export interface SessionSource {
  /** Every open session now. */
  sessionList(): SessionInfo[];
  /** Closes the session `id`; false when it has none of that id. */
  kick(id: string): boolean;
}
