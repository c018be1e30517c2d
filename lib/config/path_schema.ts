/**
 * The keys of one path's settings (`paths: { live/cam1: { … } }`): sources,
 * credentials, relays, recording and HLS per path.
 *
 * @module
 */
import * as v from "valibot";
import { rtspPath } from "../rtsp/url.ts";
import { Bool, Duration, HlsVariant, Override, Strict } from "./_scalars.ts";

/** The keys of one path's settings; unset keys inherit the top-level value. */
export const PATH_SETTINGS = {
  /** When a new publisher takes over this path while it is busy: `"auto"`, `true` or `false`. */
  overridePublisher: v.optional(
    v.pipe(
      Override,
      v.description("when a new publisher takes over this busy path"),
    ),
  ),
  /** User name readers of this path must give (RTSP Basic/Digest, RTMP `?user=`). */
  readUser: v.optional(
    v.pipe(v.string(), v.description("user name readers must give")),
  ),
  /** Password readers of this path must give. */
  readPass: v.optional(
    v.pipe(v.string(), v.description("password readers must give")),
  ),
  /** User name publishers of this path must give. */
  publishUser: v.optional(
    v.pipe(v.string(), v.description("user name publishers must give")),
  ),
  /**
   * Where the path's stream comes from instead of a publisher:
   * `rtsp[s]://[user:pass@]host/…`, `rtsph://…` / `rtspsh://…` (RTSP
   * tunnelled in HTTP / HTTPS) or `rtmp[s]://host/app/name`.
   */
  source: v.optional(v.pipe(
    v.string(),
    v.regex(
      /^(rtsps?h?|rtmps?):\/\/[^\s]+$/,
      "expected an rtsp://, rtsps://, rtsph://, rtspsh://, rtmp:// or rtmps:// URL",
    ),
    v.description(
      "pull the stream from this rtsp://, rtsps://, rtsph://, rtspsh://, rtmp:// or rtmps:// URL",
    ),
  )),
  /**
   * PEM file of certificates trusted, besides the system's roots, for the
   * TLS of this path's `rtsps://`, `rtspsh://` and `rtmps://` source and
   * push URLs: a private CA, or the other server's self-signed certificate
   * itself.
   */
  tlsCA: v.optional(v.pipe(
    v.string(),
    v.description(
      "PEM file of CAs or self-signed certificates trusted for rtsps://, rtspsh:// and rtmps:// relays",
    ),
  )),
  /** Pull only while someone reads the path. */
  sourceOnDemand: v.optional(
    v.pipe(Bool, v.description("pull only while the path has readers")),
  ),
  /** Milliseconds an on-demand pull goes on after the last reader left. */
  sourceOnDemandCloseAfter: v.optional(
    v.pipe(
      Duration,
      v.description(
        "stop an on-demand pull this long after the last reader left",
      ),
    ),
  ),
  /**
   * How an RTSP source sends RTP: UDP, TCP, UDP falling back to TCP, or
   * multicast (the source's group, joined here).
   */
  rtspTransport: v.optional(v.pipe(
    v.picklist(["automatic", "udp", "tcp", "multicast"]),
    v.description("automatic, udp, tcp or multicast for an rtsp:// source"),
  )),
  /** Servers this path is republished to while it has a publisher. */
  push: v.optional(v.pipe(
    v.array(
      v.pipe(
        v.string(),
        v.regex(
          /^(rtsps?|rtmps?):\/\/[^\s]+$/,
          "expected an rtsp://, rtsps://, rtmp:// or rtmps:// URL",
        ),
      ),
    ),
    v.description(
      "republish to these rtsp://, rtsps://, rtmp:// or rtmps:// URLs",
    ),
  )),
  /**
   * `rtsp://[user:pass@]host[:port][/name]`: while this path has a
   * publisher, Sluice connects to that server, REGISTERs the path there
   * (as `name`, else under its own name) with the credentials given, and
   * serves it over that same connection: the way a Sluice behind NAT
   * offers a stream to a central one.
   */
  register: v.optional(v.pipe(
    v.string(),
    v.check(
      isRegisterUrl,
      "expected rtsp://[user:pass@]host[:port][/name] with a valid name",
    ),
    v.description(
      "REGISTER this path at that rtsp:// server, over our own connection",
    ),
  )),
  /** Password publishers of this path must give. */
  publishPass: v.optional(
    v.pipe(v.string(), v.description("password publishers must give")),
  ),
  /** Record this path (overrides the top-level `record`). */
  record: v.optional(
    v.pipe(Bool, v.description("record this path to recordPath")),
  ),
  /** How HLS packages this path: `lowLatency`, `fmp4` or `mpegts`. */
  hlsVariant: v.optional(
    v.pipe(HlsVariant, v.description("HLS variant of this path")),
  ),
} as const;

/** Whether `text` is an `rtsp://` URL with a host whose path, if any, is a valid stream path. */
function isRegisterUrl(text: string): boolean {
  if (!/^rtsp:\/\/[^\s]+$/i.test(text)) return false;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return false;
  }
  // The path as written: URL would resolve `..` before it could be refused.
  return u.hostname !== "" && rtspPath(text) !== undefined;
}

/** Settings of one path. */
export const PathConfigSchema = Strict(PATH_SETTINGS);

/** The parsed settings of one path. */
export type PathConfig = v.InferOutput<typeof PathConfigSchema>;
