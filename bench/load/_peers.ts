/**
 * Starts and stops the servers under test (Sluice, nginx with the RTMP
 * module, Node-Media-Server) and the ffmpeg publisher, each on 127.0.0.1
 * with a free port and a temporary directory.
 *
 * @module
 */

/** The servers the benchmark knows. */
export const SERVER_KINDS = ["sluice", "nginx", "nms"] as const;
/** One of {@link SERVER_KINDS}. */
export type ServerKind = typeof SERVER_KINDS[number];

/** A started child process. */
export interface Running {
  /** The process whose tree is measured. */
  readonly pid: number;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** A started server. */
export interface Server extends Running {
  readonly kind: ServerKind;
  readonly port: number;
  /** The server's own log file (stdout and stderr). */
  readonly logPath: string;
}

/** Where things live. */
export interface PeerPaths {
  /** The repository root (server.ts). */
  repo: string;
  /** bench/load/.peers: node_modules of node-media-server, the input file. */
  peers: string;
}

const NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/** A TCP or UDP port nobody uses right now (bind to 0, read it, close). */
export function freePort(transport: "tcp" | "udp" = "tcp"): number {
  const hostname = "127.0.0.1";
  const l = transport === "tcp"
    ? Deno.listen({ hostname, port: 0 })
    : Deno.listenDatagram({ transport, hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Spawns `cmd` with stdout and stderr to `logPath`, stdin closed. */
export function spawn(
  cmd: string,
  args: string[],
  logPath: string,
  cwd?: string,
): Running {
  const log = Deno.openSync(logPath, {
    write: true,
    create: true,
    truncate: true,
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    log.close();
    throw e;
  }
  // Both pipes into one file; bounded by what the servers log at their quietest level.
  const sink = log.writable.getWriter();
  const drain = async (r: ReadableStream<Uint8Array>) => {
    for await (const c of r) await sink.write(c).catch(() => {});
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)])
    .finally(() => sink.close().catch(() => {}));
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    pid: child.pid,
    get exited() {
      return exited;
    },
    async stop(graceMs = 3000) {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        const t = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, graceMs);
        await status;
        clearTimeout(t);
      }
      await Promise.race([drained, new Promise((r) => setTimeout(r, 1000))]);
    },
  };
}

/** Waits until something accepts TCP on `port`, or throws after `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (!alive()) {
      throw new Error(`Cannot reach port ${port}: the process exited`);
    }
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(
    `Cannot reach port ${port}: nothing listens after ${timeoutMs} ms`,
  );
}

/** The nginx.conf the benchmark runs nginx with. */
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

/** Starts one server on a free port; resolves once it accepts connections. */
export async function startServer(
  kind: ServerKind,
  paths: PeerPaths,
  dir: string,
): Promise<Server> {
  const port = freePort();
  const logPath = `${dir}/${kind}.log`;
  let proc: Running;
  switch (kind) {
    case "sluice":
      proc = spawnSluice(paths, logPath, [
        "--rtmp-address",
        `127.0.0.1:${port}`,
        "--rtsp",
        "false",
      ]);
      break;
    case "nginx": {
      const conf = `${dir}/nginx.conf`;
      Deno.mkdirSync(`${dir}/logs`, { recursive: true });
      Deno.writeTextFileSync(conf, nginxConf(port, dir));
      proc = spawn(
        "nginx",
        ["-c", conf, "-p", `${dir}/`, "-e", `${dir}/error.log`],
        logPath,
        dir,
      );
      break;
    }
    case "nms": {
      const conf = `${dir}/nms.json`;
      Deno.writeTextFileSync(conf, nmsConfig(port, freePort(), dir));
      proc = spawn(
        "node",
        [`${nmsRoot(paths)}/bin/app.js`, "-c", conf, "--no-admin"],
        logPath,
        dir,
      );
      break;
    }
  }
  try {
    await waitForPort(port, 20_000, () => !proc.exited);
  } catch (e) {
    await proc.stop(1000);
    throw e;
  }
  return Object.assign(proc, { kind, port, logPath }) as Server;
}

