/**
 * RTMP URLs: `rtmp://host[:port]/app[/instance]/name[?query]` (and
 * `rtmps://`, RTMP in TLS), and the path an app and a stream name stand for.
 *
 * @module
 */

// The one reading of a stream path for every protocol; it imports nothing,
// so this stage still needs nothing of the hub's (LAYOUT.md).
import { parsePath } from "../path.ts";

/** Where an RTMP URL points: `rtmp[s]://host[:port]/app[/instance]/name[?query]`. */
export interface RtmpUrl {
  hostname: string;
  /** 1935 unless given; 443 for `rtmps://`, as ffmpeg and GStreamer assume. */
  port: number;
  /** `rtmps://`: the connection is a TLS session. */
  secure: boolean;
  app: string;
  /** The stream name (with its query, as servers expect it). */
  name: string;
  tcUrl: string;
}

/** The port of an `rtmps://` URL without one (ffmpeg's and GStreamer's default). */
export const RTMPS_DEFAULT_PORT = 443;
/** The port of an `rtmp://` URL without one. */
export const RTMP_DEFAULT_PORT = 1935;

/** Splits an RTMP URL: the first path segment is the app, the rest the stream name. */
export function parseRtmpUrl(url: string): RtmpUrl {
  const m =
    /^(rtmps?):\/\/([^/:?#]+|\[[^\]]+\])(?::(\d+))?\/([^/?#]+)\/?([^#]*)$/
      .exec(url);
  const port = m?.[3] === undefined ? undefined : Number(m[3]);
  if (m === null || (port !== undefined && (port < 1 || port > 0xffff))) {
    throw new TypeError(
      `Cannot parse RTMP URL "${url}": expected rtmp[s]://host[:port]/app/name`,
    );
  }
  const scheme = m[1]!;
  const secure = scheme === "rtmps";
  const app = m[4]!;
  return {
    hostname: m[2]!.replace(/^\[|\]$/g, ""),
    port: port ?? (secure ? RTMPS_DEFAULT_PORT : RTMP_DEFAULT_PORT),
    secure,
    app,
    name: m[5]!,
    tcUrl: `${scheme}://${m[2]}${m[3] ? `:${m[3]}` : ""}/${app}`,
  };
}

/**
 * The hub path of `app` + `name`: `live` + `cam1?token=x` is `live/cam1`.
 * The query is left out (credentials travel there); the rest is read by
 * {@link parsePath} as it came in the command, so `../x`, `%2e%2e` or a
 * backslash in either part is refused rather than resolved, and a name that
 * is percent-encoded names the same path as over RTSP and HTTP. An empty
 * name gives `undefined`.
 */
export function rtmpPath(app: string, name: string): string | undefined {
  const q = name.indexOf("?");
  const bare = q === -1 ? name : name.slice(0, q);
  const appBare = app.split("?")[0]!;
  if (bare.replaceAll("/", "") === "") return undefined;
  return parsePath(`${appBare}/${bare}`);
}
