/**
 * The RTSP client's media: the tracks it set up (a UDP pair or two
 * interleaved channels each), RTP and RTCP from the server into the RTP
 * input, receiver reports, and RTP or RTCP toward the server while
 * recording. Which requests set them up is the client's business.
 *
 * @module
 */

import { type Packet, PACKET_KIND } from "../../egress/packet.ts";
import type { SdpTrack } from "../../format/tracks.ts";
import type { Publisher } from "../../hub/hub.ts";
import { RtpInput } from "../../ingest/rtp_input.ts";
import { receiveDatagrams } from "../../net/udp.ts";
import { decodeRtcp } from "../../rtp/rtcp.ts";
import { interleavedHeader } from "../../rtsp/interleaved.ts";
import type { SrtpContext } from "../../srtp/context.ts";
import type { RtspConnection } from "./connection.ts";
import { RtspClientError } from "./error.ts";
import {
  closePair,
  countRtp,
  receiverReport,
  type SetupTrack,
  setupTrack,
  udpDestination,
} from "./setup.ts";
import type { PullSrtp } from "./srtp.ts";

/** Options of {@link RtspClientMedia}. */
export interface RtspClientMediaOptions {
  /** Whether SETUP for play asks for multicast. */
  multicast: boolean;
  /** The server sent RTCP BYE while playing: the source is gone. */
  onBye(error: Error): void;
}

/** The tracks of one RTSP client session and the RTP and RTCP on them. */
export class RtspClientMedia {
  readonly #connection: RtspConnection;
  readonly #o: RtspClientMediaOptions;
  readonly #tracks = new Map<number, SetupTrack>();
  readonly #channels = new Map<number, { trackId: number; rtcp: boolean }>();
  /** Pulled SRTP tracks: their RTP in, our receiver reports out. */
  readonly #srtp = new Map<number, PullSrtp>();
  readonly #ourSsrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
  #input: RtpInput | undefined;
  #closed = false;
  /** When RTP last arrived, `Date.now()` milliseconds. */
  lastRtpMs = 0;

  constructor(connection: RtspConnection, options: RtspClientMediaOptions) {
    this.#connection = connection;
    this.#o = options;
  }

  /** Pulls `trackId` with SRTP (its key from the server's SDP). */
  pullSrtp(trackId: number, srtp: PullSrtp): void {
    this.#srtp.set(trackId, srtp);
  }

