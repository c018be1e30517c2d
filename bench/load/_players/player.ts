/**
 * What every benchmark player is, whatever its protocol: the {@link Player}
 * interface the load client drives, what a player measures, and the pieces
 * the protocol modules share (the read tick of counting players, the first
 * frame deadline, the FLV keyframe test of the RTMP and HTTP-FLV players).
 *
 * A player parses the stream only until its first keyframe (the time to
 * first frame); from then on it only counts bytes. Counting players read
 * into one shared buffer, and a read that did not fill it waits for a
 * shared tick before the next one, so a player costs at most one read per
 * tick however the server batches its writes (the kernel buffers what
 * arrives meanwhile; the server sees no backpressure, since a tick holds far
 * less than a socket buffer).
 *
 * @module
 */

import {
  AVC_PACKET_TYPE,
  FLV_FRAME_TYPE,
  FLV_VIDEO_CODEC_ID,
} from "../../../lib/flv/tag.ts";

/**
 * The protocols the fan-out runner plays (`rtmps`, `rtsps-tcp`: the same in
 * TLS; `rtsp-srtp`: RTSPS, then RTP/SAVP over UDP).
 */
export const PROTOCOLS = [
  "rtmp",
  "rtmps",
  "rtsp-tcp",
  "rtsps-tcp",
  "rtsp-udp",
  "rtsp-srtp",
  "flv",
] as const;
/** One of {@link PROTOCOLS}. */
export type Protocol = typeof PROTOCOLS[number];

/** Where and what to play. */
export interface PlayerTarget {
  hostname: string;
  port: number;
  /** The stream's path without leading slash: `live/bench`. */
  path: string;
}

/** Options of every player; a protocol ignores what it has no use for. */
export interface PlayerOptions {
  /** Give up when no keyframe arrived this long after connecting. @default {15000} */
  firstFrameTimeoutMs?: number;
  /** Ms between reads of a counting player whose last read did not fill the buffer; 0 reads at once. @default {50} */
  readTickMs?: number;
  /** RTSP: longest wait for one reply. @default {10000} */
  stepTimeoutMs?: number;
  /** RTSP: GET_PARAMETER this often while playing; 0 never. @default {20000} */
  keepAliveMs?: number;
  /** TLS (RTMPS, RTSPS): PEM certificates trusted, the server's self-signed one. */
  caCerts?: string[];
  /** RTSP over UDP: set up RTP/SAVP with the DESCRIBE's keys (SRTP). @default {false} */
  srtp?: boolean;
}

/** Whether `protocol` runs in TLS. */
export function isTls(protocol: Protocol): boolean {
  return protocol === "rtmps" || protocol === "rtsps-tcp" ||
    protocol === "rtsp-srtp";
}

/**
 * Connects to `target`, in TLS when `caCerts` is given (the handshake done
 * before it resolves); plain TCP sockets get TCP_NODELAY here (TLS sockets
 * cannot: Deno.TlsConn has no setNoDelay).
 */
