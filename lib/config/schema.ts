/**
 * The one source of Sluice's configuration keys and their defaults.
 *
 * Keys are flat camelCase, protocol-prefixed (`rtmpAddress`), then `paths`;
 * names follow MediaMTX where one exists so habits carry over. Every key is
 * optional: with no file at all the server runs on the defaults. Durations
 * arrive as `"10s"`, `"500ms"`, `"2m"`, `"1h"` or milliseconds and leave as
 * milliseconds; sizes arrive as `"8MiB"`, `"512KiB"`, `"1MB"`, `"4096"` or
 * bytes and leave as bytes. Strings are accepted for every scalar because
 * environment variables and flags are strings.
 *
 * @module
 */
import * as v from "valibot";
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";
import { rtspPath } from "../rtsp/url.ts";
import { AUTH_LISTS, AUTH_SETTINGS } from "./auth_schema.ts";

/** The parts of an address such as `"127.0.0.1:1935"` or `":1935"`. */
export interface ListenAddress {
  /** `"0.0.0.0"` when the address gave none; IPv6 without brackets. */
  hostname: string;
  /** 0 asks the system for any free port. */
  port: number;
}

const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/;

/**
 * Splits `"host:port"`, `":port"` or `"[v6]:port"` into its parts; `":1935"`
 * listens on every interface (`"0.0.0.0"`).
 *
 * @throws {RangeError} when the address has no port or the port exceeds 65535
 */
export function parseAddress(address: string): ListenAddress {
  const m = ADDRESS.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 0xffff) {
    throw new RangeError(
      `Cannot parse address "${address}": expected host:port`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Milliseconds of `"10s"`, `"500ms"`, `"2m"`, `"1h"`, `"1m30s"`, a string of
 * digits or a number (already milliseconds); `undefined` when it is none.
 */
export function parseDuration(input: unknown): number | undefined {
  if (typeof input === "number") return wholeNonNegative(input);
  if (typeof input !== "string") return undefined;
  const text = input.trim();
  if (/^\d+$/.test(text)) return wholeNonNegative(Number(text));
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    ms += Number(amount) * DURATION_UNITS_MS[unit!]!;
  }
  return wholeNonNegative(Math.round(ms));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i;

/**
 * Bytes of `"8MiB"`, `"512KiB"`, `"1MB"`, `"4096"` or a number (already
 * bytes); units are KB/MB/GB (powers of 1000) and KiB/MiB/GiB (powers of
 * 1024), in any case; `undefined` when it is none.
 */
export function parseSize(input: unknown): number | undefined {
  if (typeof input === "number") return wholeNonNegative(input);
  if (typeof input !== "string") return undefined;
  const m = SIZE.exec(input.trim());
  if (m === null) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? "b").toLowerCase()]!;
  return wholeNonNegative(Math.round(Number(m[1]) * unit));
}

function wholeNonNegative(n: number): number | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** A value `parse` turned into the output, or an issue naming `expected`. */
function scalar<T>(expected: string, parse: (input: unknown) => T | undefined) {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const out = parse(dataset.value);
      if (out !== undefined) return out;
      addIssue({ message: expected, expected });
      return NEVER;
    }),
  );
}

/** `true`/`false`, also as the strings `true|false|yes|no|on|off|1|0`. */
function parseBool(input: unknown): boolean | undefined {
  if (typeof input === "boolean") return input;
  if (typeof input !== "string") return undefined;
  const text = input.trim().toLowerCase();
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
}

/** `true`/`false`; see {@link parseBool}. */
const Bool = scalar("expected true or false", parseBool);

/**
 * When a new publisher takes over a busy path: `"auto"` (the current one
 * has sent nothing for `overridePublisherIdle`, or the newcomer gave the
 * path's publish credentials), `true` (always) or `false` (never).
 */
const Override = scalar<boolean | "auto">(
  'expected "auto", true or false',
  (input) =>
    typeof input === "string" && input.trim().toLowerCase() === "auto"
      ? "auto"
      : parseBool(input),
);

/** Milliseconds; see {@link parseDuration}. */
const Duration = scalar(
  'expected a duration such as "10s", "500ms", "2m" or a number of milliseconds',
  parseDuration,
);

