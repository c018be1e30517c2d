/**
 * The readers of RTSP sessions: RTP to a client over TCP interleaved or
 * UDP, and what a session's PLAY side holds.
 *
 * @module
 */

import type { SessionInfo } from "../../events/events.ts";
import type { Packet } from "../../egress/packet.ts";
import { ReaderQueue } from "../../egress/reader_queue.ts";
import type { Stream } from "../../hub/stream.ts";
import type { DatagramWriter } from "../../net/datagram_writer.ts";
import type {
  BatchWriter,
  TickWriter,
  WriteBatcher,
} from "../../net/batch_writer.ts";
import { interleavedHeader } from "../../rtsp/interleaved.ts";
import {
  interleavedFor,
  type InterleavedRun,
  type RtpOutput,
  type RtpReader,
  type RtpStart,
} from "../../egress/rtp_output.ts";

/**
 * How UDP readers send from the server's RTP and RTCP ports: many
 * datagrams handed to the kernel per call (see {@link DatagramWriter}).
 */
export interface UdpSockets {
  rtp: Pick<DatagramWriter, "send" | "backlogged" | "whenReady">;
  rtcp: Pick<DatagramWriter, "send">;
}

/** What a session needs from the connection that owns it. */
export interface SessionOwner {
  /** The connection's write queue (TCP interleaved readers share it with replies). */
  readonly queue: ReaderQueue;
  readonly writer: BatchWriter;
}

/**
 * Interleaved headers by channel and length, shared by every reader: readers
 * in step then hold the very same parts at a write tick, and the batch is
 * joined once for all of them instead of copied per reader.
 */
const HEADERS = new Map<number, Uint8Array>();
/** Headers kept at most (RTP sizes times the channels in use stay far below). */
const MAX_HEADERS = 8192;

function sharedHeader(channel: number, length: number): Uint8Array {
  const key = (channel << 16) | length;
  let h = HEADERS.get(key);
  if (h === undefined) {
    if (HEADERS.size >= MAX_HEADERS) HEADERS.clear();
    h = interleavedHeader(channel, length);
    HEADERS.set(key, h);
  }
  return h;
}

/**
 * A PLAY reader joins its output while the PLAY is answered, so that the
 * output is never without readers (and dropped) before the reader arrives;
 * its packets wait until the answer is queued, since media must not go out
 * before it (ffmpeg drops media that comes first).
 */
abstract class HeldReader implements RtpReader {
  /** Set up RTP/SAVP: the output hands this reader SRTP and SRTCP. */
  srtp = false;
  /** The budget of the reader's queue (see {@link RtpReader.maxBytes}). */
  abstract readonly maxBytes: number;
  /**
   * What waits, as runs of three: track, packet, RTCP or not. A reader
   * joins with the whole GOP, some hundreds of packets; an array for each
   * was most of the garbage of a thousand players joining.
   */
  #held: (number | Packet | boolean)[] | undefined = [];

