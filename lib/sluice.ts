/**
 * A whole Sluice instance: the hub and the protocol servers the
 * configuration turns on. `server.ts` runs one; tests start their own.
 *
 * @module
 */

import { type Api, type Authorize, createApi } from "./api/mod.ts";
import { Authenticator } from "./auth/authenticator.ts";
import { Webhooks } from "./webhooks/webhooks.ts";
import type { Config } from "./config/schema.ts";
import { parseAddress } from "./config/schema.ts";
import { Hub } from "./hub/hub.ts";
import { WriteBatcher } from "./net/batch_writer.ts";
import { startMallocTrim } from "./net/malloc_trim.ts";
import { readTlsKeyPair, type TlsListenAddress } from "./net/tls.ts";
import type { Logger } from "./log.ts";
import type { ReloadPlan } from "./reload.ts";
import { applyReload } from "./sluice_reload.ts";
import { authenticatorAccess } from "./sluice_access.ts";
import { HttpServer } from "./server/http/server.ts";
import { addDashboardRoutes } from "./server/http/dashboard.ts";
import { DashboardSampler } from "./server/http/dashboard_data.ts";
import { RtmpServer } from "./server/rtmp/server.ts";
import { Registrations } from "./relay/registrations.ts";
import { Relays } from "./relay/relays.ts";
import { RtspServer } from "./server/rtsp/server.ts";
import { Recorder } from "./record/recorder.ts";
import { Vod } from "./vod/vod.ts";

/** A running instance. */
export interface Sluice {
  readonly hub: Hub;
  /** Decides every access of every protocol (the API and metrics call it too). */
  readonly auth: Authenticator;
  /** POSTs the hub's and the relays' events to the configured hooks. */
  readonly webhooks: Webhooks;
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
  /** The VOD folder, when `vodPath` is set. */
  readonly vod: Vod | undefined;
  /** Recordings of the paths that record, and their index. */
  readonly recorder: Recorder;
  /** Settles once the recordings index was built from the folder. */
  readonly recorderReady: Promise<void>;
  /** The REST API and metrics on the HTTP port, when enabled. */
  readonly api: Api | undefined;
  /** What the dashboard at `GET /` shows; the API may serve the same snapshots. */
  readonly dashboard: DashboardSampler;
  /** The configuration in force (after the last reload). */
  readonly config: Readonly<Config>;
  /**
   * Applies a new, already validated configuration without a restart (hot
   * reload; SIGHUP, a changed file and `PATCH /api/v1/config` all come
   * here). Paths whose settings are equal keep their publisher, readers and
   * relays; a changed path restarts only its relays, and only when a relay
   * key changed; credentials and other per-path keys hold for the next
   * session (sessions already allowed keep playing or publishing). Keys
   * that need a restart are listed in {@link ReloadResult.needsRestart}
   * and keep their old value. Reloads run one after another.
   */
  reload(next: Config): Promise<ReloadResult>;
  /** Closes listeners and sessions, ends every stream. */
  close(): Promise<void>;
}

/** Options of {@link startSluice} that other parts of Sluice plug in. */
export interface SluiceOptions {
  /**
   * Who may use the API and metrics; when left out, the authenticator:
   * users with the `api`/`metrics` permission, else loopback clients only.
   */
  authorize?: Authorize;
}

/** What a reload did; see {@link ReloadPlan}. */
export type ReloadResult = ReloadPlan;

