/**
 * The RTMP fan-out load benchmark: one publisher of a ~2.5 Mbit/s H.264+AAC
 * stream, N RTMP players, Sluice beside nginx-rtmp and Node-Media-Server in
 * the same run. Reports server CPU, RSS, delivered Mbit/s against the input's
 * bit rate, time to first frame, Mbit delivered per CPU-second and memory per
 * player, and the ratios Sluice/peer.
 *
 * ```
 * deno run -A bench/load/rtmp_fanout.ts [--n 10,100,500,1000] [--seconds 20]
 *   [--servers sluice,nginx,nms] [--warmup 3] [--client-procs 1] [--read-tick-ms 50]
 * ```
 *
 * See bench/load/README.md for conditions and setup.
 *
 * @module
 */

import {
  ensureInput,
  nmsRoot,
  type PeerPaths,
  probeInput,
  type Running,
  type Server,
  SERVER_KINDS,
  type ServerKind,
  startPublisher,
  startServer,
  versionOf,
} from "./_peers.ts";
import { percentile, Player } from "./_players.ts";
import {
  machineCpu,
  sampleTree,
  tcpOutSegments,
  TreeSampler,
  type TreeUsage,
} from "./_proc.ts";

interface Options {
  ns: number[];
  seconds: number;
  warmup: number;
  servers: ServerKind[];
  clientProcs: number;
  readTickMs: number;
  waveSize: number;
  waveMs: number;
  runTimeoutSeconds: number;
}

