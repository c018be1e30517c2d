/**
 * The RTSP fan-out load benchmark: N RTSP players, over TCP interleaved and
 * over UDP, reading one ~2.5 Mbit/s H.264+AAC stream from Sluice and from
 * gst-rtsp-server (one shared media factory) in the same run. Reports server
 * CPU, RSS, delivered Mbit/s against the input's bit rate, players that got
 * video, time to first video packet and to the first keyframe, Mbit
 * delivered per CPU-second and memory per player, and the ratios
 * Sluice/GStreamer.
 *
 * ```
 * deno run -A bench/load/rtsp_fanout.ts [--n 10,100,500,1000] [--seconds 20]
 *   [--servers sluice,gst] [--transports tcp,udp] [--warmup 3] [--client-procs 1]
 * ```
 *
 * See bench/load/README.md for conditions and setup.
 *
 * @module
 */

import {
  ensureInput,
  freePort,
  type PeerPaths,
  probeInput,
  type Running,
  spawn,
  startPublisher,
  versionOf,
  waitForPort,
} from "./_peers.ts";
import { percentile } from "./_players.ts";
import {
  machineCpu,
  sampleTree,
  tcpOutSegments,
  TreeSampler,
  type TreeUsage,
  udpCounters,
} from "./_proc.ts";
import { RtspPlayer } from "./_rtsp_players.ts";

/** The RTSP servers the benchmark knows. */
const RTSP_SERVERS = ["sluice", "gst"] as const;
type RtspServerKind = typeof RTSP_SERVERS[number];
const TRANSPORTS = ["tcp", "udp"] as const;
type TransportKind = typeof TRANSPORTS[number];

/** python3-gst is a Debian package: pyenv's python3 cannot import gi. */
const PYTHON = "/usr/bin/python3";
const STREAM_PATH = "live/bench";

interface Options {
  ns: number[];
  seconds: number;
  warmup: number;
  servers: RtspServerKind[];
  transports: TransportKind[];
  clientProcs: number;
  readTickMs: number;
  waveSize: number;
  waveMs: number;
  keepAliveSeconds: number;
  runTimeoutSeconds: number;
}

/** A started RTSP server. */
interface RtspServerProc extends Running {
  readonly kind: RtspServerKind;
  /** The RTSP port players connect to. */
  readonly port: number;
  readonly logPath: string;
  /** Sluice only: the ffmpeg that publishes over RTMP. */
  publisher?: Running;
}

/** What one (server, transport, N) run measured. */
interface RunResult {
  kind: RtspServerKind;
  transport: TransportKind;
  n: number;
  error?: string;
  gotVideo: number;
  gotKeyframe: number;
  wallSeconds: number;
  server: TreeUsage;
  baselineRssBytes: number;
  deliveredMbps: number;
  perPlayerRatioMean: number;
  perPlayerRatioMin: number;
  /** The probe player's own rate over the window (Mbit/s): the stream as this server sends it to one player. */
  probeMbps: number;
  mbitPerCpuSecond: number;
  kibPerPlayer: number;
  ttffMs: { p50?: number; p95?: number; max?: number };
  ttffPlayP50Ms?: number;
  keyframePlayMs: { p50?: number; p95?: number };
  clientCpuPercent: number[];
  publisherCpuPercent?: number;
  machineBusyPercent: number;
  tcpSegmentsPerSecond: number;
  udpOutPerSecond: number;
  udpRcvbufDropsPerSecond: number;
  errors: Record<string, number>;
  serverAliveAtEnd: boolean;
  serverLogTail: string;
}

const MIB = 1024 * 1024;

