/**
 * A session description (RFC 8866) as {@link parseSdp} reads it and
 * {@link stringifySdp} writes it. Fields a camera left out of `o=` or `c=`
 * are empty strings; lines the model has no field for are kept in order in
 * `attributes` (`a=`) and `other` (`u=`, `e=`, `p=`, `z=`, `k=`, unknown
 * letters, and repeats of single lines), so nothing read is lost on the way
 * back out.
 *
 * @module
 */

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2); numbers kept as text (cameras write 64-bit and negative ones). */
export interface SdpOrigin {
  /** `-` when there is none. */
  username: string;
  /** Numeric as text. */
  sessionId: string;
  /** Numeric as text. */
  sessionVersion: string;
  /** `IN`. */
  netType: string;
  /** `IP4` or `IP6`. */
  addrType: string;
  /** Where the session was created. */
  address: string;
}

/** `c=<nettype> <addrtype> <connection-address>` (§5.7); `/ttl` and `/count` split off the address. */
export interface SdpConnection {
  /** `IN`. */
  netType: string;
  /** `IP4` or `IP6`. */
  addrType: string;
  /** Without `/ttl` and `/count`. */
  address: string;
  /** IP4 multicast TTL. */
  ttl?: number;
  /** How many consecutive multicast addresses. */
  count?: number;
}

/** `b=<bwtype>:<bandwidth>` (§5.8), kilobits per second for `AS`. */
export interface SdpBandwidth {
  /** `AS`, `CT`, `TIAS`, `RR`, `RS` … */
  type: string;
  /** In the unit of `type`. */
  value: number;
}

/** `t=<start-time> <stop-time>` (§5.9) and its `r=` lines (§5.10), as written. */
export interface SdpTiming {
  /** NTP seconds as text; `0` for unbounded. */
  start: string;
  /** NTP seconds as text; `0` for unbounded. */
  stop: string;
  /** The `r=` lines after this `t=`. */
  repeats: string[];
}

/** `a=<name>` or `a=<name>:<value>` (§5.13); `value` is `undefined` for a property attribute. */
export interface SdpAttribute {
  /** Before the first colon. */
  name: string;
  /** After the first colon. */
  value?: string;
}

/** A line kept as written: `type` is its letter. */
export interface SdpLine {
  /** The letter before `=`. */
  type: string;
  /** After `=`, trimmed. */
  value: string;
}

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (§6.6). */
export interface SdpRtpMap {
  /** As written (`H264`, `MPEG4-GENERIC`, `mpeg4-generic`, `opus`); compare without case. */
  encoding: string;
  /** Hertz: 90000 for video, the sample rate for most audio. */
  clockRate: number;
  /** Audio channels, when given. */
  channels?: number;
}

/** `a=fmtp:<format> <format specific parameters>` (§6.15). */
export interface SdpFmtp {
  /** `key=value` pairs split at `;`, keys as written (`SizeLength`, `sizelength`): look them up with `fmtpParam`. */
  params: Record<string, string>;
  /** The parameters as written; this is what {@link stringifySdp} writes. */
  raw: string;
}

/** `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (§6.7). */
export type SdpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** One `m=` section (§5.14) with what follows it. */
export interface SdpMedia {
  /** `video`, `audio`, `application` … */
  type: string;
  /** 0 in RTSP descriptions: SETUP negotiates ports. */
  port: number;
  /** The `/<number of ports>` of `m=`. */
  portCount?: number;
  /** `RTP/AVP`, `RTP/AVP/TCP`, `TCP/RTP/AVP`, `RTP/SAVPF` … */
  protocol: string;
  /** Payload types for RTP, as written. */
  formats: string[];
  /** `i=`. */
  information?: string;
  /** `c=` of this media, if any. */
  connection?: SdpConnection;
  /** `b=` lines of this media. */
  bandwidths: SdpBandwidth[];
  /** Payload type → `a=rtpmap`; static types (0 PCMU, 8 PCMA …) often have none. */
  rtpmap: Map<number, SdpRtpMap>;
  /** Payload type → `a=fmtp`; may name a type not in `formats` (a Hikvision NVR writes fmtp:97 for type 104). */
  fmtp: Map<number, SdpFmtp>;
  /** `a=control` (RFC 2326 §C.1.1): resolve it with `resolveControl`. */
  control?: string;
  /** `a=sendonly` and the like. */
  direction?: SdpDirection;
  /** `a=framerate` (§6.8). */
  framerate?: number;
  /** Other `a=` lines, in order. */
  attributes: SdpAttribute[];
  /** Other lines (`k=`, unknown letters, repeats), in order. */
  other: SdpLine[];
}

/** A whole session description. */
export interface Sdp {
  /** `v=`, always 0 so far. */
  version: number;
  /** `o=`; `- 0 0 IN IP4 0.0.0.0` when missing. */
  origin: SdpOrigin;
  /** `s=`; empty when a camera left it out or wrote `s= `. */
  sessionName: string;
  /** `i=` of the session. */
  information?: string;
  /** `c=` of the session. */
  connection?: SdpConnection;
  /** `b=` of the session. */
  bandwidths: SdpBandwidth[];
  /** At least one: `t=0 0` is supplied when a camera leaves `t=` out. */
  timing: SdpTiming[];
  /** `a=control` of the session: `*` or the aggregate URL. */
  control?: string;
  /** `a=range` as written (`npt=now-`, `npt=0-7.741`): read it with `parseRange`. */
  range?: string;
  /** `a=recvonly` and the like, for the whole session. */
  direction?: SdpDirection;
  /** Other session `a=` lines, in order. */
  attributes: SdpAttribute[];
  /** Other session lines, in order. */
  other: SdpLine[];
  /** The `m=` sections, in order. */
  media: SdpMedia[];
}