/** Bytes; see {@link parseSize}. */
const Size = scalar(
  'expected a size such as "8MiB", "512KiB", "1MB" or a number of bytes',
  parseSize,
);

/** `"host:port"` or `":port"`; a bare port number becomes `":port"`. */
const Address = scalar("expected host:port", (input) => {
  const text = typeof input === "number" && Number.isInteger(input)
    ? `:${input}`
    : input;
  if (typeof text !== "string") return undefined;
  try {
    parseAddress(text);
    return text;
  } catch {
    return undefined;
  }
});

/** `"a:1,b:2"`, `["a:1", "b:2"]` or `""` (none): a list of addresses. */
const AddressList = scalar<string[]>(
  "expected a list of host:port, or host:port separated by commas",
  (input) => {
    const items = Array.isArray(input)
      ? input
      : typeof input === "string"
      ? input.split(",").map((s) => s.trim()).filter((s) => s !== "")
      : undefined;
    if (items === undefined) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const text = typeof item === "number" ? `:${item}` : item;
      if (typeof text !== "string") return undefined;
      try {
        parseAddress(text);
      } catch {
        return undefined;
      }
      out.push(text);
    }
    return out;
  },
);

/** An IPv4 multicast range such as `"224.1.0.0/16"` (within 224.0.0.0/4). */
const MulticastRange = scalar(
  "expected an IPv4 multicast range such as 224.1.0.0/16",
  (input) =>
    typeof input === "string" && parseMulticastRange(input) !== undefined
      ? input.trim()
      : undefined,
);

/**
 * The first address (as a 32-bit number) and the size of an IPv4 multicast
 * range `"a.b.c.d/n"`; `undefined` when it is not one inside 224.0.0.0/4.
 */
export function parseMulticastRange(
  text: string,
): { base: number; size: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(
    text.trim(),
  );
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 4 || bits > 32) return undefined;
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) |
    octets[3]!) >>> 0;
  const size = 2 ** (32 - bits);
  const base = ip - (ip % size);
  if (base >>> 28 !== 0xe) return undefined; // not 224.0.0.0/4
  return { base, size };
}

/**
 * A recording path pattern: it names `%path` and every time field from
 * `%Y` to `%S` (so segments of one path never collide and the index can
 * read a segment's start from its name) and has no `..` segment.
 */
const RecordPath = scalar(
  "expected a pattern with %path, %Y, %m, %d, %H, %M and %S and no .. segment",
  (input) => {
    if (typeof input !== "string") return undefined;
    const text = input.trim();
    const fields = ["%path", "%Y", "%m", "%d", "%H", "%M", "%S"];
    if (!fields.every((f) => text.includes(f))) return undefined;
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\\]/.test(text)) return undefined;
    if (text.split("/").some((s) => s === "..")) return undefined;
    return text;
  },
);

/** `false`, `"part"` or a count of parts between fsyncs. */
const Fsync = scalar<false | "part" | number>(
  'expected false, "part" or a number of parts',
  (input) => {
    if (input === "part") return "part";
    const n = typeof input === "string" && /^\s*\d+\s*$/.test(input)
      ? Number(input)
      : input;
    if (typeof n === "number" && Number.isInteger(n) && n >= 1) {
      return n === 1 ? "part" : n;
    }
    return parseBool(input) === false || n === 0 ? false : undefined;
  },
);

/** An integer in `min..max`, also as a string of digits. */
function IntRange(min: number, max: number) {
  return scalar(`expected an integer from ${min} to ${max}`, (input) => {
    const n = typeof input === "string" && /^\s*-?\d+\s*$/.test(input)
      ? Number(input)
      : input;
    return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
      ? n
      : undefined;
  });
}

/** One of `options`. */
function OneOf<const T extends readonly string[]>(options: T) {
  const expected = `expected one of ${options.map((o) => `"${o}"`).join(", ")}`;
  return scalar<T[number]>(
    expected,
    (input) => options.find((o) => o === input),
  );
}

/**
 * An object whose unknown keys are errors, each named (valibot's
 * `strictObject` stops at the first one).
 */
