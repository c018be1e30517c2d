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
import { readTlsKeyPair, type TlsListenAddress } from "./net/tls.ts";
import type { Logger } from "./log.ts";
import { HttpServer } from "./server/http/server.ts";
import { RtmpServer } from "./server/rtmp/server.ts";
import { Registrations } from "./relay/registrations.ts";
import { Relays } from "./relay/relays.ts";
import { RtspServer } from "./server/rtsp/server.ts";
import { Recorder } from "./record/recorder.ts";

/** A running instance. */
export interface Sluice {
  readonly hub: Hub;
  /** The RTMP server, when enabled. */
  readonly rtmp: RtmpServer | undefined;
  /** The RTMP port actually bound (useful with port 0). */
  readonly rtmpPort: number | undefined;
  /** The RTMPS port bound, when RTMP is on and a certificate is configured. */
  readonly rtmpsPort: number | undefined;
  /** The RTSP server, when enabled. */
  readonly rtsp: RtspServer | undefined;
  /** The RTSP port actually bound. */
  readonly rtspPort: number | undefined;
  /** The RTSPS port bound, when RTSP is on and a certificate is configured. */
  readonly rtspsPort: number | undefined;
  /** The HTTP server (HTTP-FLV), when enabled. */
  readonly http: HttpServer | undefined;
  /** The HTTP port actually bound. */
  readonly httpPort: number | undefined;
  /** Pulls and pushes of the configured paths. */
  readonly relays: Relays;
  /** Streams other sides REGISTERed here, each pulled into its path. */
  readonly registrations: Registrations;
  /** Recordings of the paths that record, and their index. */
  readonly recorder: Recorder;
  /** Settles once the recordings index was built from the folder. */
  readonly recorderReady: Promise<void>;
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
  const recorder = new Recorder({ config, log: log.child("record") });
  const hub: Hub = new Hub({
    onPublish: (stream, options) => recorder.onPublish(stream, options.record),
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
  let rtmpsPort: number | undefined;
  let rtsp: RtspServer | undefined;
  let rtspPort: number | undefined;
  let rtspsPort: number | undefined;
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
        tls: tlsListener(config, "rtmps"),
      });
      ({ port: rtmpPort, tlsPort: rtmpsPort } = rtmp.start());
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
        tls: tlsListener(config, "rtsps"),
        tunnelAddresses: config.rtspTunnelAddresses.map(parseAddress),
        registrar: registrations,
      });
      ({ port: rtspPort, tlsPort: rtspsPort } = rtsp.start());
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
        recordings: config.playback ? recorder : undefined,
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
    void recorder.close();
    throw e;
  }
  const server = rtsp;
  const recorderReady = recorder.start().catch((e) =>
    log.error(
      `Cannot index recordings: ${e instanceof Error ? e.message : e}`,
    )
  );
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
    recorder,
    recorderReady,
    relays,
    registrations,
    api,
    hub,
    rtmp,
    rtmpPort,
    rtmpsPort,
    rtsp,
    rtspPort,
    rtspsPort,
    http,
    httpPort,
    close() {
      closing ??= (async () => {
        relays.close();
        registrations.close();
        await Promise.all([rtmp?.close(), rtsp?.close(), http?.close()]);
        api?.close();
        batcher.close();
        hub.close(); // ends every stream: open segments close
        await recorder.close();
      })();
      return closing;
    },
  };
}

/**
 * The TLS listener of RTSPS or RTMPS: its own certificate and key
 * (`rtspsCert`/`rtspsKey`, `rtmpsCert`/`rtmpsKey`) or else `tlsCert` and
 * `tlsKey`; none when neither is set. A handshake gets `readTimeout`.
 *
 * @throws {Error} when only one of a certificate and its key is set, or a
 * file cannot be read
 */
function tlsListener(
  config: Config,
  kind: "rtsps" | "rtmps",
): TlsListenAddress | undefined {
  const own = kind === "rtsps"
    ? { cert: config.rtspsCert, key: config.rtspsKey }
    : { cert: config.rtmpsCert, key: config.rtmpsKey };
  const pair = own.cert !== "" || own.key !== ""
    ? { ...own, names: `${kind}Cert and ${kind}Key` }
    : { cert: config.tlsCert, key: config.tlsKey, names: "tlsCert and tlsKey" };
  if (pair.cert === "" && pair.key === "") return undefined;
  if (pair.cert === "" || pair.key === "") {
    throw new Error(
      `Cannot start ${kind.toUpperCase()}: ${pair.names} must be set together`,
    );
  }
  const address = kind === "rtsps" ? config.rtspsAddress : config.rtmpsAddress;
  return {
    ...parseAddress(address),
    ...readTlsKeyPair(pair.cert, pair.key),
    handshakeTimeoutMs: config.readTimeout,
  };
}
