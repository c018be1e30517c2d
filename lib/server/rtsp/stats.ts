/**
 * The counters of the RTSP server, kept apart so the pieces that count
 * (connections, tunnels, the tick) need not import the server.
 *
 * @module
 */

/** Counters over all RTSP connections and sessions. */
export interface RtspServerStats {
  connections: number;
  sessions: number;
  protocolErrors: number;
  readersDropped: number;
  sessionsTimedOut: number;
  /** TLS handshakes that failed or timed out on the RTSPS port. */
  tlsHandshakeFailures: number;
  /** SRTP and SRTCP packets of recorders dropped: failed authentication, or replayed (counted as their sessions end). */
  srtpAuthFailures: number;
  srtpReplays: number;
  /** RTSP over HTTP tunnels opened (over HTTPS on the RTSPS port too). */
  tunnels: number;
  /** Multicast senders running now (one per path and track with multicast players). */
  multicastSenders: number;
  /** Multicast SETUPs that named a destination or TTL of their own (the server's were answered). */
  multicastOverridden: number;
  /** Multicast datagrams handed to the kernel: one per packet, however many players. */
  multicastDatagrams: number;
}

/** Every counter at zero. */
export function emptyStats(): RtspServerStats {
  return {
    connections: 0,
    sessions: 0,
    protocolErrors: 0,
    readersDropped: 0,
    sessionsTimedOut: 0,
    tlsHandshakeFailures: 0,
    srtpAuthFailures: 0,
    srtpReplays: 0,
    tunnels: 0,
    multicastSenders: 0,
    multicastOverridden: 0,
    multicastDatagrams: 0,
  };
}
