/**
 * RTMP URLs: `rtmp://host[:port]/app[/instance]/name[?query]`, and the path
 * an app and a stream name stand for.
 *
 * @module
 */

// The one reading of a stream path for every protocol; it imports nothing,
// so this stage still needs nothing of the hub's (LAYOUT.md).
import { parsePath } from "../path.ts";

/** Where an RTMP URL points: `rtmp://host[:port]/app[/instance]/name[?query]`. */
export interface RtmpUrl {
  hostname: string;
  port: number;
  app: string;
  /** The stream name (with its query, as servers expect it). */
  name: string;
  tcUrl: string;
}

/** Splits an RTMP URL: the first path segment is the app, the rest the stream name. */
export function parseRtmpUrl(url: string): RtmpUrl {
  const m = /^rtmp:\/\/([^/:?#]+|\[[^\]]+\])(?::(\d+))?\/([^/?#]+)\/?([^#]*)$/
    .exec(url);
  if (m === null) {
    throw new TypeError(
      `Cannot parse RTMP URL "${url}": expected rtmp://host[:port]/app/name`,
    );
  }
  const hostname = m[1]!.replace(/^\[|\]$/g, "");
  const port = m[2] === undefined ? 1935 : Number(m[2]);
  const app = m[3]!;
  return {
    hostname,
    port,
    app,
    name: m[4]!,
    tcUrl: `rtmp://${m[1]}${m[2] ? `:${m[2]}` : ""}/${app}`,
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
