/**
 * What an RTSP client is told and what DESCRIBE tells it: its options, the
 * transport choice and the description PLAY starts from.
 *
 * @module
 */

import type { SdpTrack } from "../../format/tracks.ts";
import type { StreamConn } from "../../net/tcp.ts";
import type { Sdp } from "../../sdp/types.ts";
import type { RtspSrtpChoice } from "./srtp.ts";

/**
 * How RTP travels. `automatic` tries UDP and falls back to TCP; `multicast`
 * joins the groups the server chooses.
 */
export type RtspTransportChoice = "udp" | "tcp" | "automatic" | "multicast";

/** Options of {@link RtspClient}. */
export interface RtspClientOptions {
  /** @default {"automatic"}: UDP falling back to TCP; TCP for `rtsps://` */
  transport?: RtspTransportChoice;
  /** Every request (and TCP connect) must be answered within this. @default {10000} */
  timeoutMs?: number;
  /** With `automatic`: no RTP over UDP within this after PLAY means TCP. @default {3000} */
  udpTimeoutMs?: number;
  /** Redirects followed before giving up. @default {5} */
  maxRedirects?: number;
  /** Largest reply body (the SDP) accepted. @default {1048576} */
  maxBodySize?: number;
  /** Bytes the client queues toward the server while pushing. @default {8388608} */
  writeQueueSize?: number;
  /**
   * SRTP (RTP/SAVP): `automatic` pulls with it when the server's SDP gives
   * a key (`a=key-mgmt:mikey`, as RTSPS servers do) and pushes with it to
   * `rtsps://` and `rtspsh://`; `always` requires it; `never` sets up RTP/AVP. Multicast
   * pulls are plain RTP/AVP. @default {"automatic"}
   */
  srtp?: RtspSrtpChoice;
  /** `rtsps://`, `rtspsh://`: PEM certificates trusted besides the system's roots (a private CA, a self-signed server). */
  caCerts?: string[];
  /** A connection already open to the server, used instead of connecting (a reused REGISTER connection). */
  conn?: StreamConn;
}

/** What DESCRIBE told. */
export interface RtspDescription {
  sdp: Sdp;
  /** Base URL for control attributes (Content-Base, Content-Location or the request URL). */
  base: string;
  /** Tracks Sluice can read, by media index. */
  tracks: (SdpTrack | undefined)[];
}

/** Options of {@link RtspClient.play}. */
export interface RtspPlayOptions {
  /** Called when the session ends for any reason after PLAY. */
  onEnd?: (error: Error | undefined) => void;
}
