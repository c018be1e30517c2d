/**
 * The benchmark players, one module per protocol behind one interface
 * ({@link Player}): what the load client process and the runner's probe
 * play.
 *
 * @module
 */

import { FlvPlayer } from "./flv.ts";
import type {
  Player,
  PlayerOptions,
  PlayerTarget,
  Protocol,
} from "./player.ts";
import { RtmpPlayer } from "./rtmp.ts";
import { RtspPlayer } from "./rtsp.ts";

export {
  isTls,
  type Player,
  type PlayerOptions,
  type PlayerResult,
  type PlayerTarget,
  type Protocol,
  PROTOCOLS,
} from "./player.ts";

/** A player of `target` over `protocol`. */
export function createPlayer(
  protocol: Protocol,
  target: PlayerTarget,
  options: PlayerOptions = {},
): Player {
  switch (protocol) {
    case "rtmp":
      return new RtmpPlayer(target, options);
    case "rtmps":
      return new RtmpPlayer(target, options, true);
    case "rtsp-tcp":
      return new RtspPlayer(target, "tcp", options);
    case "rtsps-tcp":
      return new RtspPlayer(target, "tcp", options, true);
    case "rtsp-udp":
      return new RtspPlayer(target, "udp", options);
    case "rtsp-srtp":
      return new RtspPlayer(target, "udp", { ...options, srtp: true }, true);
    case "flv":
      return new FlvPlayer(target, options);
  }
}
