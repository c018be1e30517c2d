/**
 * The HTTP-FLV players of the HTTP port: `GET /<path>.flv` of a live stream
 * or of a file in the VOD folder, each player counted, listed for the API
 * and ended on request. The listener and the other routes are
 * `server.ts`'s.
 *
 * @module
 */

import { type Hub, HubError } from "../../hub/hub.ts";
import type { Stream } from "../../hub/stream.ts";
import type { Logger } from "../../log.ts";
import type { WriteBatcher } from "../../net/batch_writer.ts";
import { endsWithConnection } from "../../net/http1/respond.ts";
import { parsePath } from "../../path.ts";
import { isVodPath } from "../../vod/folder.ts";
import type { Vod } from "../../vod/vod.ts";
import type { ServerConfig } from "../_config.ts";
import {
  ClosedSessions,
  type SessionInfo,
  sessionOf,
  type SessionSource,
} from "../session_info.ts";
import { FlvPlayer } from "./flv_player.ts";
import { requestPath } from "./request_path.ts";
import { text } from "./text.ts";
import { openVodFlv, startVodFlv } from "./vod_flv.ts";

/** Options of {@link FlvPlayers}. */
export interface FlvPlayersOptions {
  hub:
    & Pick<Hub, "waitForStream" | "readerLeft">
    & Partial<Pick<Hub, "readerJoined">>;
  config: ServerConfig;
  log: Logger;
  /** The shared tick every player writes on. */
  batcher: WriteBatcher;
  /** The VOD folder: `/vod/<file>.flv` plays its files. */
  vod?: Vod;
  /** The refusal of reading `path` from `ip`, or `undefined` when it may. */
  refusal(
    req: Request,
    path: string,
    ip: string,
  ): Promise<Response | undefined>;
}

/** Counters over all HTTP-FLV players. */
export interface FlvPlayersStats {
  /** Players that got a stream. */
  players: number;
  readersDropped: number;
}

/** Every HTTP-FLV player of one HTTP server. */
export class FlvPlayers implements SessionSource {
  readonly #options: FlvPlayersOptions;
  readonly #players = new Set<FlvPlayer>();
  readonly #closed = new ClosedSessions();
  #nextId = 1;
  readonly stats: FlvPlayersStats = { players: 0, readersDropped: 0 };

  constructor(options: FlvPlayersOptions) {
    this.#options = options;
  }

  /** Players now. */
  get size(): number {
    return this.#players.size;
  }

  /** The answer to `GET <path>.flv`: a player's body, or why there is none. */
  async play(req: Request, remote: Deno.NetAddr): Promise<Response> {
    const { hub, config, log, vod } = this.#options;
    const path = httpPath(requestPath(req.url).slice(0, -".flv".length));
    if (path === undefined) return text(400, "Bad Request: invalid path");
    const refused = await this.#options.refusal(req, path, remote.hostname);
    if (refused !== undefined) return refused;
    if (isVodPath(path) && vod !== undefined) {
      const v = await openVodFlv(vod, path, new URL(req.url), log);
      if (v instanceof Response) return v;
      const { player, response } = this.#start(
        v.vod.stream,
        req,
        remote,
        () => v.vod.close(),
      );
      startVodFlv(v, player, path, log);
      return response;
    }
    let stream: Stream;
    try {
      stream = await hub.waitForStream(path, {
        timeoutMs: config.playWaitTimeout,
        signal: req.signal,
      });
    } catch (e) {
      if (!(e instanceof HubError)) throw e;
      if (req.signal.aborted) return text(499, "Client Closed Request");
      log.info("HTTP-FLV: stream not found", { path });
      return text(404, `Not Found: no stream ${path}`);
    }
    // A live body never ends by itself: no chunk framing (see endsWithConnection).
    return endsWithConnection(this.#start(stream, req, remote).response);
  }

  /** Lets every player check its writes (a stalled one is dropped). */
  tick(now: number): void {
    for (const p of this.#players) p.tick(now);
  }

  /** Ends every player with `reason`. */
  endAll(reason: string): void {
    for (const p of [...this.#players]) p.end(reason);
  }

  /** Every player now, for the API. */
  sessionList(): SessionInfo[] {
    return [...this.#players].map((p) => p.info());
  }

  /** Players gone since the last call. */
  drainClosed(): SessionInfo[] {
    return this.#closed.drain();
  }

  /** Ends the player `id` (`flv-3`); false when there is none. */
  kick(id: string): boolean {
    const player = sessionOf(this.#players, id);
    player?.end("closed through the API");
    return player !== undefined;
  }

  /**
   * A new player of `stream` (live or a file's own), counted and listed
   * with the others, and the answer that carries its body.
   */
  #start(
    stream: Stream,
    req: Request,
    remote: Deno.NetAddr,
    onGone?: () => void,
  ): { player: FlvPlayer; response: Response } {
    const { hub, config, log, batcher } = this.#options;
    const id = this.#nextId++;
    const session = {
      id: `flv#${id}`,
      protocol: "http",
      remoteAddress: remote.hostname,
      query: new URL(req.url).search.slice(1),
    };
    const player = new FlvPlayer({
      stream,
      config,
      log: log.child(`flv#${id}`),
      batcher,
      onClosed: () => {
        this.#players.delete(player);
        this.#closed.add(player.info());
        hub.readerLeft(stream, session);
        onGone?.();
      },
      onDropped: () => this.stats.readersDropped++,
      id: `flv-${id}`,
      remoteAddress: `${remote.hostname}:${remote.port}`,
    });
    this.#players.add(player);
    this.stats.players++;
    hub.readerJoined?.(stream, session);
    const response = new Response(player.body, {
      headers: {
        "Content-Type": "video/x-flv",
        "Cache-Control": "no-cache, no-store",
        "Access-Control-Allow-Origin": "*",
      },
    });
    return { player, response };
  }
}

/**
 * The hub path of an HTTP request path as sent (`/live/cam1`, see
 * {@link requestPath}), or `undefined` when {@link parsePath} refuses it.
 */
export function httpPath(urlPath: string): string | undefined {
  return parsePath(urlPath);
}
