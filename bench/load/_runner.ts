/**
 * The fan-out runner's machinery, whatever the protocol: the processes to
 * stop on errors and signals, one run's warm-up and measured window with its
 * CPU, RSS, TCP and UDP sampling, the sums over the players (rates, ratios,
 * TTFF percentiles), and the loop over every case with its hard limit. The
 * load client processes are in `_clients.ts`, the report in `_report.ts`.
 *
 * @module
 */

import {
  type ClientOptions,
  type ClientSpec,
  startClients,
} from "./_clients.ts";
import type { ServerKind } from "./_peers.ts";
import { type Running, sleep } from "./_proc.ts";
import {
  machineCpu,
  sampleTree,
  tcpOutSegments,
  TreeSampler,
  type TreeUsage,
  udpCounters,
} from "./_usage.ts";

/** The runner's flags every protocol takes. */
export interface RunnerOptions extends ClientOptions {
  ns: number[];
  runTimeoutSeconds: number;
}

/** Every process started and not yet stopped, for cleanup on errors and signals. */
export const live: Set<Running> = new Set<Running>();

/** Stops every process in {@link live}. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
  live.clear();
}

/** On SIGINT and SIGTERM, stops every process started, then exits with 130. */
export function stopAllOnSignals(): void {
  const onSignal = () => {
    console.error("interrupted: stopping every process started");
    stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
}

/** What one run measured, whatever the protocol. */
export interface Measured {
  n: number;
  /** Players with a first frame (RTMP and HTTP-FLV: a keyframe; RTSP: a video packet). */
  gotVideo: number;
  /** Players with a first keyframe. */
  gotKeyframe: number;
  wallSeconds: number;
  server: TreeUsage;
  baselineRssBytes: number;
  deliveredMbps: number;
  perPlayerRatioMean: number;
  perPlayerRatioMin: number;
  /** The probe player's own rate over the window (Mbit/s), when it stays for the run. */
  probeMbps?: number;
  mbitPerCpuSecond: number;
  kibPerPlayer: number;
  ttffMs: { p50?: number; p95?: number; max?: number };
  ttffPlayP50Ms?: number;
  /** From asking to play to the first keyframe. */
  keyframePlayMs: { p50?: number; p95?: number };
  clientCpuPercent: number[];
  publisherCpuPercent?: number;
  machineBusyPercent: number;
  /** TCP segments per second, whole machine (players' ACKs included). */
  tcpSegmentsPerSecond: number;
  udpOutPerSecond: number;
  udpRcvbufDropsPerSecond: number;
  errors: Record<string, number>;
  serverAliveAtEnd: boolean;
  serverLogTail: string;
}

/** One run that measured. */
export interface MeasuredRun extends Measured {
  kind: ServerKind;
  error?: undefined;
  /** Which of the runner's rounds it belongs to (from 1), where there are several. */
  round?: number;
}

/** One run that failed: its case and its error, no figures. */
export interface FailedRun {
  kind: ServerKind;
  n: number;
  error: string;
  round?: number;
}

/** What one (server, N) case gave. */
export type RunResult = MeasuredRun | FailedRun;

/** One run against a started server: what {@link measure} needs. */
export interface RunSpec {
  server: Running & {
    readonly logPath: string;
    /** The ffmpeg that publishes, if this run has one. */
    readonly publisher?: Running;
  };
  n: number;
  /** Bit rate of the input, bit/s. */
  bitsPerSecond: number;
  /** The run's temporary directory (client logs). */
  dir: string;
  clients: ClientSpec;
  /** Beyond the time the waves take, how long the players may take to get a frame. */
  readyMs: number;
  /** How long the clients may take to stop and answer `final`. */
  finalMs: number;
  /** Bytes a probe player that stays for the run has read so far. */
  probeBytes?: () => number;
}

/**
 * Reads the server's RSS without players (after 1 s to settle), starts the
 * players, waits until all of them have a frame or an error, waits out the
 * warm-up, measures for `opts.seconds` and stops the players.
 */
export async function measure(
  spec: RunSpec,
  opts: RunnerOptions,
): Promise<Measured> {
  const { server, n } = spec;
  await sleep(1000);
  let base = 0;
  for (let i = 0; i < 4; i++) {
    base += sampleTree(server.pid).rssBytes / 4;
    await sleep(250);
  }

  const clients = startClients(n, opts, spec.dir, spec.clients);
  for (const c of clients) live.add(c);
  const startMs = (n / opts.waveSize / opts.clientProcs) * opts.waveMs +
    spec.readyMs;
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
  const probe0 = { bytes: spec.probeBytes?.() ?? 0, at: performance.now() };
  await Promise.all(clients.map((c) => c.send("mark")));
  const first = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
  await sleep(opts.seconds * 1000);
  await Promise.all(clients.map((c) => c.send("mark")));
  const last = await Promise.all(clients.map((c) => c.next("mark", 10_000)));
  const probe1 = { bytes: spec.probeBytes?.() ?? 0, at: performance.now() };
  const serverUsage = serverSampler.stop();
  const clientUsage = clientSamplers.map((s) => s.stop());
  const pubUsage = pubSampler?.stop();
  const m1 = machineCpu();
  const segs1 = tcpOutSegments();
  const udp1 = udpCounters();
  const serverAliveAtEnd = !server.exited;

  for (const c of clients) await c.send("stop");
  const finals = await Promise.all(
    clients.map((c) => c.next("final", spec.finalMs).catch(() => undefined)),
  );

  // Per player: bytes in the window, over that client's own window.
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
      ratios.push(bits / wall / spec.bitsPerSecond);
      if (b.ttffConnectMs[i] !== null) ttff.push(b.ttffConnectMs[i]!);
      if (b.ttffPlayMs[i] !== null) ttffPlay.push(b.ttffPlayMs[i]!);
      const key = b.keyframePlayMs?.[i];
      if (key !== undefined && key !== null) keyPlay.push(key);
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
    n,
    gotVideo: ttff.length,
    gotKeyframe: keyPlay.length,
    wallSeconds,
    server: serverUsage,
    baselineRssBytes: base,
    deliveredMbps,
    perPlayerRatioMean: ratios.reduce((x, y) => x + y, 0) / n,
    perPlayerRatioMin: Math.min(...ratios),
    probeMbps: spec.probeBytes === undefined
      ? undefined
      : ((probe1.bytes - probe0.bytes) * 8) /
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
}

/** Nearest-rank percentile of `values` (sorted copy), `undefined` when empty. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[
    Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  ];
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

/** How {@link runEach} runs one case. */
export interface EachSpec {
  /** `sluice N=10`: in progress lines, timeouts and notes. */
  name(c: { kind: ServerKind; n: number }): string;
  /** The hard limit without `--run-timeout`, beyond warm-up, window and waves. */
  slackSeconds: number;
  run(kind: ServerKind, n: number): Promise<Measured>;
  /** Called with every result as it comes (the progress line). */
  onResult(r: RunResult): void;
}

/**
 * Runs every case in order, each within its hard limit; a case that fails
 * or times out stops every process and becomes a {@link FailedRun}.
 */
export async function runEach(
  cases: { kind: ServerKind; n: number }[],
  opts: RunnerOptions,
  spec: EachSpec,
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const c of cases) {
    const budget = opts.runTimeoutSeconds > 0
      ? opts.runTimeoutSeconds
      : spec.slackSeconds + opts.warmup + opts.seconds +
        (c.n / opts.waveSize) * (opts.waveMs / 1000);
    const name = spec.name(c);
    console.error(`… ${name}`);
    let r: RunResult;
    try {
      const m = await withTimeout(spec.run(c.kind, c.n), budget * 1000, name);
      r = { kind: c.kind, ...m };
    } catch (e) {
      await stopAll();
      r = { ...c, error: e instanceof Error ? e.message : String(e) };
    }
    results.push(r);
    spec.onResult(r);
    await sleep(1000);
  }
  return results;
}
