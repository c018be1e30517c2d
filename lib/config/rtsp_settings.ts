/**
 * The top-level keys of the RTSP server: its TCP and UDP addresses and
 * session timeout, then how RTP reaches readers besides plain UDP and TCP
 * (HTTP tunnelling, SRTP, multicast).
 *
 * @module
 */
import {
  Address,
  AddressList,
  Bool,
  Duration,
  IntRange,
  MulticastRange,
  OneOf,
  setting,
} from "./_scalars.ts";

/** The RTSP server: addresses and session timeout. */
export const RTSP_SETTINGS = {
  /** Serve RTSP. */
  rtsp: setting(Bool, true, "serve RTSP"),
  /** Address the RTSP server listens on (TCP). */
  rtspAddress: setting(
    Address,
    ":8554",
    "RTSP listen address (host:port or :port)",
  ),
  /** UDP address RTP goes out from and comes in to. */
  rtpAddress: setting(
    Address,
    ":8000",
    "RTP over UDP address (host:port or :port)",
  ),
  /** UDP address RTCP goes out from and comes in to. */
  rtcpAddress: setting(
    Address,
    ":8001",
    "RTCP over UDP address (host:port or :port)",
  ),
  /**
   * Milliseconds an RTSP session lives without a request or RTCP from its
   * client; announced as `Session: id;timeout=N` (a few seconds more are
   * allowed, since some clients keep alive exactly every N seconds).
   */
  rtspSessionTimeout: setting(
    Duration,
    "60s",
    "an RTSP session without requests or RTCP this long is ended",
  ),
} as const;

/** RTSP over HTTP tunnelling, SRTP and multicast. */
export const RTSP_TRANSPORT_SETTINGS = {
  /**
   * Extra plain TCP addresses that accept only RTSP over HTTP tunnelling (the
   * RTSP and RTSPS ports accept it always), such as `":8088"` or `":80"`.
   */
  rtspTunnelAddresses: setting(
    AddressList,
    [],
    "extra addresses for RTSP over HTTP tunnelling, separated by commas",
  ),
  /**
   * SRTP for RTSP: `"optional"` offers it to clients that set up
   * `RTP/SAVP`; `"required"` also refuses plain RTP on RTSPS.
   */
  srtp: setting(
    OneOf(["optional", "required"] as const),
    "optional",
    "SRTP on RTSP: optional (for RTP/SAVP clients) or required on RTSPS",
  ),
  /** Groups Sluice chooses multicast destinations from. */
  multicastIPRange: setting(
    MulticastRange,
    "224.1.0.0/16",
    "IPv4 range multicast groups are chosen from",
  ),
  /** The UDP port multicast RTP goes to (RTCP to the next one given). */
  multicastRTPPort: setting(
    IntRange(1, 65535),
    8002,
    "UDP port of multicast RTP",
  ),
  /** The UDP port multicast RTCP goes to. */
  multicastRTCPPort: setting(
    IntRange(1, 65535),
    8003,
    "UDP port of multicast RTCP",
  ),
  /**
   * Time to live of multicast RTP and RTCP: how many routers a packet may
   * cross (1 keeps it on the local network), as SETUP answers `ttl=`.
   */
  multicastTTL: setting(
    IntRange(1, 255),
    16,
    "time to live of multicast packets (routers they may cross)",
  ),
} as const;
