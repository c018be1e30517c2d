/**
 * The RTSP session table: sessions by id, each owned by the connection that
 * made it, the UDP addresses their media comes from, and how a session
 * ends.
 *
 * @module
 */

import type { RtpOutput } from "../../egress/rtp_output.ts";
import type { VodStream } from "../../vod/vod.ts";
import type { ReaderLag } from "../../egress/reader_lag.ts";
import type { SdpTrack } from "../../format/tracks.ts";
import type { Hub } from "../../hub/hub.ts";
import type { RtpInput, SrtpInputStats } from "../../ingest/rtp_input.ts";
import type { Logger } from "../../log.ts";
import { parseSession } from "../../rtsp/headers/session.ts";
import type { Sdp } from "../../sdp/types.ts";
import type { SrtpContext } from "../../srtp/context.ts";
import type { MikeyError, MikeyMessage } from "../../srtp/mikey.ts";
import type { PlayLink, UdpReader } from "./readers.ts";
import { Refusal } from "./reply.ts";
import type { TrackTransport } from "./transport.ts";

/** A session's file: its player and its own RTP streams. */
export interface SessionVod {
  vod: VodStream;
  output: RtpOutput;
  close(): void;
}

/** What a session needs of the connection that made it. */
export interface SessionConnection {
  /** Whether the connection has closed. */
  readonly closed: boolean;
  /** One of its sessions ended: it forgets the session and its channels. */
  sessionEnded(s: Session): void;
}

/** An ANNOUNCE remembered until SETUP. */
export interface Announced {
  path: string;
  /** Who ANNOUNCEd it (`any` when anyone may publish). */
  user?: string;
  base: string;
  sdp: Sdp;
  tracks: (SdpTrack | undefined)[];
  /** Each media's SRTP key (`a=key-mgmt:mikey`), or why it cannot be used. */
  keys: (MikeyMessage | MikeyError | undefined)[];
}

/** An RTSP session: its tracks, its state, and what it plays or records. */
export interface Session {
  id: string;
  path: string;
  conn: SessionConnection;
  mode: "play" | "record";
  state: "ready" | "playing" | "recording";
  /** Set-up tracks by track id, with the URL the client set them up with. */
  tracks: Map<
    number,
    {
      transport: TrackTransport;
      url: string;
      /** RTP/SAVP of a RECORD: reads the client's SRTP with its key. */
      srtp?: SrtpContext;
    }
  >;
  lastSeen: number;
  play?: PlayLink;
  udpReader?: UdpReader;
  /** The slow-reader policy of a UDP reader (a TCP reader's is its connection's). */
  udpLag?: ReaderLag;
  record?: RtpInput;
  announced?: Announced;
  publisher?: { close(): void };
  /** A file of the VOD folder this session plays. */
  vod?: SessionVod;
}

/** Where a UDP datagram from a client's address goes. */
export interface UdpRoute {
  session: Session;
  trackId: number;
  rtcp: boolean;
}

/** Every RTSP session of the server. */
export class SessionTable {
  readonly #sessions = new Map<string, Session>();
  /** `host:port` a UDP packet comes from → the session track it belongs to. */
  readonly #udpRoutes = new Map<string, UdpRoute>();
  readonly #hub: Pick<Hub, "readerLeft">;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onCreate: (() => void) | undefined;
  readonly #onSrtpDropped: ((d: SrtpInputStats) => void) | undefined;

  constructor(options: {
    hub: Pick<Hub, "readerLeft">;
    log: Logger;
    /** Called for every session made (the server counts them). */
    onCreate?: () => void;
    /** Called as a recording session ends with the SRTP packets it dropped. */
    onSrtpDropped?: (dropped: SrtpInputStats) => void;
    now?: () => number;
  }) {
    this.#hub = options.hub;
    this.#log = options.log;
    this.#onCreate = options.onCreate;
    this.#onSrtpDropped = options.onSrtpDropped;
    this.#now = options.now ?? Date.now;
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Every open session. */
  values(): Session[] {
    return [...this.#sessions.values()];
  }

  /** A new session of `conn` with an unguessable id. */
  create(
    conn: SessionConnection,
    path: string,
    mode: "play" | "record",
  ): Session {
    const id = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const s: Session = {
      id,
      path,
      conn,
      mode,
      state: "ready",
      tracks: new Map(),
      lastSeen: this.#now(),
    };
    this.#sessions.set(id, s);
    this.#onCreate?.();
    return s;
  }

  /**
   * The session a request's `Session` header names. A session belongs to
   * the connection that made it: an id replayed from another connection is
   * not found (454), so a second, unauthenticated connection cannot take it
   * over (CVE-2026-41470).
   */
  find(
    conn: SessionConnection,
    header: string | undefined,
  ): Session | undefined {
    if (header === undefined) return undefined;
    let id: string;
    try {
      id = parseSession(header).id;
    } catch {
      throw new Refusal(454, "malformed Session header");
    }
    const s = this.#sessions.get(id);
    if (s === undefined || s.conn !== conn) {
      throw new Refusal(454, `no session ${id.slice(0, 32)}`);
    }
    return s;
  }

  /** Media and RTCP of `s`'s track from the client's ports go to it. */
  routeUdp(
    s: Session,
    trackId: number,
    hostname: string,
    ports: { rtp: number; rtcp: number },
  ): void {
    this.#udpRoutes.set(`${hostname}:${ports.rtp}`, {
      session: s,
      trackId,
      rtcp: false,
    });
    this.#udpRoutes.set(`${hostname}:${ports.rtcp}`, {
      session: s,
      trackId,
      rtcp: true,
    });
  }

  /** The session track a datagram from `from` belongs to: only the address that set it up. */
  udpRoute(from: Deno.NetAddr): UdpRoute | undefined {
    return this.#udpRoutes.get(`${from.hostname}:${from.port}`);
  }

  /** Ends a session: detaches its reader or publisher and forgets its routes. Idempotent. */
  end(s: Session, reason: string): void {
    if (!this.#sessions.delete(s.id)) return;
    this.#log.debug("session ended", { session: s.id, path: s.path, reason });
    for (const [key, route] of this.#udpRoutes) {
      if (route.session === s) this.#udpRoutes.delete(key);
    }
    this.stopPlaying(s);
    const dropped = s.record?.srtpStats;
    if (dropped !== undefined && dropped.authFailures + dropped.replays > 0) {
      this.#onSrtpDropped?.(dropped);
      this.#log.warn("SRTP packets dropped", {
        session: s.id,
        path: s.path,
        authFailures: dropped.authFailures,
        replays: dropped.replays,
      });
    }
    s.publisher?.close();
    s.publisher = undefined;
    s.vod?.close();
    s.vod = undefined;
    s.record = undefined;
    s.tracks.clear();
    s.conn.sessionEnded(s);
  }

  /** Detaches a playing session's reader from its stream (PAUSE, end). */
  stopPlaying(s: Session): void {
    const link = s.play;
    if (link === undefined) return;
    s.play = undefined;
    if ("leave" in link.reader) link.reader.leave(); // multicast: the senders it joined
    else link.output.removeReader(link.reader);
    s.udpReader?.close();
    s.udpLag?.countDrops(link.stream);
    s.udpReader = undefined;
    s.udpLag = undefined;
    this.#hub.readerLeft(link.stream, link.session);
  }
}