  offer(trackId: number, packet: Packet, rtcp: boolean): void {
    if (this.#held !== undefined) this.#held.push(trackId, packet, rtcp);
    else this.deliver(trackId, packet, rtcp);
  }

  /** Whether packets still wait for the PLAY answer. */
  protected get held(): boolean {
    return this.#held !== undefined;
  }

  /** Sends what was held and everything after it. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    for (let i = 0; i < held.length; i += 3) {
      this.deliver(
        held[i] as number,
        held[i + 1] as Packet,
        held[i + 2] as boolean,
      );
    }
  }

  protected abstract deliver(
    trackId: number,
    packet: Packet,
    rtcp: boolean,
  ): void;

  abstract onEnd(): void;
}

/** A PLAY reader over TCP: RTP behind its own interleaved header on the connection. */
export class TcpReader extends HeldReader {
  readonly maxBytes: number;
  readonly #owner: SessionOwner;
  readonly #channels: Map<number, { rtp: number; rtcp: number }>;
  readonly #onEnd: () => void;
  readonly #rtpChannel = (trackId: number): number | undefined =>
    this.#channels.get(trackId)?.rtp;

  constructor(
    owner: SessionOwner,
    channels: Map<number, { rtp: number; rtcp: number }>,
    onEnd: () => void,
  ) {
    super();
    this.#owner = owner;
    this.maxBytes = owner.queue.maxBytes;
    this.#channels = channels;
    this.#onEnd = onEnd;
  }

  protected deliver(trackId: number, packet: Packet, rtcp: boolean): void {
    const ch = this.#channels.get(trackId);
    if (ch === undefined) return;
    const channel = rtcp ? ch.rtcp : ch.rtp;
    const framed = interleavedFor(packet, channel);
    if (framed !== undefined) {
      this.#owner.queue.offer(packet, undefined, framed);
    } else {
      this.#owner.queue.offer(
        packet,
        sharedHeader(channel, packet.bytes.length),
      );
    }
  }

  /** The tick's packets as one part, when this reader's channels are the run's. */
  offerRun(run: InterleavedRun): boolean {
    if (this.held) return false;
    const bytes = run.bytesFor(this.#rtpChannel);
    return bytes !== undefined &&
      this.#owner.queue.offerRun(run.packets, bytes);
  }

  onEnd(): void {
    this.#onEnd();
  }

  /** Stops sending `trackId` (a TEARDOWN of that track alone). */
  removeTrack(trackId: number): void {
    this.#channels.delete(trackId);
  }
}

/**
 * A PLAY reader over UDP: each track's RTP to the client's ports, from the
 * server's. Its queues are written on the shared tick like every other
 * reader's, one datagram per packet.
 */
export class UdpReader extends HeldReader implements TickWriter {
  readonly maxBytes: number;
  readonly #sockets: UdpSockets;
  readonly #tracks: Map<
    number,
    { rtp: Deno.NetAddr; rtcp: Deno.NetAddr; queue: ReaderQueue }
  >;
  readonly #onEnd: () => void;
  readonly #batcher: WriteBatcher | undefined;
  readonly #now: () => number;
  #sending = false;
  #scheduled = false;
  #since = 0;
  #closed = false;

  constructor(
    sockets: UdpSockets,
    tracks: Map<
      number,
      { hostname: string; rtpPort: number; rtcpPort: number }
    >,
    options: {
      maxBytes: number;
      onEnd: () => void;
      batcher?: WriteBatcher;
      now?: () => number;
    },
  ) {
    super();
    this.maxBytes = options.maxBytes;
    this.#sockets = sockets;
    this.#onEnd = options.onEnd;
    this.#batcher = options.batcher;
    this.#now = options.now ?? Date.now;
    this.#tracks = new Map();
    for (const [id, t] of tracks) {
      this.#tracks.set(id, {
        rtp: { transport: "udp", hostname: t.hostname, port: t.rtpPort },
        rtcp: { transport: "udp", hostname: t.hostname, port: t.rtcpPort },
        queue: new ReaderQueue({
          maxBytes: options.maxBytes,
          onReady: (urgent) => this.#kick(urgent),
        }),
      });
    }
  }

  /** The queues of the tracks, for the slow-reader policy. */
  get queues(): ReaderQueue[] {
    return [...this.#tracks.values()].map((t) => t.queue);
  }

  protected deliver(trackId: number, packet: Packet, rtcp: boolean): void {
    const t = this.#tracks.get(trackId);
    if (t === undefined) return;
    if (rtcp) {
      this.#sockets.rtcp.send(packet.bytes, t.rtcp);
      return;
    }
    t.queue.offer(packet);
  }

  onEnd(): void {
    this.#onEnd();
  }

  /** Stops sending `trackId` (a TEARDOWN of that track alone). */
  removeTrack(trackId: number): void {
    this.#tracks.get(trackId)?.queue.close();
    this.#tracks.delete(trackId);
  }

  /** How long the current batch has been going out (0 when idle). */
  stalledMs(): number {
    return this.#sending ? this.#now() - this.#since : 0;
  }

  /** Urgent packets (the GOP after PLAY) go out this turn; media waits for the tick. */
  #kick(urgent: boolean): void {
    if (this.#sending || this.#closed) return;
    if (
      !urgent && this.#batcher !== undefined && this.#batcher.intervalMs > 0
    ) {
      this.#batcher.add(this);
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /**
   * Hands what is queued to the server's RTP writer, which sends it in a
   * few calls at the end of the turn. While the writer is backlogged (a
   * tick of a thousand readers is several times its high-water mark, or
   * the kernel's send buffer is full) packets wait in this reader's
   * queues, whose budget skips to the next keyframe, until the writer
   * calls back in this reader's turn.
   */
  flush(): void {
    if (this.#sending || this.#closed) return;
    const writer = this.#sockets.rtp;
    if (writer.backlogged) {
      this.#sending = true;
      this.#since = this.#now();
      writer.whenReady(() => {
        this.#sending = false;
        this.flush();
      });
      return;
    }
    for (const t of this.#tracks.values()) {
      const { parts, count } = t.queue.drain();
      for (let i = 0; i < count; i++) writer.send(parts[i]!, t.rtp);
    }
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#tracks.values()) t.queue.close();
  }
}

/**
 * A multicast session while it plays: not a reader of the output itself,
 * but a member of the senders of its tracks' groups.
 */
export interface GroupReader {
  /** The senders this session started may send (the PLAY answer is queued). */
  release(): void;
  /** A TEARDOWN of one track: the session leaves its sender. */
  removeTrack(trackId: number): void;
  /** The session stops playing: it leaves every sender. */
  leave(): void;
}

/** A PLAY session's link to its stream. */
export interface PlayLink {
  stream: Stream;
  /** Who reads, for the read events. */
  session?: SessionInfo;
  output: RtpOutput;
  /** A multicast session's reader is not the output's: it joined the tracks' senders. */
  reader: TcpReader | UdpReader | GroupReader;
  starts: RtpStart[];
}
