/**
 * Multicast delivery of RTSP. Each track of a path that multicast readers
 * set up gets a group of its own from `multicastIPRange`, on the one pair of
 * ports `multicastRTPPort`/`multicastRTCPPort` (a receiver joins only the
 * tracks it set up, and a firewall opens two ports), and while any session
 * plays it, one sender: a reader of the stream's RTP output, like a UDP
 * player's, whose one destination is the group. Each packet goes out once
 * per track, however many sessions play it; the sender starts with the
 * first and stops when the last leaves (TEARDOWN, PAUSE, a timeout, the
 * end of the stream). The server chooses group, ports and TTL: a SETUP that
 * names others gets the server's (as gst-rtsp-server answers by default).
 *
 * @module
 */

import type { RtpOutput } from "../../egress/rtp_output.ts";
import type { Logger } from "../../log.ts";
import type { WriteBatcher } from "../../net/batch_writer.ts";
import { DatagramWriter } from "../../net/datagram_writer.ts";
import { joinMulticast, multicastSender } from "../../net/multicast.ts";
import { receiveDatagrams } from "../../net/udp.ts";
import { type GroupReader, UdpReader, type UdpSockets } from "./readers.ts";
import type { Session } from "./sessions.ts";
import type { MulticastGroup } from "./transport.ts";

export type { MulticastGroup } from "./transport.ts";

/** What multicast delivery reads of the configuration. */
export interface MulticastConfig {
  /** The range groups come from (see `parseMulticastRange`). */
  range: { base: number; size: number };
  rtpPort: number;
  rtcpPort: number;
  ttl: number;
  /** The address senders bind to, and the interface multicast leaves by. */
  hostname: string;
}

/** Counters of multicast delivery. */
export interface MulticastStats {
  /** Senders running now: one per path and track with multicast players. */
  senders: number;
  /** SETUPs that named a destination or TTL of their own (never honoured). */
  overridden: number;
  /** SETUPs refused because every group of the range was in use. */
  exhausted: number;
}

interface Sender {
  group: string;
  reader: UdpReader;
  output: RtpOutput;
  /**
   * Playing sessions, with the address each came from (its receiver reports
   * come from there) and what ends it when the stream ends.
   */
  members: Map<Session, Member>;
  listener?: Deno.DatagramConn;
}

interface Member {
  hostname: string;
  onEnd: () => void;
}

/** RTCP receiver report (RFC 3550 §6.4.2). */
const RTCP_RR = 201;
/** 224.0.0.0/24 is for local network control (RFC 5771 §4): never a group of ours. */
const LOCAL_CONTROL = 0xe00000;

/** The groups, senders and sockets of the server's multicast readers. */
export class Multicast {
  readonly stats: MulticastStats = { senders: 0, overridden: 0, exhausted: 0 };
  readonly config: MulticastConfig;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #batcher: WriteBatcher | undefined;
  /** `path\ntrackId` → the group's address as a number. */
  readonly #groups = new Map<string, number>();
  readonly #taken = new Set<number>();
  #next = 0;
  readonly #senders = new Map<string, Sender>();
  #sockets:
    | Promise<{ sockets: UdpSockets; close(): void; sent(): number }>
    | undefined;
  #ready: { sockets: UdpSockets; close(): void; sent(): number } | undefined;
  #closed = false;

  constructor(
    config: MulticastConfig,
    options: {
      log: Logger;
      maxBytes: number;
      batcher?: WriteBatcher;
    },
  ) {
    this.config = config;
    this.#log = options.log;
    this.#maxBytes = options.maxBytes;
    this.#batcher = options.batcher;
  }

  /** Datagrams the senders handed to the kernel. */
  get datagrams(): number {
    return this.#ready?.sent() ?? 0;
  }

  /** The group of `path`'s track, chosen the first time; undefined when the range is full. */
  group(path: string, trackId: number): MulticastGroup | undefined {
    const key = keyOf(path, trackId);
    let ip = this.#groups.get(key);
    if (ip === undefined) {
      ip = this.#allocate();
      if (ip === undefined) {
        this.stats.exhausted++;
        return undefined;
      }
      this.#groups.set(key, ip);
      this.#taken.add(ip);
    }
    const { rtpPort, rtcpPort, ttl } = this.config;
    return { group: ipText(ip), rtpPort, rtcpPort, ttl };
  }

