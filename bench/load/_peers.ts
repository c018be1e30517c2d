/**
 * The servers under test: Sluice (`deno run -A server.ts`), nginx with the
 * RTMP module, Node-Media-Server and gst-rtsp-server (`gst_rtsp_server.py`),
 * each on 127.0.0.1 with fresh ports and a temporary directory, fed the
 * input by an ffmpeg publisher over RTMP (gst-rtsp-server reads the file
 * itself). Also which server plays which protocol, what is installed, and
 * the versions a report states.
 *
 * @module
 */

import { type Input, startPublisher } from "./_input.ts";
import { sluiceRunFlags } from "./_sluice_run.ts";
import type { Protocol } from "./_players/mod.ts";
import {
  freePort,
  type Running,
  spawn,
  versionOf,
  waitForPort,
} from "./_proc.ts";

/** The servers the runner knows. */
export const SERVER_KINDS = ["sluice", "nginx", "nms", "gst"] as const;
/** One of {@link SERVER_KINDS}. */
export type ServerKind = typeof SERVER_KINDS[number];

/**
 * The servers that play each protocol, Sluice first. nginx-rtmp (Debian's
 * libnginx-mod-rtmp) serves no HTTP-FLV: that is the nginx-http-flv-module
 * fork, which Debian does not package. Node-Media-Server serves HTTP-FLV at
 * `/<app>/<name>.flv` on its HTTP port.
 */
export const SERVERS_OF: Readonly<Record<Protocol, readonly ServerKind[]>> = {
  rtmp: ["sluice", "nginx", "nms"],
  // Neither nginx-rtmp (Debian's) nor Node-Media-Server 4 serves RTMPS, and
  // the gst-rtsp-server peer runs without TLS: Sluice alone, beside its plain protocol.
  rtmps: ["sluice"],
  "rtsp-tcp": ["sluice", "gst"],
  "rtsps-tcp": ["sluice"],
  "rtsp-udp": ["sluice", "gst"],
  // SRTP: Sluice alone, beside its plain RTP/AVP over UDP (rtsp-udp).
  "rtsp-srtp": ["sluice"],
  flv: ["sluice", "nms"],
};

/** The path every server serves the stream at: `rtmp://…/live/bench`, `/live/bench.flv`. */
export const STREAM_PATH = "live/bench";

/** python3-gst is a Debian package: pyenv's python3 cannot import gi. */
const PYTHON = "/usr/bin/python3";
const NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/** Where things live. */
export interface PeerPaths {
  /** The repository root (server.ts). */
  repo: string;
  /** bench/load/.peers: node_modules of node-media-server, the input files. */
  peers: string;
}

/** A started server, with its publisher if it has one. */
export interface Server extends Running {
  readonly kind: ServerKind;
  /** The port players connect to. */
  readonly port: number;
  /** The server's own log file (stdout and stderr). */
  readonly logPath: string;
  /** The ffmpeg that publishes to it; stopped with the server. */
  readonly publisher?: Running;
}

/** What {@link startServer} needs besides the kind and protocol. */
export interface StartContext {
  paths: PeerPaths;
  /** The run's temporary directory: configs and logs. */
  dir: string;
  input: Input;
  /** Called with every process as soon as it is spawned (for cleanup on errors and signals). */
  track(proc: Running): void;
  /** The certificate and key files of the TLS protocols. */
  tls?: { certFile: string; keyFile: string };
}

/**
 * Starts `kind` serving `protocol` and, unless it reads the file itself, the
 * publisher; resolves once players can connect and the publisher runs.
 */