/**
 * `deno run -A server.ts FLAGS --http false --log-level warn` in the
 * repository, logging to `logPath`: the fan-out benchmarks serve no HTTP, so
 * nothing binds port 8080 and no idle listener runs beside the peers'.
 */
export function spawnSluice(
  paths: PeerPaths,
  logPath: string,
  flags: string[],
): Running {
  return spawn(
    Deno.execPath(),
    [
      "run",
      "-A",
      `${paths.repo}/server.ts`,
      ...flags,
      "--http",
      "false",
      "--log-level",
      "warn",
    ],
    logPath,
    paths.repo,
  );
}

/** node-media-server as setup.sh installs it. */
export function nmsRoot(paths: PeerPaths): string {
  return `${paths.peers}/node_modules/node-media-server`;
}

/** `ffmpeg -re -stream_loop -1 -i input -c copy -f flv rtmp://…`: publishes without re-encoding. */
export function startPublisher(
  input: string,
  url: string,
  logPath: string,
): Running {
  return spawn("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "warning",
    "-re",
    "-stream_loop",
    "-1",
    "-i",
    input,
    "-c",
    "copy",
    "-f",
    "flv",
    url,
  ], logPath);
}

/** Encodes the benchmark input once: 30 s, 960x540 H.264 at ~2.3 Mbit/s CBR, GOP 2 s, AAC 128 kbit/s. */
export async function ensureInput(peers: string): Promise<string> {
  const path = `${peers}/input_960x540_2300k_gop50.flv`;
  if (hasFile(path)) return path;
  Deno.mkdirSync(peers, { recursive: true });
  await ffmpegToFile(path, "encode the input", 300_000, [
    "-f",
    "lavfi",
    // Temporal noise keeps the encoder at its rate instead of far below it.
    "-i",
    "testsrc2=size=960x540:rate=25,noise=alls=12:allf=t",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=44100",
    "-t",
    "30",
    "-map",
    "0:v",
    "-map",
    "1:a",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
    "-g",
    "50",
    "-keyint_min",
    "50",
    "-sc_threshold",
    "0",
    "-b:v",
    "2300k",
    "-maxrate",
    "2300k",
    "-bufsize",
    "2300k",
    "-x264-params",
    "nal-hrd=cbr",
    "-c:a",
    "aac",
    "-b:a",
    "128k",
    "-ac",
    "2",
    "-f",
    "flv",
  ]);
  return path;
}

/** Whether `path` is a file with something in it. */
export function hasFile(path: string): boolean {
  try {
    return Deno.statSync(path).size > 0;
  } catch {
    return false; // not there yet
  }
}

/**
 * `ffmpeg … ARGS <path>.tmp.flv`, renamed to `path` once ffmpeg succeeded, so
 * an interrupted run leaves no half-written `path`; throws "Cannot `what`: …".
 */
export async function ffmpegToFile(
  path: string,
  what: string,
  timeoutMs: number,
  args: string[],
): Promise<void> {
  const tmp = `${path}.tmp.flv`;
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      ...args,
      tmp,
    ],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    throw new Error(`Cannot ${what}: ${new TextDecoder().decode(out.stderr)}`);
  }
  Deno.renameSync(tmp, path);
}

/** Duration (s) and bit rate (bit/s, all streams and FLV overhead) of `input`, by ffprobe. */
export async function probeInput(
  input: string,
): Promise<{ seconds: number; bitsPerSecond: number }> {
  const out = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-show_entries",
      "format=duration,size",
      "-of",
      "json",
      input,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const f = JSON.parse(new TextDecoder().decode(out.stdout)).format as {
    duration: string;
    size: string;
  };
  const seconds = Number(f.duration);
  return { seconds, bitsPerSecond: (Number(f.size) * 8) / seconds };
}

/** First line of a command's output (stdout or stderr), or "missing". */
export async function versionOf(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    return text.trim().split("\n")[0] ?? "";
  } catch {
    return "missing";
  }
}
