/**
 * HTTP-FLV of the VOD folder (`/vod/<file>.flv[?start=<seconds>]`): opens
 * the reader's own player of the file, which the HTTP server hangs an
 * {@link FlvPlayer} on like on a live stream, then starts it.
 *
 * @module
 */

import type { Logger } from "../../log.ts";
import { VOD_PREFIX, VodError } from "../../vod/folder.ts";
import type { Vod, VodStream } from "../../vod/vod.ts";
import type { FlvPlayer } from "./flv_player.ts";

/** A file opened for one HTTP-FLV reader, and where it starts. */
export interface VodFlv {
  vod: VodStream;
  /** Seconds from the file's start. */
  start: number;
}

/**
 * Opens `path` (under `vod/`) for one reader, or answers why not: 400 for
 * a bad `start`, 404 for a name outside the folder or missing, 415 for a
 * file that is not media.
 */
export async function openVodFlv(
  folder: Vod,
  path: string,
  url: URL,
  log: Logger,
): Promise<VodFlv | Response> {
  const start = Number(url.searchParams.get("start") ?? "0");
  if (!Number.isFinite(start) || start < 0) {
    return plain(400, "Bad Request: start is seconds from the file's start");
  }
  try {
    return { vod: await folder.open(path.slice(VOD_PREFIX.length)), start };
  } catch (e) {
    if (!(e instanceof VodError)) throw e;
    log.info("HTTP-FLV VOD refused", { path, reason: e.message });
    return e.code === "not-media"
      ? plain(415, `Unsupported Media Type: ${e.message}`)
      : plain(404, `Not Found: ${e.message}`);
  }
}

/** Starts the file once `player` reads its stream; a read error ends it. */
export function startVodFlv(
  v: VodFlv,
  player: Pick<FlvPlayer, "end">,
  path: string,
  log: Logger,
): void {
  v.vod.player.play(v.start).catch((e) => {
    log.info("VOD read failed", { path, reason: String(e) });
    player.end("file cannot be read");
  });
}

function plain(status: number, body: string): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}
