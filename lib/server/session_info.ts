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
  /** Milliseconds from connecting to the first media packet queued to a reader. */
  firstFrameMs: number | undefined;
}

/** A server whose sessions can be listed and closed. */
export interface SessionSource {
  /** Every open session now. */
  sessionList(): SessionInfo[];
  /** Closes the session `id`; false when it has none of that id. */
  kick(id: string): boolean;
  /** Sessions closed since the last call, with their final counts (for metrics). */
  drainClosed(): SessionInfo[];
}

/** The one of `sessions` whose id is `id`, for a server's {@link SessionSource.kick}. */
export function sessionOf<T extends { info(): SessionInfo }>(
  sessions: Iterable<T>,
  id: string,
): T | undefined {
  for (const s of sessions) if (s.info().id === id) return s;
  return undefined;
}

/**
 * The last state of sessions that closed, until the metrics take them:
 * bounded, the oldest going first when nobody takes them.
 */
export class ClosedSessions {
  #list: SessionInfo[] = [];
  readonly #max: number;

  /** Keeps at most `max` sessions. */
  constructor(max = 4096) {
    this.#max = max;
  }

  /** Keeps `info` of a session that just closed. */
  add(info: SessionInfo): void {
    if (this.#list.length >= this.#max) this.#list.shift();
    this.#list.push(info);
  }

  /** Everything kept, emptied. */
  drain(): SessionInfo[] {
    const out = this.#list;
    this.#list = [];
    return out;
  }
}
