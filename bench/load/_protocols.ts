/**
 * How the fan-out runner runs and reports each protocol: titles, what the
 * players play, and the time limits of a run.
 *
 * @module
 */

import type { Protocol } from "./_players/mod.ts";

/** How one protocol runs and reports. */
export interface ProtocolRun {
  title: string;
  /** What players play, for the conditions. */
  players: string;
  /** Players give up without a keyframe this long after connecting. */
  firstFrameTimeoutMs: number;
  /** After `stop`, how long the players may take to close (RTSP: TEARDOWNs, bounded by 5 + 5 s). */
  closeMs: number;
  /** How long the clients may take to stop and answer `final`. */
  finalMs: number;
  /** The hard limit of one run beyond warm-up, window and waves (without `--run-timeout`). */
  slackSeconds: number;
  /**
   * The probe player stays for the whole run: it keeps gst-rtsp-server's
   * shared media prepared (torn down when its last client leaves) and
   * measures what one player gets.
   */
  probeStays: boolean;
}

const RTSP_RUN = {
  firstFrameTimeoutMs: 20_000,
  closeMs: 12_000,
  finalMs: 20_000,
  slackSeconds: 80,
  probeStays: true,
} as const;

export const PROTOCOL_RUNS: Record<Protocol, ProtocolRun> = {
  rtmp: {
    title: "RTMP fan-out",
    players: "RTMP players of rtmp://127.0.0.1:PORT/live/bench",
    firstFrameTimeoutMs: 15_000,
    closeMs: 5_000,
    finalMs: 15_000,
    slackSeconds: 60,
    probeStays: false,
  },
  "rtsp-tcp": {
    ...RTSP_RUN,
    title: "RTSP fan-out over TCP (interleaved)",
    players:
      "RTSP players of rtsp://127.0.0.1:PORT/live/bench, RTP/AVP/TCP interleaved",
  },
  "rtsps-tcp": {
    ...RTSP_RUN,
    title: "RTSPS fan-out over TCP (TLS, RTP interleaved inside it)",
    players:
      "RTSPS players of rtsps://127.0.0.1:PORT/live/bench, RTP/AVP/TCP interleaved in TLS",
  },
  "rtsp-udp": {
    ...RTSP_RUN,
    title: "RTSP fan-out over UDP",
    players:
      "RTSP players of rtsp://127.0.0.1:PORT/live/bench, RTP/AVP over UDP",
  },
  "rtsp-srtp": {
    ...RTSP_RUN,
    title: "RTSP fan-out with SRTP over UDP",
    players:
      "RTSPS players of rtsps://127.0.0.1:PORT/live/bench, RTP/SAVP (AES_CM_128_HMAC_SHA1_80) over UDP",
  },
  rtmps: {
    title: "RTMPS fan-out (RTMP in TLS)",
    players: "RTMPS players of rtmps://127.0.0.1:PORT/live/bench",
    firstFrameTimeoutMs: 15_000,
    closeMs: 5_000,
    finalMs: 15_000,
    slackSeconds: 60,
    probeStays: false,
  },
  flv: {
    title: "HTTP-FLV fan-out",
    players:
      "HTTP-FLV players of http://127.0.0.1:PORT/live/bench.flv (HTTP/1.1, chunked)",
    firstFrameTimeoutMs: 15_000,
    closeMs: 5_000,
    finalMs: 15_000,
    slackSeconds: 60,
    probeStays: false,
  },
};