  /** Opens the senders' sockets, once, at the first multicast SETUP. */
  open(): Promise<void> {
    this.#sockets ??= this.#openSockets();
    return this.#sockets.then(() => {}, (e) => {
      this.#sockets = undefined; // the next multicast SETUP tries again
      throw e;
    });
  }

  /**
   * Session `s` plays `path`'s track `key` (as set up; -1 for the aggregate
   * URL), which is track `trackId` of `output`: it joins that track's
   * sender. Returns the sender when this session started it (it sends the
   * GOP cache once released), `"running"` when it joined one already
   * sending, undefined when there is no group or socket for it.
   */
  join(
    s: Session,
    key: number,
    trackId: number,
    join: { output: RtpOutput } & Member,
  ): UdpReader | "running" | undefined {
    const k = keyOf(s.path, key);
    const have = this.#senders.get(k);
    if (have !== undefined && have.output === join.output) {
      have.members.set(s, join);
      return "running";
    }
    const ready = this.#ready;
    const group = this.#groups.get(k);
    if (ready === undefined || group === undefined) return undefined;
    if (have !== undefined) this.#stop(k, have); // the stream behind the path was replaced
    const { rtpPort, rtcpPort } = this.config;
    const tracks = new Map([[trackId, {
      hostname: ipText(group),
      rtpPort,
      rtcpPort,
    }]]);
    const sender: Sender = {
      group: ipText(group),
      output: join.output,
      members: new Map([[s, join]]),
      reader: new UdpReader(ready.sockets, tracks, {
        maxBytes: this.#maxBytes,
        batcher: this.#batcher,
        onEnd: () => {
          for (const m of [...sender.members.values()]) m.onEnd();
        },
      }),
    };
    this.#senders.set(k, sender);
    this.stats.senders++;
    join.output.addReader(sender.reader, new Set([trackId]));
    this.#listen(sender);
    this.#log.info("multicast sender started", {
      path: s.path,
      track: trackId,
      group: sender.group,
    });
    return sender.reader;
  }

  /** Session `s` stops playing its track `key`; the last one stops the sender. */
  leave(s: Session, key: number): void {
    const k = keyOf(s.path, key);
    const sender = this.#senders.get(k);
    if (sender === undefined || !sender.members.delete(s)) return;
    if (sender.members.size === 0) this.#stop(k, sender);
  }

  #stop(k: string, sender: Sender): void {
    this.#senders.delete(k);
    this.stats.senders--;
    sender.members.clear();
    sender.output.removeReader(sender.reader);
    sender.reader.close();
    sender.listener?.close();
    sender.listener = undefined;
    this.#log.info("multicast sender stopped", { group: sender.group });
  }

  /** Frees the groups no open session has set up (once a second). */
  sweep(sessions: Iterable<Session>): void {
    if (this.#groups.size === 0) return;
    const used = new Set<string>();
    for (const s of sessions) {
      for (const [id, t] of s.tracks) {
        if (t.transport.kind === "multicast") used.add(keyOf(s.path, id));
      }
    }
    for (const [k, ip] of this.#groups) {
      if (used.has(k) || this.#senders.has(k)) continue;
      this.#groups.delete(k);
      this.#taken.delete(ip);
    }
  }

  /** Closes the sockets (the senders went with their sessions). */
  close(): void {
    this.#closed = true;
    for (const sender of this.#senders.values()) sender.listener?.close();
    this.#ready?.close();
  }

  async #openSockets(): Promise<
    { sockets: UdpSockets; close(): void; sent(): number }
  > {
    const { hostname, ttl, range } = this.config;
    const fallback = ipText(range.base + (range.size > 1 ? 1 : 0));
    const options = { ttl, interfaceAddress: hostname };
    const rtp = await multicastSender(hostname, fallback, options);
    let rtcp: Awaited<ReturnType<typeof multicastSender>>;
    try {
      rtcp = await multicastSender(hostname, fallback, options);
    } catch (e) {
      rtp.socket.close();
      throw e;
    }
    const writers = {
      rtp: new DatagramWriter(rtp.socket),
      rtcp: new DatagramWriter(rtcp.socket),
    };
    this.#log.info("multicast senders open", {
      rtp: (rtp.socket.addr as Deno.NetAddr).port,
      ttl,
      // setsockopt needs --allow-ffi; Deno's membership sets only the TTL
      socketOptions: rtp.options,
      udpSend: writers.rtp.mode,
    });
    const ready = {
      sockets: writers,
      sent: () => writers.rtp.sent + writers.rtcp.sent,
      close: () => {
        writers.rtp.close();
        writers.rtcp.close();
        for (const s of [rtp.socket, rtcp.socket]) {
          try {
            s.close();
          } catch {
            // already closed
          }
        }
      },
    };
    if (this.#closed) ready.close();
    else this.#ready = ready;
    return ready;
  }

  /**
   * Receiver reports sent to the group's RTCP port keep the sessions of
   * the address they come from alive, as RTSP keep-alives do; a port
   * another program holds alone leaves them to the keep-alives.
   */
  #listen(sender: Sender): void {
    joinMulticast(sender.group, this.config.rtcpPort).then((socket) => {
      if (sender.members.size === 0 || this.#closed) return socket.close();
      sender.listener = socket;
      void receiveDatagrams(socket, (data, from) => {
        // A receiver's compound RTCP opens with a receiver report (RFC 3550
        // §6.1, PT 201); our own Sender Reports come back here too and count not.
        if (data.length < 8 || data[1] !== RTCP_RR) return;
        const now = Date.now();
        for (const [s, m] of sender.members) {
          if (m.hostname === from.hostname) s.lastSeen = now;
        }
      });
    }).catch((e) => {
      this.#log.debug("cannot hear multicast receiver reports", {
        group: sender.group,
        error: String(e),
      });
    });
  }

  #allocate(): number | undefined {
    const { base, size } = this.config.range;
    if (this.#taken.size >= size) return undefined;
    // At most the taken ones and the local control block are passed over.
    const tries = Math.min(size, this.#taken.size + 258);
    for (let i = 0; i < tries; i++) {
      const k = (this.#next + i) % size;
      const ip = base + k;
      // a range's first address reads as a network's: left out of ranges of 4 and more
      if ((k === 0 && size >= 4) || ip >>> 8 === LOCAL_CONTROL) continue;
      if (this.#taken.has(ip)) continue;
      this.#next = (k + 1) % size; // round robin: a freed group is not reused at once
      return ip;
    }
    return undefined;
  }
}

function keyOf(path: string, trackId: number): string {
  return `${path}\n${trackId}`;
}

/** Dotted quad of a 32-bit address. */
export function ipText(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join(
    ".",
  );
}

/** What a multicast session holds while it plays: the senders it joined. */
export class MulticastReader implements GroupReader {
  readonly #multicast: Multicast;
  readonly #session: Session;
  readonly #keys: Set<number>;
  readonly #started: UdpReader[];

  constructor(
    multicast: Multicast,
    session: Session,
    joined: { keys: Iterable<number>; started: UdpReader[] },
  ) {
    this.#multicast = multicast;
    this.#session = session;
    this.#keys = new Set(joined.keys);
    this.#started = joined.started;
  }

  /** The senders this session started send their GOP now the PLAY answer is queued. */
  release(): void {
    for (const r of this.#started) r.release();
    this.#started.length = 0;
  }

  /** A TEARDOWN of one track: the session leaves its sender. */
  removeTrack(key: number): void {
    if (this.#keys.delete(key)) this.#multicast.leave(this.#session, key);
  }

  /** The session stops playing: it leaves every sender. */
  leave(): void {
    for (const key of this.#keys) this.#multicast.leave(this.#session, key);
    this.#keys.clear();
  }
}