/** Starts the hub and the servers `config` enables. */
export function startSluice(
  initial: Config,
  log: Logger,
  options: SluiceOptions = {},
): Sluice {
  // The servers hold this object and read it per session: a reload changes
  // its per-path settings and live keys in place (see reload.ts).
  const config: Config = { ...initial };
  const recorder = new Recorder({
    config,
    log: log.child("record"),
    onSegmentComplete: (segment) =>
      hub.events.emit("segment.complete", segment),
  });
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
  const auth = new Authenticator(config, {
    log: log.child("auth"),
    // The API counts its own refusals; these are the streaming protocols'.
    onRefused: (req) => {
      if (req.action === "api" || req.action === "metrics") return;
      api?.metrics.countAuthFailure(req.protocol);
    },
  });
  const webhooks = new Webhooks(config.webhooks, {
    log: log.child("webhook"),
  });
  webhooks.listen(hub.events);
  const registrations = new Registrations({
    hub,
    log: log.child("register"),
  });
  // One tick writes media to every reader of every protocol.
  const batcher = new WriteBatcher(config.writeBatchInterval);
  const trim = startMallocTrim();
  const vod = config.vodPath === "" ? undefined : new Vod(config.vodPath);
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
      authorize: options.authorize ?? authenticatorAccess(auth),
      // PATCH /api/v1/config: the instance below is built by then.
      reload: async (next) => {
        await instance.reload(next);
      },
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
  const dashboard = new DashboardSampler({
    hub,
    relays: { states: () => relays.states() },
    paths: () => Object.keys(config.paths),
    ports: () => ({ rtmp: rtmpPort, rtsp: rtspPort, http: httpPort }),
  });
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
        auth,
        tls: tlsListener(config, "rtmps"),
        vod,
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
        authenticator: auth,
        vod,
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
        auth,
        vod,
        // RTMPT sessions are RTMP sessions: they need the RTMP server.
        rtmpt: tunnelled && ((conn) => tunnelled.runSession(conn)),
        recordings: config.playback ? recorder : undefined,
        routes: (app) => {
          addDashboardRoutes(app, dashboard);
          if (api !== undefined) app.route("/", api.routes);
        },
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
    trim.stop();
    vod?.close();
    hub.close();
    void recorder.close();
    webhooks.close();
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
    events: hub.events,
    rtsp: server === undefined || rtspPort === undefined ? undefined : {
      serve: (conn, path) => server.serve(conn, path),
      // read at each registration: a reload may move the listener
      get port() {
        return rtspPort!;
      },
    },
  });
  relays.start();
  let closing: Promise<void> | undefined;
  let reloading: Promise<unknown> = Promise.resolve();
  const reloadTargets = {
    config,
    log,
    reloadLog: log.child("reload"),
    relays,
    auth,
    webhooks,
    listeners: {
      rtmpAddress: (a: { hostname: string; port: number }) => {
        if (rtmp === undefined) return false;
        rtmpPort = rtmp.relisten(a.hostname, a.port).port;
        return true;
      },
      rtspAddress: (a: { hostname: string; port: number }) => {
        if (rtsp === undefined) return false;
        rtspPort = rtsp.relisten(a.hostname, a.port).port;
        return true;
      },
      httpAddress: (a: { hostname: string; port: number }) => {
        if (http === undefined) return false;
        httpPort = http.relisten(a.hostname, a.port).port;
        return true;
      },
    },
  };
  const instance: Sluice = {
    auth,
    webhooks,
    recorder,
    recorderReady,
    relays,
    registrations,
    api,
    hub,
    rtmp,
    get rtmpPort() {
      return rtmpPort;
    },
    rtmpsPort,
    rtsp,
    get rtspPort() {
      return rtspPort;
    },
    rtspsPort,
    http,
    vod,
    get httpPort() {
      return httpPort;
    },
    dashboard,
    get config() {
      return config;
    },
    reload(next) {
      const run = reloading.then(() => {
        if (closing !== undefined) {
          throw new Error("Cannot reload: Sluice is shutting down");
        }
        return applyReload(reloadTargets, next);
      });
      reloading = run.catch(() => {});
      return run;
    },
    close() {
      closing ??= (async () => {
        relays.close();
        registrations.close();
        await Promise.all([rtmp?.close(), rtsp?.close(), http?.close()]);
        api?.close();
        batcher.close();
        trim.stop();
        vod?.close();
        hub.close(); // ends every stream: open segments close
        await recorder.close();
        // The last stop events go out within a moment, then delivery stops.
        await webhooks.flush(1000);
        webhooks.close();
      })();
      return closing;
    },
  };
  return instance;
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