export async function connectPlayer(
  target: PlayerTarget,
  caCerts: string[] | undefined,
): Promise<Deno.Conn> {
  const { hostname, port } = target;
  if (caCerts !== undefined) {
    const conn = await Deno.connectTls({ hostname, port, caCerts });
    try {
      await conn.handshake();
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  return conn;
}

/** What one player measured; times in ms, `undefined` until they happen. */
export interface PlayerResult {
  /** From the start of TCP connect to the first video frame (RTSP: the first video RTP packet). */
  ttffConnectMs: number | undefined;
  /** From asking to play (RTMP `play`, RTSP PLAY, HTTP GET) to the first video frame. */
  ttffPlayMs: number | undefined;
  /** From asking to play to the first keyframe (RTMP and HTTP-FLV: the first frame is one). */
  keyframePlayMs: number | undefined;
  /** Bytes counted so far. */
  bytes: number;
  /** Why it stopped early, if it did. */
  error: string | undefined;
}

/** One player; the load client only needs this. */
export interface Player {
  readonly result: PlayerResult;
  /** Whether the first keyframe arrived. */
  readonly playing: boolean;
  /** Plays until {@link Player.stop} or an error, calling `onKeyframe` once it plays; never rejects. */
  run(onKeyframe?: () => void): Promise<PlayerResult>;
  /** Ends the session (RTSP: TEARDOWN, bounded) and closes; `run` resolves soon after. */
  stop(): Promise<void>;
}

/** A fresh {@link PlayerResult}. */
export function emptyResult(): PlayerResult {
  return {
    ttffConnectMs: undefined,
    ttffPlayMs: undefined,
    keyframePlayMs: undefined,
    bytes: 0,
    error: undefined,
  };
}

/** Read size while a player still parses. */
export const SETUP_READ_SIZE = 16 * 1024;
/** The buffer every counting player reads into (contents are never looked at). */
const SHARED = new Uint8Array(256 * 1024);

// One shared tick for all counting players: a promise that resolves every readTickMs.
let tickPromise: Promise<void> = Promise.resolve();
let tickResolve: (() => void) | undefined;
let tickTimer: ReturnType<typeof setInterval> | undefined;
let tickUsers = 0;

function startTick(ms: number): void {
  tickUsers++;
  if (tickTimer !== undefined || ms <= 0) return;
  tickPromise = new Promise((r) => tickResolve = r);
  tickTimer = setInterval(() => {
    const r = tickResolve;
    tickPromise = new Promise((res) => tickResolve = res);
    r?.();
  }, ms);
}

function stopTick(): void {
  tickUsers--;
  if (tickUsers > 0 || tickTimer === undefined) return;
  clearInterval(tickTimer);
  tickTimer = undefined;
  tickResolve?.();
}

/**
 * The most a TLS read gives: Deno hands over one record's plaintext per
 * read (16 KiB, RFC 8446 §5.1), however much is buffered.
 */
export const TLS_READ_SIZE = 16 * 1024;

/**
 * Reads `conn` into the shared buffer, calling `onRead` with each read's
 * size, until `onRead` returns false or the server closes (then returns
 * true). A read shorter than `fullRead` (the buffer, or for TLS
 * {@link TLS_READ_SIZE}) drained what was there, and the next one waits for
 * the shared tick of `tickMs` (0: no tick).
 */
export async function countReads(
  conn: Deno.Conn,
  tickMs: number,
  onRead: (n: number) => boolean | Promise<boolean>,
  fullRead: number = SHARED.length,
): Promise<boolean> {
  startTick(tickMs);
  try {
    for (;;) {
      const n = await conn.read(SHARED);
      if (n === null) return true;
      if (!await onRead(n)) return false;
      if (n < fullRead && tickMs > 0) await tickPromise;
    }
  } finally {
    stopTick();
  }
}

/** Calls `fail` when `player` does not play `ms` from now; clear the timer when it ends. */
export function keyframeDeadline(
  ms: number,
  player: { readonly playing: boolean },
  fail: (error: string) => void,
): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    if (!player.playing) fail(`no keyframe within ${ms} ms`);
  }, ms);
}

/** `e` as a player's error: `Name: message`. */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Whether an FLV VIDEODATA body (an RTMP video message, an FLV video tag)
 * is a keyframe with a picture: FrameType 1 (FLV v10.1 §E.4.3.1), and for
 * AVC not the sequence header (AVCPacketType 0).
 */
export function isFlvKeyframe(body: Uint8Array): boolean {
  if (body.length < 2 || body[0]! >> 4 !== FLV_FRAME_TYPE.KEY) return false;
  return (body[0]! & 0x0f) !== FLV_VIDEO_CODEC_ID.AVC ||
    body[1] === AVC_PACKET_TYPE.NALU;
}