/** What one (server, N) run measured. */
interface RunResult {
  kind: ServerKind;
  n: number;
  error?: string;
  ok: number;
  wallSeconds: number;
  server: TreeUsage;
  baselineRssBytes: number;
  deliveredMbps: number;
  perPlayerRatioMean: number;
  perPlayerRatioMin: number;
  mbitPerCpuSecond: number;
  kibPerPlayer: number;
  ttffMs: { p50?: number; p95?: number; max?: number };
  ttffPlayP50Ms?: number;
  clientCpuPercent: number[];
  publisherCpuPercent: number;
  machineBusyPercent: number;
  /** TCP segments per second, whole machine (players' ACKs included). */
  tcpSegmentsPerSecond: number;
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
  const servers = get("servers", SERVER_KINDS.join(",")).split(",").map((s) =>
    s.trim()
  ) as ServerKind[];
  for (const s of servers) {
    if (!SERVER_KINDS.includes(s)) {
      throw new Error(
        `Cannot run server "${s}": expected ${SERVER_KINDS.join(", ")}`,
      );
    }
  }
  const opts: Options = {
    ns: get("n", "10,100,500,1000").split(",").map(Number),
    seconds: Number(get("seconds", "20")),
    warmup: Number(get("warmup", "3")),
    servers,
    clientProcs: Number(get("client-procs", "1")),
    readTickMs: Number(get("read-tick-ms", "50")),
    waveSize: Number(get("wave-size", "50")),
    waveMs: Number(get("wave-ms", "100")),
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
  if (!(opts.clientProcs >= 1 && opts.clientProcs <= 8)) {
    throw new Error("Cannot use --client-procs outside 1..8");
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

// ---- load client processes ----

interface ClientLine {
  type: "ready" | "mark" | "final";
  atMs: number;
  bytes: number[];
  ttffConnectMs: (number | null)[];
  ttffPlayMs: (number | null)[];
  errors: (string | null)[];
}

/** One `_players.ts` process, driven over stdin/stdout. */
class ClientProc implements Running {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ClientLine[] = [];
  #waiters: (() => void)[] = [];
  #eof = false;
  #exited = false;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;

  constructor(port: number, n: number, opts: Options, logPath: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_players.ts", import.meta.url).pathname,
        `--port=${port}`,
        `--n=${n}`,
        `--wave-size=${opts.waveSize}`,
        `--wave-ms=${opts.waveMs}`,
        `--read-tick-ms=${opts.readTickMs}`,
        `--max-seconds=${Math.ceil(opts.warmup + opts.seconds + 120)}`,
      ],
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
      const t = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, graceMs + 5000);
      await this.#status;
      clearTimeout(t);
    }
    await this.#stdin.close().catch(() => {});
    await Promise.race([this.#reading, sleep(1000)]);
  }
}

// ---- one run ----

async function probe(port: number, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < until) {
    const p = new Player({
      hostname: "127.0.0.1",
      port,
      app: "live",
      stream: "bench",
    }, {
      firstFrameTimeoutMs: 6000,
      readTickMs: 0,
    });
    let resolveFrame!: () => void;
    const framed = new Promise<void>((r) => resolveFrame = r);
    const running = p.run(resolveFrame);
    await Promise.race([framed, running]);
    p.close();
    const r = await running;
    if (r.ttffConnectMs !== undefined) return r.ttffConnectMs;
    last = r.error ?? "no frame";
    await sleep(500);
  }
  throw new Error(`Cannot play the published stream: ${last}`);
}

async function runOne(
  kind: ServerKind,
  n: number,
  opts: Options,
  paths: PeerPaths,
  input: { path: string; bitsPerSecond: number },
): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: `sluice-load-${kind}-` });
  let server: Server | undefined;
  try {
    server = await startServer(kind, paths, dir);
    live.add(server);
    const publisher = startPublisher(
      input.path,
      `rtmp://127.0.0.1:${server.port}/live/bench`,
      `${dir}/ffmpeg.log`,
    );
    live.add(publisher);
    await probe(server.port, 20_000);
    // Let the server settle after the probe left, then read its memory without players.
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
        opts,
        `${dir}/client${i}.log`,
      );
      clients.push(c);
      live.add(c);
    }
    const startMs = (n / opts.waveSize / opts.clientProcs) * opts.waveMs +
      15_000 + 10_000;
    await Promise.all(clients.map((c) => c.next("ready", startMs)));
    await sleep(opts.warmup * 1000);

    const serverSampler = new TreeSampler(server.pid);
    const clientSamplers = clients.map((c) => new TreeSampler(c.pid, 1000));
    const pubSampler = new TreeSampler(publisher.pid, 1000);
    const m0 = machineCpu();
    const segs0 = tcpOutSegments();
    serverSampler.start();
    for (const s of clientSamplers) s.start();
    pubSampler.start();
    await Promise.all(clients.map((c) => c.send("mark")));
    const first = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
    await sleep(opts.seconds * 1000);
    await Promise.all(clients.map((c) => c.send("mark")));
    const last = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
    const serverUsage = serverSampler.stop();
    const clientUsage = clientSamplers.map((s) => s.stop());
    const pubUsage = pubSampler.stop();
    const m1 = machineCpu();
    const segs1 = tcpOutSegments();
    const serverAliveAtEnd = !server.exited;

    for (const c of clients) await c.send("stop");
    const finals = await Promise.all(
      clients.map((c) => c.next("final", 15_000).catch(() => undefined)),
    );

    // Per player: bytes in the window, over that client's own window.
    const ratios: number[] = [];
    let deliveredBits = 0;
    let wallSum = 0;
    const ttff: number[] = [];
    const ttffPlay: number[] = [];
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
    return {
      kind,
      n,
      ok: ttff.length,
      wallSeconds,
      server: serverUsage,
      baselineRssBytes: base,
      deliveredMbps,
      perPlayerRatioMean: ratios.reduce((x, y) => x + y, 0) / n,
      perPlayerRatioMin: Math.min(...ratios),
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
      clientCpuPercent: clientUsage.map((u) => u.cpuPercent),
      publisherCpuPercent: pubUsage.cpuPercent,
      machineBusyPercent: total > 0 ? (busy / total) * 100 : 0,
      tcpSegmentsPerSecond: (segs1 - segs0) / serverUsage.wallSeconds,
      errors,
      serverAliveAtEnd,
      serverLogTail: tail(server.logPath, 5),
    };
  } finally {
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
    "N",
    "got frame",
    "server CPU % (sys)",
    `delivered Mbit/s (expected ${f2(expectedMbps)}×N)`,
    "per player ratio mean / min",
    "Mbit per CPU-s",
    "RSS 0 players / mean / peak MiB",
    "KiB per player",
    "server page faults/s",
    "TTFF p50 / p95 / max ms",
    "TTFF from play p50 ms",
    "client CPU %",
    "machine busy %",
    "TCP segments/s (machine)",
  ];
  const rows = results.map((r) =>
    r.error !== undefined
      ? [
        r.kind,
        String(r.n),
        `failed: ${r.error}`,
        ...Array(head.length - 3).fill(""),
      ]
      : [
        r.kind,
        String(r.n),
        `${r.ok}/${r.n}`,
        `${f1(r.server.cpuPercent)} (${f1(r.server.systemPercent)})`,
        f1(r.deliveredMbps),
        `${f2(r.perPlayerRatioMean)} / ${f2(r.perPlayerRatioMin)}`,
        f0(r.mbitPerCpuSecond),
        `${f1(r.baselineRssBytes / MIB)} / ${
          f1(r.server.rssMeanBytes / MIB)
        } / ${f1(r.server.rssPeakBytes / MIB)}`,
        f1(r.kibPerPlayer),
        f0(r.server.faultsPerSecond),
        `${f0(r.ttffMs.p50)} / ${f0(r.ttffMs.p95)} / ${f0(r.ttffMs.max)}`,
        f0(r.ttffPlayP50Ms),
        r.clientCpuPercent.map(f0).join("+"),
        f0(r.machineBusyPercent),
        f0(r.tcpSegmentsPerSecond),
      ]
  );
  return table(head, rows);
}

