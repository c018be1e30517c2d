/**
 * A whole Sluice instance: the hub and the protocol servers the
 * configuration turns on. `server.ts` runs one; tests start their own.
 *
 * @module
 */

import { type Api, type Authorize, createApi } from "./api/mod.ts";
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
  /** The REST API and metrics on the HTTP port, when enabled. */
  readonly api: Api | undefined;
  /** Closes listeners and sessions, ends every stream. */
  close(): Promise<void>;
}

/** Options of {@link startSluice} that other parts of Sluice plug in. */
export interface SluiceOptions {
  /** Who may use the API and metrics; loopback clients only when left out. */
  authorize?: Authorize;
  /** Applies a configuration changed through the API (hot reload). */
  reload?: (config: Config) => Promise<void> | void;
}

/** Starts the hub and the servers `config` enables. */
export function startSluice(
  config: Config,
  log: Logger,
  options: SluiceOptions = {},
): Sluice {
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
  let rtmp: RtmpServer | undefined;
  let rtmpPort: number | undefined;
  let rtsp: RtspServer | undefined;
  let rtspPort: number | undefined;
  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  // Read lazily: the servers and relays start below.
  const api = config.http && (config.api || config.metrics)
    ? createApi({
      api: config.api,
      metrics: config.metrics,
      authorize: options.authorize,
      reload: options.reload,
      log: log.child("api"),
      hub,
      servers: () => [rtmp, rtsp, http].filter((s) => s !== undefined),
      relays: () => [...relays.states(), ...registrations.states()],
      config: () => config,
      counters: () => [
        { protocol: "rtmp", connections: rtmp?.stats.connections ?? 0 },
        { protocol: "rtsp", connections: rtsp?.stats.connections ?? 0 },
        { protocol: "flv", connections: http?.stats.players ?? 0 },
      ],
    })
    : undefined;
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
        // RTMPT sessions are RTMP sessions: they need the RTMP server.
        rtmpt: tunnelled && ((conn) => tunnelled.runSession(conn)),
        routes: api?.routes,
      });
      httpPort = http.start().port;
    }
  } catch (e) {
    // One address in use: what did start is closed again, nothing is left bound.
    void rtmp?.close();
    void rtsp?.close();
    void http?.close();
    api?.close();
    batcher.close();
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
    api,
    hub,
    rtmp,
    rtmpPort,
    rtsp,
    rtspPort,
    http,
    httpPort,
    close() {
      closing ??= (async () => {
        relays.close();
        registrations.close();
        await Promise.all([rtmp?.close(), rtsp?.close(), http?.close()]);
        api?.close();
        batcher.close();
        hub.close();
      })();
      return closing;
    },
  };
}