function Strict<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    Mapping("expected a mapping of keys to values"),
    v.objectWithRest(entries, v.never("unknown key")),
    v.transform((value): v.InferOutput<v.ObjectSchema<E, undefined>> => value),
  );
}

/** A plain object (not an array), as YAML and JSON mappings parse to. */
function Mapping(expected: string) {
  return v.custom<Record<string, unknown>>(
    (input) =>
      typeof input === "object" && input !== null && !Array.isArray(input),
    expected,
  );
}

/** A key with its default and the one line `--help` shows for it. */
function setting<
  const S extends v.GenericSchema,
  const D extends v.InferInput<S>,
>(
  schema: S,
  defaultValue: D,
  description: string,
) {
  return v.optional(v.pipe(schema, v.description(description)), defaultValue);
}

/** `lowLatency`, `fmp4` or `mpegts`. */
const HlsVariant = OneOf(["lowLatency", "fmp4", "mpegts"] as const);

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

/** The top-level keys that are scalars (what env vars and flags may set). */
export const SETTINGS = {
  /** Least severe log level written. */
  logLevel: setting(
    OneOf(LOG_LEVELS),
    "info",
    "least severe log level written",
  ),
  /** `text` lines for people, or `json`: one object per line for log collectors. */
  logFormat: setting(
    OneOf(LOG_FORMATS),
    "text",
    "log lines as text, or json (one object per line)",
  ),
  /** Milliseconds a connection may send nothing before it is closed. */
  readTimeout: setting(
    Duration,
    "10s",
    "a connection that sends nothing this long is closed",
  ),
  /** Milliseconds a reader's writes may make no progress before it is dropped. */
  writeTimeout: setting(
    Duration,
    "10s",
    "a reader whose writes make no progress this long is dropped",
  ),
  /** Bytes a reader may have queued before it skips to the next keyframe. */
  writeQueueSize: setting(
    Size,
    "8MiB",
    "bytes queued per reader before it skips to the next keyframe",
  ),
  /**
   * Milliseconds media waits so that every reader's frames go out in one
   * write per tick; 0 writes as frames arrive. Replies and a new reader's
   * first frames never wait.
   */
  writeBatchInterval: setting(
    Duration,
    "100ms",
    "media for readers is written in batches this far apart (0: as it arrives)",
  ),
  /**
   * When a new publisher takes over a busy path: `"auto"` only when the
   * current one has sent nothing for {@link SETTINGS.overridePublisherIdle}
   * (its connection is half-open: an encoder reconnecting after a network
   * drop replaces it at once) or when the newcomer gave the path's publish
   * credentials; `true` always (anyone can cut a live stream); `false`
   * never (a half-open publisher blocks the path until `readTimeout`).
   */
  overridePublisher: setting(
    Override,
    "auto",
    "when a new publisher takes over a busy path: auto, true or false",
  ),
  /**
   * Milliseconds without a frame after which, with `overridePublisher:
   * auto`, a publisher counts as half-open and anyone may take over. At 2 s
   * a live encoder has missed some 50 video frames; brief TCP retransmission
   * stalls on a working link stay below it.
   */
  overridePublisherIdle: setting(
    Duration,
    "2s",
    "with overridePublisher auto, a publisher that sent nothing this long may be taken over",
  ),
  /** Milliseconds readers stay attached after the publisher goes. */
  publisherGracePeriod: setting(
    Duration,
    "5s",
    "readers stay attached this long after the publisher goes",
  ),
  /**
   * Milliseconds a play before publish waits before StreamNotFound (RTMP)
   * or 404 (RTSP, HTTP): long enough for a player started a moment before
   * its encoder, short enough that the answer comes well inside the 5 s
   * that common clients wait for one.
   */
  playWaitTimeout: setting(
    Duration,
    "3s",
    "a play before publish waits this long, then StreamNotFound",
  ),
  /** Keep the frames since the last keyframe for instant start. */
  gopCache: setting(
    Bool,
    true,
    "keep frames since the last keyframe for instant start",
  ),
  /** Serve RTMP. */
  rtmp: setting(Bool, true, "serve RTMP"),
  /** Address the RTMP server listens on; see {@link parseAddress}. */
  rtmpAddress: setting(
    Address,
    ":1935",
    "RTMP listen address (host:port or :port)",
  ),
  /** Chunk size Sluice sends with (Set Chunk Size), in bytes. */
  rtmpChunkSize: setting(
    IntRange(128, 65536),
    4096,
    "RTMP chunk size sent, in bytes",
  ),
  /** Bytes of the largest RTMP message accepted from a peer. */
  rtmpMaxMessageSize: setting(Size, "16MiB", "largest RTMP message accepted"),
  /** Bytes of the largest Set Chunk Size accepted from a peer. */
  rtmpMaxChunkSize: setting(
    Size,
    "16MiB",
    "largest RTMP chunk size a peer may set",
  ),
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
  /**
   * PEM file of the certificate (with its chain) every TLS listener serves:
   * RTSPS and RTMPS start when it and {@link SETTINGS.tlsKey} are set.
   */
  tlsCert: setting(
    v.string(),
    "",
    "PEM certificate file for RTSPS and RTMPS (they start when it is set)",
  ),
  /** PEM file of the private key of {@link SETTINGS.tlsCert}. */
  tlsKey: setting(v.string(), "", "PEM private key file of tlsCert"),
  /** Address of the RTSPS listener (RTSP in TLS, HTTPS tunnelling too). */
  rtspsAddress: setting(
    Address,
    ":8322",
    "RTSPS listen address, on when a certificate is set",
  ),
  /** A certificate for RTSPS alone; {@link SETTINGS.tlsCert} when empty. */
  rtspsCert: setting(v.string(), "", "PEM certificate file for RTSPS alone"),
  /** The key of {@link SETTINGS.rtspsCert}. */
  rtspsKey: setting(v.string(), "", "PEM private key file for RTSPS alone"),
  /** Address of the RTMPS listener (RTMP in TLS). */
  rtmpsAddress: setting(
    Address,
    ":1936",
    "RTMPS listen address, on when a certificate is set",
  ),
  /** A certificate for RTMPS alone; {@link SETTINGS.tlsCert} when empty. */
  rtmpsCert: setting(v.string(), "", "PEM certificate file for RTMPS alone"),
  /** The key of {@link SETTINGS.rtmpsCert}. */
  rtmpsKey: setting(v.string(), "", "PEM private key file for RTMPS alone"),
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
  /** Serve HTTP: HTTP-FLV at `/<path>.flv`. */
  http: setting(Bool, true, "serve HTTP (HTTP-FLV)"),
  /** Address the HTTP server listens on. */
  httpAddress: setting(
    Address,
    ":8080",
    "HTTP listen address (host:port or :port)",
  ),
  /**
   * Folder of media files served on demand under the `vod/` path prefix
   * (`rtsp://host:8554/vod/<file>`, `rtmp://host/vod/<file>`,
   * `http://host:8080/vod/<file>.flv`); empty: no VOD.
   */
  vodPath: setting(
    v.string(),
    "",
    "folder of media files served on demand under vod/ (empty: off)",
  ),
  /** RTMP tunnelled in HTTP (RTMPT: `/open`, `/send`, `/idle`, `/close`) on the HTTP port. */
  rtmpt: setting(Bool, true, "serve RTMPT (RTMP in HTTP) on the HTTP port"),
  /** Record every path (a path's own `record` wins). */
  record: setting(Bool, false, "record every path (paths may set their own)"),
  /** Container of recordings: fragmented MP4 (CMAF) or FLV. */
  recordFormat: setting(
    OneOf(["fmp4", "flv"] as const),
    "fmp4",
    "container of recordings: fmp4 or flv",
  ),
  /**
   * Where segments go: `%path` and the time fields `%Y %m %d %H %M %S %f`
   * (UTC; `%f` microseconds) are filled in, the extension is added. The
   * folders before the first field are the recordings root, which no
   * segment ever leaves.
   */
  recordPath: setting(
    RecordPath,
    "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f",
    "segment file pattern: %path and %Y %m %d %H %M %S %f (UTC)",
  ),
  /** Media written at once: one fragment (fMP4) or one write (FLV). */
  recordPartDuration: setting(
    Duration,
    "1s",
    "media written at once (one fMP4 fragment)",
  ),
  /** Length of a segment file; the cut waits for a keyframe. */
  recordSegmentDuration: setting(
    Duration,
    "1h",
    "length of a segment file, cut on a keyframe",
  ),
  /** Segments older than this are deleted; 0 keeps them. */
  recordDeleteAfter: setting(
    Duration,
    "24h",
    "delete segments older than this (0 keeps them)",
  ),
  /** `false`, `"part"` (fsync every part) or N (fsync every N parts). */
  recordFsync: setting(
    Fsync,
    false,
    'fsync recordings: false, "part" or every N parts',
  ),
  /** Serve recordings at `/playback/list` and `/playback/get` on the HTTP port. */
  playback: setting(
    Bool,
    true,
    "serve recordings at /playback/list and /playback/get",
  ),
  /** The REST API at `/api/v1` on the HTTP port; loopback clients only until users with the `api` permission exist. */
  api: setting(Bool, true, "serve the REST API at /api/v1 (loopback only)"),
  /** Prometheus metrics at `/metrics` on the HTTP port; loopback clients only until users with the `metrics` permission exist. */
  metrics: setting(
    Bool,
    true,
    "serve Prometheus metrics at /metrics (loopback only)",
  ),
  /** HLS and Low-Latency HLS at `/<path>/index.m3u8` on the HTTP port. */
  hls: setting(Bool, true, "serve HLS at /<path>/index.m3u8 on the HTTP port"),
  /** How HLS packages media: `lowLatency` (fMP4 with parts), `fmp4` or `mpegts`. */
  hlsVariant: setting(
    HlsVariant,
    "lowLatency",
    "HLS variant: lowLatency, fmp4 or mpegts",
  ),
  /** Milliseconds a segment lasts at least (the GOP when longer). */
  hlsSegmentDuration: setting(
    Duration,
    "1s",
    "HLS segment duration (or the GOP when longer)",
  ),
  /** Milliseconds of a Low-Latency HLS part. */
  hlsPartDuration: setting(Duration, "200ms", "Low-Latency HLS part duration"),
  /** Complete segments in the sliding window of each path. */
  hlsSegmentCount: setting(IntRange(1, 100), 7, "HLS segments kept per path"),
  /** Write HLS for every path with a publisher, requested or not. */
  hlsAlwaysRemux: setting(
    Bool,
    false,
    "write HLS for every published path, not only on request",
  ),
  /** Milliseconds a path's HLS muxer goes on after its last request. */
  hlsMuxerCloseAfter: setting(
    Duration,
    "60s",
    "stop a path's HLS muxer this long after its last request",
  ),
  ...AUTH_SETTINGS,
} as const;