function parseOptions(argv: string[]): Options {
  const get = (name: string, fallback: string) => {
    const i = argv.findIndex((a) =>
      a === `--${name}` || a.startsWith(`--${name}=`)
    );
    if (i < 0) return fallback;
    const a = argv[i]!;
    return a.includes("=")
      ? a.slice(a.indexOf("=") + 1)
      : argv[i + 1] ?? fallback;
  };
  const list = <T extends string>(
    name: string,
    known: readonly T[],
  ): T[] => {
    const out = get(name, known.join(",")).split(",").map((s) => s.trim());
    for (const s of out) {
      if (!known.includes(s as T)) {
        throw new Error(
          `Cannot use --${name} "${s}": expected ${known.join(", ")}`,
        );
      }
    }
    return out as T[];
  };
  const opts: Options = {
    ns: get("n", "10,100,500,1000").split(",").map(Number),
    seconds: Number(get("seconds", "20")),
    warmup: Number(get("warmup", "3")),
    servers: list("servers", RTSP_SERVERS),
    transports: list("transports", TRANSPORTS),
    clientProcs: Number(get("client-procs", "1")),
    readTickMs: Number(get("read-tick-ms", "50")),
    waveSize: Number(get("wave-size", "50")),
    waveMs: Number(get("wave-ms", "100")),
    keepAliveSeconds: Number(get("keepalive", "20")),
    runTimeoutSeconds: Number(get("run-timeout", "0")),
  };
  for (const n of opts.ns) {
    if (!Number.isInteger(n) || n < 1 || n > 5000) {
      throw new Error(`Cannot run N "${n}": expected 1..5000`);
    }
  }
  if (!(opts.seconds > 0 && opts.seconds <= 600)) {
    throw new Error(`Cannot measure for "${opts.seconds}" s: expected 1..600`);
  }
  if (!(opts.warmup >= 0 && opts.warmup <= 60)) {
    throw new Error(`Cannot warm up for "${opts.warmup}" s: expected 0..60`);
  }
  if (!(opts.clientProcs >= 1 && opts.clientProcs <= 8)) {
    throw new Error("Cannot use --client-procs outside 1..8");
  }
  if (!(opts.keepAliveSeconds >= 0 && opts.keepAliveSeconds <= 55)) {
    throw new Error("Cannot use --keepalive outside 0..55 s");
  }
  return opts;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every process started and not yet stopped, for cleanup on errors and signals. */
const live = new Set<Running>();

async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
  live.clear();
}

// ---- servers ----

/** A UDP port nobody uses right now (bind to 0, read it, close). */
function freeUdpPort(): number {
  const s = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const port = (s.addr as Deno.NetAddr).port;
  s.close();
  return port;
}

/** Sluice with RTMP (for the publisher) and RTSP on fresh ports, plus the ffmpeg publisher. */
async function startSluice(
  paths: PeerPaths,
  dir: string,
  input: string,
): Promise<RtspServerProc> {
  const rtmpPort = freePort();
  const port = freePort();
  const logPath = `${dir}/sluice.log`;
  const proc = spawn(
    Deno.execPath(),
    [
      "run",
      "-A",
      `${paths.repo}/server.ts`,
      "--rtmp-address",
      `127.0.0.1:${rtmpPort}`,
      "--rtsp-address",
      `127.0.0.1:${port}`,
      "--rtp-address",
      `127.0.0.1:${freeUdpPort()}`,
      "--rtcp-address",
      `127.0.0.1:${freeUdpPort()}`,
      "--log-level",
      "warn",
    ],
    logPath,
    paths.repo,
  );
  const server: RtspServerProc = Object.assign(proc, {
    kind: "sluice" as const,
    port,
    logPath,
  });
  live.add(server);
  await waitForPort(port, 20_000, () => !proc.exited);
  await waitForPort(rtmpPort, 5_000, () => !proc.exited);
  server.publisher = startPublisher(
    input,
    `rtmp://127.0.0.1:${rtmpPort}/${STREAM_PATH}`,
    `${dir}/ffmpeg.log`,
  );
  live.add(server.publisher);
  return server;
}

/** gst_rtsp_server.py on a fresh port, serving `longInput`. */
async function startGst(
  dir: string,
  longInput: string,
): Promise<RtspServerProc> {
  const port = freePort();
  const logPath = `${dir}/gst.log`;
  const proc = spawn(
    PYTHON,
    [
      new URL("./gst_rtsp_server.py", import.meta.url).pathname,
      String(port),
      longInput,
    ],
    logPath,
    dir,
  );
  const server: RtspServerProc = Object.assign(proc, {
    kind: "gst" as const,
    port,
    logPath,
  });
  live.add(server);
  await waitForPort(port, 20_000, () => !proc.exited);
  return server;
}

/**
 * The input copied end to end into one file of at least `seconds`
 * (`ffmpeg -stream_loop K -c copy`: timestamps keep increasing across the
 * copies). gst-rtsp-server plays a file once: flvdemux stops at the second
 * FLV header that `multifilesrc loop=true` would feed it.
 */