export async function startServer(
  kind: ServerKind,
  protocol: Protocol,
  ctx: StartContext,
): Promise<Server> {
  const { paths, dir } = ctx;
  const logPath = `${dir}/${kind}.log`;
  const rtmpPort = freePort();
  let port = rtmpPort;
  let proc: Running;
  switch (kind) {
    case "sluice": {
      const flags = ["--rtmp-address", `127.0.0.1:${rtmpPort}`];
      const rtsps = protocol === "rtsps-tcp" || protocol === "rtsp-srtp";
      if (protocol === "rtmps" || rtsps) {
        if (ctx.tls === undefined) {
          throw new TypeError(`Cannot start ${protocol}: no certificate`);
        }
        port = freePort();
        flags.push(
          ...["--tls-cert", ctx.tls.certFile, "--tls-key", ctx.tls.keyFile],
          protocol === "rtmps" ? "--rtmps-address" : "--rtsps-address",
          `127.0.0.1:${port}`,
          // The other TLS listener starts too: any free port.
          protocol === "rtmps" ? "--rtsps-address" : "--rtmps-address",
          "127.0.0.1:0",
        );
      }
      if (protocol.startsWith("rtsp")) {
        if (!rtsps) port = freePort();
        flags.push(
          "--rtsp-address",
          `127.0.0.1:${rtsps ? freePort() : port}`,
          "--rtp-address",
          `127.0.0.1:${freePort("udp")}`,
          "--rtcp-address",
          `127.0.0.1:${freePort("udp")}`,
        );
      } else flags.push("--rtsp", "false");
      if (protocol === "flv") {
        port = freePort();
        flags.push("--http-address", `127.0.0.1:${port}`);
      } else flags.push("--http", "false");
      proc = spawn(
        Deno.execPath(),
        [
          "run",
          "-A",
          ...sluiceRunFlags(),
          `${paths.repo}/server.ts`,
          ...flags,
          "--log-level",
          "warn",
        ],
        logPath,
        paths.repo,
      );
      break;
    }
    case "nginx": {
      const conf = `${dir}/nginx.conf`;
      Deno.mkdirSync(`${dir}/logs`, { recursive: true });
      Deno.writeTextFileSync(conf, nginxConf(rtmpPort, dir));
      proc = spawn(
        "nginx",
        ["-c", conf, "-p", `${dir}/`, "-e", `${dir}/error.log`],
        logPath,
        dir,
      );
      break;
    }
    case "nms": {
      const httpPort = freePort();
      if (protocol === "flv") port = httpPort;
      const conf = `${dir}/nms.json`;
      Deno.writeTextFileSync(conf, nmsConfig(rtmpPort, httpPort, dir));
      proc = spawn(
        "node",
        [`${nmsRoot(paths)}/bin/app.js`, "-c", conf, "--no-admin"],
        logPath,
        dir,
      );
      break;
    }
    case "gst": {
      if (ctx.input.longPath === undefined) {
        throw new TypeError("Cannot start gst: no long input");
      }
      port = freePort();
      proc = spawn(
        PYTHON,
        [
          new URL("./gst_rtsp_server.py", import.meta.url).pathname,
          String(port),
          ctx.input.longPath,
        ],
        logPath,
        dir,
      );
      break;
    }
  }
  ctx.track(proc);
  let publisher: Running | undefined;
  try {
    await waitForPort(port, 20_000, () => !proc.exited);
    if (kind !== "gst") {
      await waitForPort(rtmpPort, 5_000, () => !proc.exited);
      publisher = startPublisher(
        ctx.input.path,
        `rtmp://127.0.0.1:${rtmpPort}/${STREAM_PATH}`,
        `${dir}/ffmpeg.log`,
      );
      ctx.track(publisher);
    }
  } catch (e) {
    await proc.stop(1000);
    const said = Deno.readTextFileSync(logPath).trim().split("\n").slice(-5);
    throw said[0] ? new Error(`${e}; ${kind} said: ${said.join(" / ")}`) : e;
  }
  return {
    kind,
    port,
    logPath,
    publisher,
    pid: proc.pid,
    get exited() {
      return proc.exited;
    },
    async stop(graceMs?: number) {
      await publisher?.stop(graceMs);
      await proc.stop(graceMs);
    },
  };
}

