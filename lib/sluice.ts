/**
 * A whole Sluice instance: the hub and the protocol servers the
 * configuration turns on. `server.ts` runs one; tests start their own.
 *
 * @module
 */

import type { Config } from "./config/schema.ts";
import { parseAddress } from "./config/schema.ts";
import { Hub } from "./hub/hub.ts";
import { WriteBatcher } from "./net/batch_writer.ts";
import type { Logger } from "./log.ts";
import { HttpServer } from "./server/http/server.ts";
import { RtmpServer } from "./server/rtmp/server.ts";
import { Registrations } from "./relay/registrations.ts";
import { Relays } from "./relay/relays.ts";
import { RtspServer } from "./server/rtsp/server.ts";
import { Vod } from "./vod/vod.ts";

/** A running instance. */
export interface Sluice {
  readonly hub: Hub;
  /** The RTMP server, when enabled. */
  readonly rtmp: RtmpServer | undefined;
  /** The RTMP port actually bound (useful with port 0). */
  readonly rtmpPort: number | undefined;
  /** The RTSP server, when enabled. */
  readonly rtsp: RtspServer | undefined;
  /** The RTSP port actually bound. */
  readonly rtspPort: number | undefined;
  /** The HTTP server (HTTP-FLV), when enabled. */
  readonly http: HttpServer | undefined;
  /** The HTTP port actually bound. */
  readonly httpPort: number | undefined;
  /** Pulls and pushes of the configured paths. */
  readonly relays: Relays;
  /** Streams other sides REGISTERed here, each pulled into its path. */
  readonly registrations: Registrations;
  /** The VOD folder, when `vodPath` is set. */
  readonly vod: Vod | undefined;
  /** Closes listeners and sessions, ends every stream. */
  close(): Promise<void>;
}

/** Starts the hub and the servers `config` enables. */
export function startSluice(config: Config, log: Logger): Sluice {
  const hub: Hub = new Hub({
    // called only once readers wait, after `relays` exists
    onDemand: (path) => relays.onDemand(path),
    overridePublisher: config.overridePublisher,
    publisherIdleMs: config.overridePublisherIdle,
    publisherGracePeriodMs: config.publisherGracePeriod,
    playWaitTimeoutMs: config.playWaitTimeout,
    // Publishers come over RTMP and RTSP, or from a path's source: with
    // neither server on, a path without a source never gets a stream, and
    // its readers hear so at once rather than after playWaitTimeout.
    canPublish: (path) =>
      config.rtmp || config.rtsp || config.paths[path]?.source !== undefined,
    gopCache: config.gopCache,
  });
  const registrations = new Registrations({
    hub,
    log: log.child("register"),
  });
  // One tick writes media to every reader of every protocol.
  const batcher = new WriteBatcher(config.writeBatchInterval);
  const vod = config.vodPath === "" ? undefined : new Vod(config.vodPath);
  let rtmp: RtmpServer | undefined;
  let rtmpPort: number | undefined;
  let rtsp: RtspServer | undefined;
  let rtspPort: number | undefined;
  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  try {
    if (config.rtmp) {
      const { hostname, port } = parseAddress(config.rtmpAddress);
      rtmp = new RtmpServer({
        hub,
        config,
        log: log.child("rtmp"),
        hostname,
        port,
        batcher,
        vod,
      });
      rtmpPort = rtmp.start().port;
    }
    if (config.rtsp) {
      const { hostname, port } = parseAddress(config.rtspAddress);
      rtsp = new RtspServer({
        hub,
        config,
        log: log.child("rtsp"),
        hostname,
        port,
        rtp: parseAddress(config.rtpAddress),
        rtcp: parseAddress(config.rtcpAddress),
        batcher,
        tunnelAddresses: config.rtspTunnelAddresses.map(parseAddress),
        registrar: registrations,
        vod,
      });
      rtspPort = rtsp.start().port;
    }
    if (config.http) {
      const { hostname, port } = parseAddress(config.httpAddress);
      const tunnelled = config.rtmpt ? rtmp : undefined;
      http = new HttpServer({
        hub,
        config,
        log: log.child("http"),
        hostname,
        port,
        batcher,
        vod,
        // RTMPT sessions are RTMP sessions: they need the RTMP server.
        rtmpt: tunnelled && ((conn) => tunnelled.runSession(conn)),
      });
      httpPort = http.start().port;
    }
  } catch (e) {
    // One address in use: what did start is closed again, nothing is left bound.
    void rtmp?.close();
    void rtsp?.close();
    void http?.close();
    batcher.close();
    vod?.close();
    hub.close();
    throw e;
  }
  const server = rtsp;
  const relays = new Relays({
    hub,
    paths: config.paths,
    log: log.child("relay"),
    rtsp: server === undefined || rtspPort === undefined ? undefined : {
      serve: (conn, path) => server.serve(conn, path),
      port: rtspPort,
    },
  });
  relays.start();
  let closing: Promise<void> | undefined;
  return {
    relays,
    registrations,
    hub,
    rtmp,
    rtmpPort,
    rtsp,
    rtspPort,
    http,
    httpPort,
    vod,
    close() {
      closing ??= (async () => {
        relays.close();
        registrations.close();
        await Promise.all([rtmp?.close(), rtsp?.close(), http?.close()]);
        batcher.close();
        vod?.close();
        hub.close();
      })();
      return closing;
    },
  };
}