async function ensureLongInput(
  input: string,
  seconds: number,
): Promise<string> {
  const path = input.replace(/\.flv$/, `_${seconds}s.flv`);
  try {
    if (Deno.statSync(path).size > 0) return path;
  } catch {
    // not there yet
  }
  const { seconds: once } = await probeInput(input);
  const tmp = `${path}.tmp.flv`;
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      "-stream_loop",
      String(Math.ceil(seconds / once)),
      "-i",
      input,
      "-c",
      "copy",
      "-t",
      String(seconds),
      "-f",
      "flv",
      tmp,
    ],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot make the long input: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  Deno.renameSync(tmp, path);
  return path;
}

// ---- load client processes ----

interface ClientLine {
  type: "ready" | "mark" | "final";
  atMs: number;
  bytes: number[];
  ttffConnectMs: (number | null)[];
  ttffPlayMs: (number | null)[];
  keyframePlayMs: (number | null)[];
  errors: (string | null)[];
}

/** One `_rtsp_players.ts` process, driven over stdin/stdout. */
class ClientProc implements Running {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ClientLine[] = [];
  #waiters: (() => void)[] = [];
  #eof = false;
  #exited = false;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;

  constructor(
    port: number,
    n: number,
    transport: TransportKind,
    opts: Options,
    repo: string,
    logPath: string,
  ) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-net",
        new URL("./_rtsp_players.ts", import.meta.url).pathname,
        `--port=${port}`,
        `--n=${n}`,
        `--path=${STREAM_PATH}`,
        `--transport=${transport}`,
        `--wave-size=${opts.waveSize}`,
        `--wave-ms=${opts.waveMs}`,
        `--read-tick-ms=${opts.readTickMs}`,
        `--keepalive-ms=${opts.keepAliveSeconds * 1000}`,
        `--max-seconds=${Math.ceil(opts.warmup + opts.seconds + 120)}`,
      ],
      cwd: repo,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#status = this.#child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    this.#reading = this.#read();
    const log = Deno.openSync(logPath, {
      write: true,
      create: true,
      truncate: true,
    });
    this.#child.stderr.pipeTo(log.writable).catch(() => {});
  }

  get pid(): number {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  async #read(): Promise<void> {
    let rest = "";
    try {
      for await (
        const text of this.#child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        rest += text;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line.startsWith("{")) this.#lines.push(JSON.parse(line));
        }
        this.#wake();
      }
    } finally {
      this.#eof = true;
      this.#wake();
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** The first line of `type` not taken yet, or an error after `timeoutMs` or at EOF. */
  async next(type: ClientLine["type"], timeoutMs: number): Promise<ClientLine> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => l.type === type);
      if (i >= 0) return this.#lines.splice(i, 1)[0]!;
      if (this.#eof) throw new Error(`load client exited before "${type}"`);
      const left = until - performance.now();
      if (left <= 0) {
        throw new Error(`load client sent no "${type}" within ${timeoutMs} ms`);
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        t = setTimeout(r, left);
      });
      clearTimeout(t);
    }
  }

  async send(cmd: "mark" | "stop"): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${cmd}\n`));
  }

  async stop(graceMs = 3000): Promise<void> {
    if (!this.#exited) {
      await this.send("stop").catch(() => {});
      // The players' TEARDOWNs and closes are bounded by 5 + 5 s.
      const t = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, graceMs + 12_000);
      await this.#status;
      clearTimeout(t);
    }
    await this.#stdin.close().catch(() => {});
    await Promise.race([this.#reading, sleep(1000)]);
  }
}

// ---- one run ----

/**
 * A TCP player that stays for the whole run: it proves the stream plays,
 * keeps a shared gst-rtsp-server media prepared (it is torn down when its
 * last client leaves), and measures what one player gets.
 */
async function probe(
  port: number,
  timeoutMs: number,
): Promise<{ player: RtspPlayer; done: Promise<unknown> }> {
  const until = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < until) {
    const p = new RtspPlayer(
      { hostname: "127.0.0.1", port, path: STREAM_PATH },
      { transport: "tcp", firstFrameTimeoutMs: 8000, readTickMs: 50 },
    );
    let keyframe!: () => void;
    const framed = new Promise<void>((r) => keyframe = r);
    const running = p.run(keyframe);
    await Promise.race([framed, running]);
    if (p.playing) return { player: p, done: running };
    await p.stop();
    const r = await running;
    last = r.error ?? "no keyframe";
    await sleep(500);
  }
  throw new Error(`Cannot play the stream over RTSP: ${last}`);
}

async function runOne(
  kind: RtspServerKind,
  transport: TransportKind,
  n: number,
  opts: Options,
  paths: PeerPaths,
  input: { path: string; longPath: string; bitsPerSecond: number },
): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: `sluice-rtsp-${kind}-` });
  let holder: { player: RtspPlayer; done: Promise<unknown> } | undefined;
  try {
    const server = kind === "sluice"
      ? await startSluice(paths, dir, input.path)
      : await startGst(dir, input.longPath);
    holder = await probe(server.port, 20_000);
    // Let the server settle, then read its memory with only the probe.
    await sleep(1000);
    let base = 0;
    for (let i = 0; i < 4; i++) {
      base += sampleTree(server.pid).rssBytes / 4;
      await sleep(250);
    }

    const clients: ClientProc[] = [];
    for (let i = 0; i < opts.clientProcs; i++) {
      const share = Math.floor(n / opts.clientProcs) +
        (i < n % opts.clientProcs ? 1 : 0);
      if (share === 0) continue;
      const c = new ClientProc(
        server.port,
        share,
        transport,
        opts,
        paths.repo,
        `${dir}/client${i}.log`,
      );
      clients.push(c);
      live.add(c);
    }
    // Waves, then at most the players' 20 s first-frame timeout, then slack.
    const startMs = (n / opts.waveSize / opts.clientProcs) * opts.waveMs +
      20_000 + 15_000;
    await Promise.all(clients.map((c) => c.next("ready", startMs)));
    await sleep(opts.warmup * 1000);

    const serverSampler = new TreeSampler(server.pid);
    const clientSamplers = clients.map((c) => new TreeSampler(c.pid, 1000));
    const pubSampler = server.publisher === undefined
      ? undefined
      : new TreeSampler(server.publisher.pid, 1000);
    const m0 = machineCpu();
    const segs0 = tcpOutSegments();
    const udp0 = udpCounters();
    serverSampler.start();
    for (const s of clientSamplers) s.start();
    pubSampler?.start();
    const probe0 = { bytes: holder.player.result.bytes, at: performance.now() };
    await Promise.all(clients.map((c) => c.send("mark")));
    const first = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
    await sleep(opts.seconds * 1000);
    await Promise.all(clients.map((c) => c.send("mark")));
    const last = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
    const probe1 = { bytes: holder.player.result.bytes, at: performance.now() };
    const serverUsage = serverSampler.stop();
    const clientUsage = clientSamplers.map((s) => s.stop());
    const pubUsage = pubSampler?.stop();
    const m1 = machineCpu();
    const segs1 = tcpOutSegments();
    const udp1 = udpCounters();
    const serverAliveAtEnd = !server.exited;

    for (const c of clients) await c.send("stop");
    const finals = await Promise.all(
      clients.map((c) => c.next("final", 20_000).catch(() => undefined)),
    );

    const ratios: number[] = [];
    let deliveredBits = 0;
    let wallSum = 0;
    const ttff: number[] = [];
    const ttffPlay: number[] = [];
    const keyPlay: number[] = [];
    const errors: Record<string, number> = {};
    for (let ci = 0; ci < clients.length; ci++) {
      const a = first[ci]!;
      const b = last[ci]!;
      const wall = (b.atMs - a.atMs) / 1000;
      wallSum += wall;
      for (let i = 0; i < b.bytes.length; i++) {
        const bits = (b.bytes[i]! - (a.bytes[i] ?? 0)) * 8;
        deliveredBits += bits / wall;
        ratios.push(bits / wall / input.bitsPerSecond);
        if (b.ttffConnectMs[i] !== null) ttff.push(b.ttffConnectMs[i]!);
        if (b.ttffPlayMs[i] !== null) ttffPlay.push(b.ttffPlayMs[i]!);
        if (b.keyframePlayMs[i] !== null) keyPlay.push(b.keyframePlayMs[i]!);
      }
      const end = finals[ci] ?? b;
      for (const e of end.errors) {
        if (e === null) continue;
        const key = e.replace(/\d+/g, "#").slice(0, 80);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
    const wallSeconds = wallSum / clients.length;
    const deliveredMbps = deliveredBits / 1e6;
    const busy = m1.busySeconds - m0.busySeconds;
    const total = m1.totalSeconds - m0.totalSeconds;
    const w = serverUsage.wallSeconds;
    return {
      kind,
      transport,
      n,
      gotVideo: ttff.length,
      gotKeyframe: keyPlay.length,
      wallSeconds,
      server: serverUsage,
      baselineRssBytes: base,
      deliveredMbps,
      perPlayerRatioMean: ratios.reduce((x, y) => x + y, 0) / n,
      perPlayerRatioMin: Math.min(...ratios),
      probeMbps: ((probe1.bytes - probe0.bytes) * 8) /
        ((probe1.at - probe0.at) / 1000) / 1e6,
      mbitPerCpuSecond: serverUsage.cpuSeconds > 0
        ? (deliveredMbps * wallSeconds) / serverUsage.cpuSeconds
        : 0,
      kibPerPlayer: (serverUsage.rssMeanBytes - base) / n / 1024,
      ttffMs: {
        p50: percentile(ttff, 50),
        p95: percentile(ttff, 95),
        max: percentile(ttff, 100),
      },
      ttffPlayP50Ms: percentile(ttffPlay, 50),
      keyframePlayMs: {
        p50: percentile(keyPlay, 50),
        p95: percentile(keyPlay, 95),
      },
      clientCpuPercent: clientUsage.map((u) => u.cpuPercent),
      publisherCpuPercent: pubUsage?.cpuPercent,
      machineBusyPercent: total > 0 ? (busy / total) * 100 : 0,
      tcpSegmentsPerSecond: (segs1 - segs0) / w,
      udpOutPerSecond: (udp1.outDatagrams - udp0.outDatagrams) / w,
      udpRcvbufDropsPerSecond: (udp1.rcvbufErrors - udp0.rcvbufErrors) / w,
      errors,
      serverAliveAtEnd,
      serverLogTail: tail(server.logPath, 5),
    };
  } finally {
    if (holder !== undefined) {
      await holder.player.stop();
      await Promise.race([holder.done, sleep(3000)]);
    }
    await stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function tail(path: string, lines: number): string {
  try {
    return Deno.readTextFileSync(path).trim().split("\n").slice(-lines).join(
      "\n",
    );
  } catch {
    return "";
  }
}

async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(
      () => reject(new Error(`${what}: hard timeout after ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