/** The nginx.conf the runner starts nginx with. */
export function nginxConf(port: number, dir: string): string {
  return `# written by bench/load/_peers.ts
load_module ${NGINX_MODULE};
daemon off;
master_process on;
# One worker, so nginx gets one core at most, like the single-threaded Sluice and NMS.
worker_processes 1;
worker_rlimit_nofile 8192;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
    application live {
      live on;
    }
  }
}
`;
}

/** Node-Media-Server's config: RTMP and HTTP only, secrets filled in so it never writes it back. */
export function nmsConfig(
  rtmpPort: number,
  httpPort: number,
  dir: string,
): string {
  return JSON.stringify(
    {
      bind: "127.0.0.1",
      notify: { url: "" },
      store: { path: `${dir}/data`, maxHistory: 10000 },
      auth: {
        play: false,
        publish: false,
        secret: "bench-secret-not-used",
        jwt: {
          secret: "bench-jwt-secret-not-used",
          expiresIn: "24h",
          refreshExpiresIn: "7d",
          algorithm: "HS256",
          users: [],
        },
      },
      rtmp: { port: rtmpPort },
      http: { port: httpPort },
      webadmin: { enable: false },
      record: { auto: false, path: `${dir}/record` },
    },
    null,
    2,
  );
}

/** node-media-server as setup.sh installs it. */
function nmsRoot(paths: PeerPaths): string {
  return `${paths.peers}/node_modules/node-media-server`;
}

/** Why `kinds` cannot run here (not installed), or `undefined` when they can. */
export async function missingPeer(
  kinds: readonly ServerKind[],
  paths: PeerPaths,
): Promise<string | undefined> {
  if (kinds.includes("nms")) {
    try {
      Deno.statSync(`${nmsRoot(paths)}/bin/app.js`);
    } catch {
      return "node-media-server is not installed: run bench/load/setup.sh";
    }
  }
  if (kinds.includes("nginx")) {
    try {
      Deno.statSync(NGINX_MODULE);
    } catch {
      return `${NGINX_MODULE} is missing: run bench/load/setup.sh`;
    }
  }
  if (kinds.includes("gst")) {
    const ok = await versionOf(PYTHON, [
      "-c",
      "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer; print('ok')",
    ]);
    if (ok !== "ok") {
      return `${PYTHON} cannot import GstRtspServer (${ok}): run bench/load/setup.sh`;
    }
  }
  return undefined;
}

/** The versions a report states: deno and ffmpeg, then each peer in `kinds` as it runs. */
export async function versions(
  kinds: readonly ServerKind[],
  paths: PeerPaths,
): Promise<string> {
  const parts = [`deno ${Deno.version.deno} (v8 ${Deno.version.v8})`];
  if (kinds.includes("nginx")) {
    const [nginx, mod] = await Promise.all([
      versionOf("nginx", ["-v"]),
      versionOf("dpkg-query", ["-W", "-f", "${Version}", "libnginx-mod-rtmp"]),
    ]);
    parts.push(
      `${nginx}, libnginx-mod-rtmp ${mod} (worker_processes 1, chunk_size 4096)`,
    );
  }
  if (kinds.includes("nms")) {
    let nms = "missing";
    try {
      nms = JSON.parse(
        Deno.readTextFileSync(`${nmsRoot(paths)}/package.json`),
      ).version;
    } catch {
      // not installed
    }
    parts.push(
      `node-media-server ${nms} on node ${await versionOf("node", [
        "--version",
      ])}`,
    );
  }
  if (kinds.includes("gst")) {
    const [gst, server] = await Promise.all([
      versionOf(PYTHON, [
        "-c",
        "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); print(Gst.version_string())",
      ]),
      versionOf("dpkg-query", [
        "-W",
        "-f",
        "${Version}",
        "libgstrtspserver-1.0-0",
      ]),
    ]);
    parts.push(
      `${gst}, gst-rtsp-server ${server} (one shared media factory, python3-gst)`,
    );
  }
  const ffmpeg = await versionOf("ffmpeg", ["-version"]);
  parts.push(ffmpeg.split(" Copyright")[0] ?? ffmpeg);
  return parts.join("; ");
}
