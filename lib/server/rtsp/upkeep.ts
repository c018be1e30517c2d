/**
 * What the RTSP server does without a request: the UDP receive loop that
 * hands recorders their RTP and RTCP, and the once-a-second tick that reaps
 * quiet sessions and drops UDP readers that stay behind.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { receiveDatagrams } from "../../net/udp.ts";
import type { Multicast } from "./multicast.ts";
import type { SessionTable } from "./sessions.ts";
import type { RtspServerStats } from "./stats.ts";

/** Sessions live this much past the timeout they announce: some clients keep alive exactly every N seconds. */
const TIMEOUT_MARGIN_MS = 5000;

/** How often {@link tickSessions} runs. */
export const TICK_MS = 1000;

/**
 * Receives datagrams on the server's RTP (or RTCP, when `rtcp`) port until
 * it closes, and hands each to the recording session whose SETUP named the
 * sender's address; anything else is dropped.
 */
export function receiveMedia(
  socket: Deno.DatagramConn,
  table: SessionTable,
  rtcp: boolean,
): Promise<void> {
  return receiveDatagrams(socket, (data, from) => {
    // Media is accepted only from the address that set the session up.
    const route = table.udpRoute(from);
    if (route === undefined || route.rtcp !== rtcp) return;
    const s = route.session;
    s.lastSeen = Date.now();
    if (s.record === undefined) return; // a player's receiver report: liveness only
    if (rtcp) s.record.rtcp(route.trackId, data);
    else s.record.rtp(route.trackId, data);
  });
}

/** What {@link tickSessions} looks at and counts into. */
export interface TickContext {
  table: SessionTable;
  /** The session timeout announced to clients, in milliseconds. */
  sessionTimeoutMs: number;
  stats: Pick<RtspServerStats, "sessionsTimedOut" | "readersDropped">;
  log: Logger;
  connections: Iterable<{ tick(now: number): void }>;
  multicast: Multicast;
}

/** Reaps sessions that went quiet, drops UDP readers that stay behind, ticks connections. */
export function tickSessions(now: number, t: TickContext): void {
  const limit = t.sessionTimeoutMs + TIMEOUT_MARGIN_MS;
  for (const s of t.table.values()) {
    if (s.conn.closed && s.tracks.size === 0) {
      t.table.end(s, "connection closed");
      continue;
    }
    if (now - s.lastSeen > limit) {
      t.stats.sessionsTimedOut++;
      t.log.info("session timed out", {
        session: s.id,
        path: s.path,
        idleMs: now - s.lastSeen,
      });
      t.table.end(s, "timeout");
      continue;
    }
    const reader = s.udpReader;
    if (reader === undefined || s.udpLag === undefined || !s.play) continue;
    const v = s.udpLag.check(now, reader.stalledMs(), s.play.stream);
    if (!v.drop) continue;
    t.stats.readersDropped++;
    t.log.warn("dropping reader: it stayed behind", {
      session: s.id,
      path: s.path,
      behindMs: v.behindMs,
    });
    t.table.end(s, "reader too slow");
  }
  for (const c of t.connections) c.tick(now);
  t.multicast.sweep(t.table.values());
}