// ---- report ----

const f0 = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(0);
const f1 = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(1);
const f2 = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2);

function resultsTable(results: RunResult[], expectedMbps: number): string {
  const head = [
    "server",
    "transport",
    "N",
    "got video / keyframe",
    "server CPU % (sys)",
    `delivered Mbit/s (expected ${f2(expectedMbps)}×N)`,
    "per player ratio mean / min",
    "probe Mbit/s",
    "Mbit per CPU-s",
    "RSS 0 players / mean / peak MiB",
    "KiB per player",
    "TTFF p50 / p95 / max ms",
    "TTFF from PLAY p50 ms",
    "keyframe from PLAY p50 / p95 ms",
    "client CPU %",
    "machine busy %",
    "UDP datagrams out/s / rcvbuf drops/s",
  ];
  const rows = results.map((r) =>
    r.error !== undefined
      ? [
        r.kind,
        r.transport,
        String(r.n),
        `failed: ${r.error}`,
        ...Array(head.length - 4).fill(""),
      ]
      : [
        r.kind,
        r.transport,
        String(r.n),
        `${r.gotVideo} / ${r.gotKeyframe} of ${r.n}`,
        `${f1(r.server.cpuPercent)} (${f1(r.server.systemPercent)})`,
        f1(r.deliveredMbps),
        `${f2(r.perPlayerRatioMean)} / ${f2(r.perPlayerRatioMin)}`,
        f2(r.probeMbps),
        f0(r.mbitPerCpuSecond),
        `${f1(r.baselineRssBytes / MIB)} / ${
          f1(r.server.rssMeanBytes / MIB)
        } / ${f1(r.server.rssPeakBytes / MIB)}`,
        f1(r.kibPerPlayer),
        `${f0(r.ttffMs.p50)} / ${f0(r.ttffMs.p95)} / ${f0(r.ttffMs.max)}`,
        f0(r.ttffPlayP50Ms),
        `${f0(r.keyframePlayMs.p50)} / ${f0(r.keyframePlayMs.p95)}`,
        r.clientCpuPercent.map(f0).join("+"),
        f0(r.machineBusyPercent),
        `${f0(r.udpOutPerSecond)} / ${f0(r.udpRcvbufDropsPerSecond)}`,
      ]
  );
  return table(head, rows);
}