  /** The ids of the tracks set up. */
  get trackIds(): Set<number> {
    return new Set(this.#tracks.keys());
  }

  /** Whether RTP goes to a publisher (after PLAY). */
  get playing(): boolean {
    return this.#input !== undefined;
  }

  /**
   * SETUP of one track, over UDP when `udp`; a 461 to UDP falls back to
   * TCP when `fallback`. Returns whether the track went over UDP.
   */
  async setup(
    url: string,
    trackId: number,
    udp: boolean,
    mode: "play" | "record",
    fallback: boolean,
    srtp = this.#srtp.has(trackId),
  ): Promise<boolean> {
    const channel = this.#tracks.size * 2;
    let track: SetupTrack;
    try {
      track = await setupTrack(this.#connection, url, {
        trackId,
        udp,
        mode,
        channel,
        srtp,
        multicast: this.#o.multicast && mode === "play",
      });
    } catch (e) {
      if (
        !udp || !fallback || !(e instanceof RtspClientError) ||
        e.status !== 461
      ) throw e;
      udp = false;
      track = await setupTrack(this.#connection, url, {
        trackId,
        udp,
        mode,
        channel,
        srtp,
      });
    }
    this.#tracks.set(trackId, track);
    if (track.udp !== undefined) {
      this.#udpLoop(track, track.udp.rtp, false);
      this.#udpLoop(track, track.udp.rtcp, true);
    } else if (track.channels !== undefined) {
      this.#channels.set(track.channels.rtp, { trackId, rtcp: false });
      this.#channels.set(track.channels.rtcp, { trackId, rtcp: true });
    }
    return udp;
  }

  /** From now on the RTP of the set-up tracks among `tracks` goes to `publisher`. */
  play(
    publisher: Pick<Publisher, "setTrack" | "setTracks" | "writeFrame">,
    tracks: { t: SdpTrack; i: number }[],
    udp: boolean,
  ): void {
    const inputs = new Map<
      number,
      { sdp: SdpTrack; udp: boolean; srtp?: SrtpContext }
    >();
    for (const { t, i } of tracks) {
      if (!this.#tracks.has(i)) continue;
      inputs.set(i, { sdp: t, udp, srtp: this.#srtp.get(i)?.input });
    }
    this.#input = new RtpInput(publisher, inputs);
  }

  /** An interleaved frame from the connection: RTP or RTCP of a track, by channel. */
  interleaved(channel: number, payload: Uint8Array): void {
    const route = this.#channels.get(channel);
    if (route !== undefined) this.#rtpIn(route.trackId, payload, route.rtcp);
  }

  /** RTP packets received on every track. */
  packets(): number {
    let n = 0;
    for (const t of this.#tracks.values()) n += t.packets;
    return n;
  }

  /** A receiver report for every track that received RTP (SRTCP for SRTP tracks). */
  receiverReports(): void {
    for (const t of this.#tracks.values()) {
      const report = receiverReport(t, this.#ourSsrc);
      if (report === undefined) continue;
      const srtp = this.#srtp.get(t.trackId);
      const bytes = srtp === undefined
        ? report
        : srtp.reports.protectRtcp(report);
      this.send(t.trackId, { bytes, kind: PACKET_KIND.CONTROL }, true);
    }
  }

  /** RTP or RTCP of a set-up track to the server: interleaved on the connection, or UDP. */
  send(trackId: number, packet: Packet, rtcp: boolean): void {
    const t = this.#tracks.get(trackId);
    if (t === undefined || this.#closed) return;
    if (t.udp !== undefined) {
      const to = udpDestination(t, this.#connection.hostname, rtcp);
      if (to === undefined) return;
      (rtcp ? t.udp.rtcp : t.udp.rtp).send(packet.bytes, to).catch(() => {});
      return;
    }
    const ch = t.channels;
    if (ch === undefined) return;
    this.#connection.offer(
      packet,
      interleavedHeader(rtcp ? ch.rtcp : ch.rtp, packet.bytes.length),
    );
  }

  /** Stops sending and closes the UDP sockets. */
  close(): void {
    this.#closed = true;
    for (const t of this.#tracks.values()) closePair(t.udp);
  }

  #udpLoop(
    track: SetupTrack,
    socket: Deno.DatagramConn,
    rtcp: boolean,
  ): Promise<void> {
    const server = this.#connection.hostname;
    return receiveDatagrams(socket, (data, from) => {
      // Media only from the server's address (another host cannot inject packets).
      if (
        from.hostname !== server &&
        !(server === "localhost" && from.hostname === "127.0.0.1")
      ) return;
      this.#rtpIn(track.trackId, data, rtcp);
    });
  }

  #rtpIn(trackId: number, data: Uint8Array, rtcp: boolean): void {
    const input = this.#input;
    if (input === undefined) return;
    if (rtcp) {
      // A BYE means the source is gone (RFC 3550 §6.6): end now, not after the silence timeout.
      if (isBye(data)) {
        return this.#o.onBye(
          new RtspClientError("PLAY", "the server sent RTCP BYE"),
        );
      }
      return input.rtcp(trackId, data);
    }
    const t = this.#tracks.get(trackId);
    // The header of SRTP is RTP's: counted as it comes, checked by the input.
    if (t !== undefined) countRtp(t, data);
    this.lastRtpMs = Date.now();
    input.rtp(trackId, data.slice());
  }
}

/** Whether a compound RTCP packet holds a BYE. */
function isBye(data: Uint8Array): boolean {
  try {
    return decodeRtcp(data).some((p) => p.kind === "bye");
  } catch {
    return false;
  }
}