function ratioTable(results: RunResult[], ns: number[]): string {
  const get = (k: ServerKind, n: number) =>
    results.find((r) => r.kind === k && r.n === n && r.error === undefined);
  const rows: string[][] = [];
  for (const n of ns) {
    const s = get("sluice", n);
    const row = [String(n)];
    for (const peer of ["nginx", "nms"] as const) {
      const p = get(peer, n);
      row.push(s && p ? f2(s.mbitPerCpuSecond / p.mbitPerCpuSecond) : "–");
      row.push(s && p ? f2(s.kibPerPlayer / p.kibPerPlayer) : "–");
    }
    rows.push(row);
  }
  return table([
    "N",
    "Mbit per CPU-s sluice/nginx",
    "KiB per player sluice/nginx",
    "Mbit per CPU-s sluice/nms",
    "KiB per player sluice/nms",
  ], rows);
}

/** RSS growth per added player between consecutive N: less noisy than one run against its own baseline. */
function slopeTable(
  results: RunResult[],
  kinds: ServerKind[],
  ns: number[],
): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const head = [
    "server",
    ...sorted.slice(1).map((n, i) => `KiB/player ${sorted[i]}→${n}`),
  ];
  const rows = kinds.map((k) => {
    const row: string[] = [k];
    for (let i = 1; i < sorted.length; i++) {
      const a = results.find((r) =>
        r.kind === k && r.n === sorted[i - 1] && r.error === undefined
      );
      const b = results.find((r) =>
        r.kind === k && r.n === sorted[i] && r.error === undefined
      );
      row.push(
        a && b
          ? f1(
            (b.server.rssMeanBytes - a.server.rssMeanBytes) / (b.n - a.n) /
              1024,
          )
          : "–",
      );
    }
    return row;
  });
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
  paths: PeerPaths,
  input: { path: string; bitsPerSecond: number },
  opts: Options,
) {
  const cpu =
    /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))
      ?.[1] ?? "?";
  let nms = "missing";
  try {
    nms = JSON.parse(Deno.readTextFileSync(`${nmsRoot(paths)}/package.json`))
      .version;
  } catch {
    // not installed
  }
  const [nginx, rtmpMod, node, ffmpeg] = await Promise.all([
    versionOf("nginx", ["-v"]),
    versionOf("dpkg-query", ["-W", "-f", "${Version}", "libnginx-mod-rtmp"]),
    versionOf("node", ["--version"]),
    versionOf("ffmpeg", ["-version"]),
  ]);
  return [
    `- machine: ${cpu}, ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, load average at start ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    }`,
    `- deno ${Deno.version.deno} (v8 ${Deno.version.v8}); ${nginx}, libnginx-mod-rtmp ${rtmpMod} (worker_processes 1, chunk_size 4096); node-media-server ${nms} on node ${node}; ${
      ffmpeg.split(" Copyright")[0]
    }`,
    `- input: ${input.path.split("/").pop()}, ${
      f2(input.bitsPerSecond / 1e6)
    } Mbit/s measured (file size × 8 / duration), published with ffmpeg -re -stream_loop -1 -c copy`,
    `- ${opts.warmup} s warm-up, ${opts.seconds} s measured; players in waves of ${opts.waveSize} every ${opts.waveMs} ms, ${opts.clientProcs} load client process(es), read tick ${opts.readTickMs} ms; everything on 127.0.0.1`,
  ].join("\n");
}