function ratioTable(
  results: RunResult[],
  transports: TransportKind[],
  ns: number[],
): string {
  const get = (k: RtspServerKind, t: TransportKind, n: number) =>
    results.find((r) =>
      r.kind === k && r.transport === t && r.n === n && r.error === undefined
    );
  const rows: string[][] = [];
  for (const t of transports) {
    for (const n of ns) {
      const s = get("sluice", t, n);
      const g = get("gst", t, n);
      const ratio = (f: (r: RunResult) => number) =>
        s && g ? f2(f(s) / f(g)) : "–";
      rows.push([
        t,
        String(n),
        ratio((r) => r.deliveredMbps),
        ratio((r) => r.server.cpuPercent),
        ratio((r) => r.mbitPerCpuSecond),
        ratio((r) => r.server.rssMeanBytes),
        ratio((r) => r.kibPerPlayer),
      ]);
    }
  }
  return table([
    "transport",
    "N",
    "delivered sluice/gst",
    "server CPU sluice/gst",
    "Mbit per CPU-s sluice/gst",
    "mean RSS sluice/gst",
    "KiB per player sluice/gst",
  ], rows);
}

/** RSS growth per added player between consecutive N: less noisy than one run against its own baseline. */
function slopeTable(results: RunResult[], opts: Options): string {
  const sorted = [...opts.ns].sort((a, b) => a - b);
  const head = [
    "server",
    "transport",
    ...sorted.slice(1).map((n, i) => `KiB/player ${sorted[i]}→${n}`),
  ];
  const rows: string[][] = [];
  for (const k of opts.servers) {
    for (const t of opts.transports) {
      const row: string[] = [k, t];
      const at = (n: number) =>
        results.find((r) =>
          r.kind === k && r.transport === t && r.n === n &&
          r.error === undefined
        );
      for (let i = 1; i < sorted.length; i++) {
        const a = at(sorted[i - 1]!);
        const b = at(sorted[i]!);
        row.push(
          a && b
            ? f1(
              (b.server.rssMeanBytes - a.server.rssMeanBytes) / (b.n - a.n) /
                1024,
            )
            : "–",
        );
      }
      rows.push(row);
    }
  }
  return table(head, rows);
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

async function conditions(
  input: { path: string; longPath: string; bitsPerSecond: number },
  opts: Options,
) {
  const cpu =
    /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))
      ?.[1] ?? "?";
  const [gst, rtspServer, ffmpeg] = await Promise.all([
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
    versionOf("ffmpeg", ["-version"]),
  ]);
  return [
    `- machine: ${cpu}, ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, load average at start ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    }`,
    `- deno ${Deno.version.deno} (v8 ${Deno.version.v8}); ${gst}, gst-rtsp-server ${rtspServer} (one shared media factory, python3-gst); ${
      ffmpeg.split(" Copyright")[0]
    }`,
    `- input: ${input.path.split("/").pop()}, ${
      f2(input.bitsPerSecond / 1e6)
    } Mbit/s measured (file size × 8 / duration). Sluice: ffmpeg -re -stream_loop -1 -c copy publishes it over RTMP. GStreamer: filesrc ! flvdemux of ${
      input.longPath.split("/").pop()
    } (the same file copied end to end)`,
    `- ${opts.warmup} s warm-up, ${opts.seconds} s measured; players in waves of ${opts.waveSize} every ${opts.waveMs} ms, ${opts.clientProcs} load client process(es), TCP read tick ${opts.readTickMs} ms, GET_PARAMETER every ${opts.keepAliveSeconds} s; one probe player (TCP) on top of N for the whole run; everything on 127.0.0.1`,
  ].join("\n");
}