/** The whole configuration file: {@link SETTINGS}, then `paths`. */
export const ConfigSchema = Strict({
  ...SETTINGS,
  ...AUTH_LISTS,
  /** Per-path settings by path name (`live/cam1`); an empty entry is allowed. */
  paths: v.optional(
    v.pipe(
      Mapping("expected a mapping of path names to settings"),
      v.record(
        v.string(),
        v.pipe(
          v.nullish(v.unknown()),
          v.transform((value) => value ?? {}),
          PathConfigSchema,
        ),
      ),
    ),
    {},
  ),
});

/** Every top-level key, in file order. */
export const CONFIG_KEYS: readonly string[] = Object.keys(
  ConfigSchema.pipe[1].entries,
);

/** A top-level scalar key (settable from env and flags). */
export type SettingKey = keyof typeof SETTINGS;

/**
 * The parsed configuration: durations in milliseconds, sizes in bytes,
 * addresses as given (split them with {@link parseAddress}).
 */
export type Config = v.InferOutput<typeof ConfigSchema>;

/** The parsed settings of one path. */
export type PathConfig = v.InferOutput<typeof PathConfigSchema>;

/** What a configuration file may hold before parsing. */
export type ConfigInput = v.InferInput<typeof ConfigSchema>;

/** The default of `key` as a user would write it (`"10s"`, `":1935"`). */
export function settingDefault(key: SettingKey): string {
  return String(SETTINGS[key].default);
}

/** The one-line description of `key`. */
export function settingDescription(key: SettingKey): string {
  return v.getDescription(SETTINGS[key].wrapped) ?? "";
}