// ---- main ----

if (import.meta.main) {
  const opts = parseOptions(Deno.args);
  const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const paths: PeerPaths = { repo, peers: `${repo}/bench/load/.peers` };
  if (opts.servers.includes("nms")) {
    try {
      Deno.statSync(`${nmsRoot(paths)}/bin/app.js`);
    } catch {
      console.error(
        "node-media-server is not installed: run bench/load/setup.sh",
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
  const input = { path: inputPath, bitsPerSecond };
  const cond = await conditions(paths, input, opts);
  console.log(cond);

  const results: RunResult[] = [];
  // Servers interleaved per N, so drifting background load hits all of them alike.
  for (const n of opts.ns) {
    for (const kind of opts.servers) {
      const budget = opts.runTimeoutSeconds > 0
        ? opts.runTimeoutSeconds
        : 60 + opts.warmup + opts.seconds +
          (n / opts.waveSize) * (opts.waveMs / 1000);
      console.error(`… ${kind} N=${n}`);
      let r: RunResult;
      try {
        r = await withTimeout(
          runOne(kind, n, opts, paths, input),
          budget * 1000,
          `${kind} N=${n}`,
        );
      } catch (e) {
        await stopAll();
        r = {
          kind,
          n,
          error: e instanceof Error ? e.message : String(e),
        } as RunResult;
      }
      results.push(r);
      if (r.error === undefined) {
        console.error(
          `  ${r.ok}/${n} players, server CPU ${f1(r.server.cpuPercent)} %, ${
            f1(r.deliveredMbps)
          } Mbit/s (ratio ${f2(r.perPlayerRatioMean)}), ${
            f0(r.mbitPerCpuSecond)
          } Mbit/CPU-s, ${f1(r.kibPerPlayer)} KiB/player, client CPU ${
            r.clientCpuPercent.map(f0).join("+")
          } %`,
        );
      } else console.error(`  failed: ${r.error}`);
      await sleep(1000);
    }
  }

  const expectedMbps = bitsPerSecond / 1e6;
  const notes: string[] = [];
  for (const r of results) {
    if (r.error !== undefined) continue;
    if (Object.keys(r.errors).length > 0) {
      notes.push(
        `- ${r.kind} N=${r.n} player errors: ${
          Object.entries(r.errors).map(([k, v]) => `${v}× ${k}`).join("; ")
        }`,
      );
    }
    if (!r.serverAliveAtEnd) {
      notes.push(
        `- ${r.kind} N=${r.n}: the server exited during the run: ${r.serverLogTail}`,
      );
    }
    if (r.clientCpuPercent.some((c) => c > 90)) {
      notes.push(
        `- ${r.kind} N=${r.n}: a load client process used > 90 % of a core: the client may be the bottleneck`,
      );
    }
  }
  const report = [
    `# RTMP fan-out, ${new Date().toISOString()}`,
    "",
    cond,
    "",
    resultsTable(results, expectedMbps),
    "",
    "Ratios (Mbit per CPU-second: higher is better for Sluice when > 1; KiB per player: lower is better when < 1):",
    "",
    ratioTable(results, opts.ns),
    "",
    ...(opts.ns.length > 1
      ? [
        "Server RSS growth per added player (mean RSS of one N against the next):",
        "",
        slopeTable(results, opts.servers, opts.ns),
        "",
      ]
      : []),
    ...(notes.length > 0 ? ["Notes:", "", ...notes, ""] : []),
  ].join("\n");
  console.log(report);
  const outDir = `${repo}/bench/load/results`;
  Deno.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, "-").slice(0, 16);
  Deno.writeTextFileSync(`${outDir}/${stamp}.md`, report);
  console.error(`written to bench/load/results/${stamp}.md`);
  Deno.exit(0);
}