// ---- main ----

if (import.meta.main) {
  const opts = parseOptions(Deno.args);
  const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const paths: PeerPaths = { repo, peers: `${repo}/bench/load/.peers` };
  if (opts.servers.includes("gst")) {
    const ok = await versionOf(PYTHON, [
      "-c",
      "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer; print('ok')",
    ]);
    if (ok !== "ok") {
      console.error(
        `${PYTHON} cannot import GstRtspServer (${ok}): run bench/load/setup.sh`,
      );
      Deno.exit(2);
    }
  }
  const onSignal = () => {
    console.error("interrupted: stopping every process started");
    stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const inputPath = await ensureInput(paths.peers);
  const { bitsPerSecond } = await probeInput(inputPath);
  // Long enough for the longest run: start, probe, waves, first frames, warm-up, window.
  const longSeconds = Math.ceil((opts.warmup + opts.seconds + 90) / 30) * 30;
  const longPath = opts.servers.includes("gst")
    ? await ensureLongInput(inputPath, longSeconds)
    : inputPath;
  const input = { path: inputPath, longPath, bitsPerSecond };
  const cond = await conditions(input, opts);
  console.log(cond);

  const results: RunResult[] = [];
  // Servers interleaved per N and transport, so drifting background load hits both alike.
  for (const n of opts.ns) {
    for (const transport of opts.transports) {
      for (const kind of opts.servers) {
        const budget = opts.runTimeoutSeconds > 0
          ? opts.runTimeoutSeconds
          : 80 + opts.warmup + opts.seconds +
            (n / opts.waveSize) * (opts.waveMs / 1000);
        console.error(`… ${kind} ${transport} N=${n}`);
        let r: RunResult;
        try {
          r = await withTimeout(
            runOne(kind, transport, n, opts, paths, input),
            budget * 1000,
            `${kind} ${transport} N=${n}`,
          );
        } catch (e) {
          await stopAll();
          r = {
            kind,
            transport,
            n,
            error: e instanceof Error ? e.message : String(e),
          } as RunResult;
        }
        results.push(r);
        if (r.error === undefined) {
          console.error(
            `  ${r.gotVideo}/${n} players, server CPU ${
              f1(r.server.cpuPercent)
            } %, ${f1(r.deliveredMbps)} Mbit/s (ratio ${
              f2(r.perPlayerRatioMean)
            }), ${f0(r.mbitPerCpuSecond)} Mbit/CPU-s, ${
              f1(r.kibPerPlayer)
            } KiB/player, client CPU ${
              r.clientCpuPercent.map(f0).join("+")
            } %, UDP drops/s ${f0(r.udpRcvbufDropsPerSecond)}`,
          );
        } else console.error(`  failed: ${r.error}`);
        await sleep(1000);
      }
    }
  }

  const expectedMbps = bitsPerSecond / 1e6;
  const notes: string[] = [];
  for (const r of results) {
    if (r.error !== undefined) continue;
    const name = `${r.kind} ${r.transport} N=${r.n}`;
    if (Object.keys(r.errors).length > 0) {
      notes.push(
        `- ${name} player errors: ${
          Object.entries(r.errors).map(([k, v]) => `${v}× ${k}`).join("; ")
        }`,
      );
    }
    if (!r.serverAliveAtEnd) {
      notes.push(
        `- ${name}: the server exited during the run: ${r.serverLogTail}`,
      );
    }
    if (r.clientCpuPercent.some((c) => c > 90)) {
      notes.push(
        `- ${name}: a load client process used > 90 % of a core: the client may be the bottleneck`,
      );
    }
    if (r.udpRcvbufDropsPerSecond > 10) {
      notes.push(
        `- ${name}: ${
          f0(r.udpRcvbufDropsPerSecond)
        } datagrams/s dropped at full receive buffers (the players did not read in time)`,
      );
    }
    if (r.publisherCpuPercent !== undefined) {
      notes.push(`- ${name}: publisher CPU ${f1(r.publisherCpuPercent)} %`);
    }
  }
  const report = [
    `# RTSP fan-out, ${new Date().toISOString()}`,
    "",
    cond,
    "",
    resultsTable(results, expectedMbps),
    "",
    "Ratios (Mbit per CPU-second: better for Sluice when > 1; RSS and KiB per player: better for Sluice when < 1):",
    "",
    ratioTable(results, opts.transports, opts.ns),
    "",
    ...(opts.ns.length > 1
      ? [
        "Server RSS growth per added player (mean RSS of one N against the next):",
        "",
        slopeTable(results, opts),
        "",
      ]
      : []),
    ...(notes.length > 0 ? ["Notes:", "", ...notes, ""] : []),
  ].join("\n");
  console.log(report);
  const outDir = `${repo}/bench/load/results`;
  Deno.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, "-").slice(0, 16);
  Deno.writeTextFileSync(`${outDir}/rtsp-${stamp}.md`, report);
  console.error(`written to bench/load/results/rtsp-${stamp}.md`);
  Deno.exit(0);
}
