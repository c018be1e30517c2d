/**
 * The fan-out runner's report: number formats, the results table from
 * shared and protocol-specific columns, the ratios Sluice/peer, RSS growth
 * per player, the notes a run may need, the progress line, and the results
 * file.
 *
 * @module
 */

import type { ServerKind } from "./_peers.ts";
import type { Protocol } from "./_players/mod.ts";
import { type MeasuredRun, percentile, type RunResult } from "./_runner.ts";

const MIB = 1024 * 1024;

/** `x` with no decimals, or "–". */
export const f0 = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(0);
/** `x` with one decimal, or "–". */
export const f1 = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(1);
/** `x` with two decimals, or "–". */
export const f2 = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2);

/** A Markdown table. */
export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** A column of the results table: its heading and its cell. */
export type Column = [head: string, cell: (r: MeasuredRun) => string];

/** The columns of the results table, by name. */
function columns(expectedMbps: number) {
  return {
    got: [
      "got video / keyframe",
      (r) => `${r.gotVideo} / ${r.gotKeyframe} of ${r.n}`,
    ],
    cpu: [
      "server CPU % (sys)",
      (r) => `${f1(r.server.cpuPercent)} (${f1(r.server.systemPercent)})`,
    ],
    delivered: [
      `delivered Mbit/s (expected ${f2(expectedMbps)}×N)`,
      (r) => f1(r.deliveredMbps),
    ],
    ratio: [
      "per player ratio mean / min",
      (r) => `${f2(r.perPlayerRatioMean)} / ${f2(r.perPlayerRatioMin)}`,
    ],
    probe: ["probe Mbit/s", (r) => f2(r.probeMbps)],
    mbitPerCpu: ["Mbit per CPU-s", (r) => f0(r.mbitPerCpuSecond)],
    rss: [
      "RSS 0 players / mean / peak MiB",
      (r) =>
        `${f1(r.baselineRssBytes / MIB)} / ${
          f1(r.server.rssMeanBytes / MIB)
        } / ${f1(r.server.rssPeakBytes / MIB)}`,
    ],
    kib: ["KiB per player", (r) => f1(r.kibPerPlayer)],
    faults: ["server page faults/s", (r) => f0(r.server.faultsPerSecond)],
    ttff: [
      "TTFF p50 / p95 / max ms",
      (r) => `${f0(r.ttffMs.p50)} / ${f0(r.ttffMs.p95)} / ${f0(r.ttffMs.max)}`,
    ],
    ttffPlay: ["TTFF from play p50 ms", (r) => f0(r.ttffPlayP50Ms)],
    keyframePlay: [
      "keyframe from play p50 / p95 ms",
      (r) => `${f0(r.keyframePlayMs.p50)} / ${f0(r.keyframePlayMs.p95)}`,
    ],
    clientCpu: ["client CPU %", (r) => r.clientCpuPercent.map(f0).join("+")],
    machineBusy: ["machine busy %", (r) => f0(r.machineBusyPercent)],
    tcpSegments: [
      "TCP segments/s (machine)",
      (r) => f0(r.tcpSegmentsPerSecond),
    ],
    udp: [
      "UDP datagrams out/s / rcvbuf drops/s",
      (r) => `${f0(r.udpOutPerSecond)} / ${f0(r.udpRcvbufDropsPerSecond)}`,
    ],
  } satisfies Record<string, Column>;
}

/**
 * The results table's columns for `protocol`: RTSP (and RTSPS) adds the probe's rate
 * and the keyframe time (its first frame is any video packet), UDP shows
 * datagrams where TCP shows segments.
 */
export function columnsOf(protocol: Protocol, expectedMbps: number): Column[] {
  const c = columns(expectedMbps);
  const rtsp = protocol.startsWith("rtsp");
  return [
    c.got,
    c.cpu,
    c.delivered,
    c.ratio,
    ...(rtsp ? [c.probe] : []),
    c.mbitPerCpu,
    c.rss,
    c.kib,
    c.faults,
    c.ttff,
    c.ttffPlay,
    ...(rtsp ? [c.keyframePlay] : []),
    c.clientCpu,
    c.machineBusy,
    protocol === "rtsp-udp" || protocol === "rtsp-srtp" ? c.udp : c.tcpSegments,
  ];
}

/** One row a run: server and N, then `failed: …` or the `cells`. */
export function resultsTable(results: RunResult[], cells: Column[]): string {
  const rounds = results.some((r) => r.round !== undefined);
  const head = [
    ...(rounds ? ["round"] : []),
    "server",
    "N",
    ...cells.map(([h]) => h),
  ];
  const rows = results.map((r) => [
    ...(rounds ? [String(r.round ?? "")] : []),
    r.kind,
    String(r.n),
    ...(r.error !== undefined
      ? [`failed: ${r.error}`, ...Array(cells.length - 1).fill("")]
      : cells.map(([, cell]) => cell(r))),
  ]);
  return table(head, rows);
}

/** The run of `kind` at `n` that measured, if any. */
function runOf(
  results: RunResult[],
  kind: ServerKind,
  n: number,
): MeasuredRun | undefined {
  const r = results.find((r) => r.kind === kind && r.n === n);
  return r?.error === undefined ? r : undefined;
}

/**
 * Sluice against each peer, one row per N and peer: delivered, server CPU,
 * Mbit per CPU-second, mean RSS and KiB per player, each sluice/peer.
 */
export function ratioTable(
  results: RunResult[],
  peers: readonly ServerKind[],
  ns: number[],
): string {
  const rows: string[][] = [];
  for (const n of ns) {
    const s = runOf(results, "sluice", n);
    for (const peer of peers) {
      const p = runOf(results, peer, n);
      const ratio = (f: (r: MeasuredRun) => number) =>
        s && p ? f2(f(s) / f(p)) : "–";
      rows.push([
        String(n),
        peer,
        ratio((r) => r.deliveredMbps),
        ratio((r) => r.server.cpuPercent),
        ratio((r) => r.mbitPerCpuSecond),
        ratio((r) => r.server.rssMeanBytes),
        ratio((r) => r.kibPerPlayer),
      ]);
    }
  }
  return table([
    "N",
    "peer",
    "delivered sluice/peer",
    "server CPU sluice/peer",
    "Mbit per CPU-s sluice/peer",
    "mean RSS sluice/peer",
    "KiB per player sluice/peer",
  ], rows);
}

/**
 * Sluice's Mbit per CPU-second over each peer's, round by round, with the
 * median (nearest rank) and the range: one run beside a peer swings with the peer's own
 * CPU from run to run, so a claim rests on several rounds, not one.
 * Rounds where either run failed are left out.
 */
export function roundsTable(
  results: RunResult[],
  peers: readonly ServerKind[],
  ns: number[],
): string {
  const rounds = [...new Set(results.map((r) => r.round ?? 1))].sort((a, b) =>
    a - b
  );
  const rows: string[][] = [];
  for (const n of ns) {
    for (const peer of peers) {
      const ratios: number[] = [];
      const cells: string[] = [];
      const cpu: string[] = [];
      for (const round of rounds) {
        const inRound = results.filter((r) => (r.round ?? 1) === round);
        const s = runOf(inRound, "sluice", n);
        const p = runOf(inRound, peer, n);
        if (s === undefined || p === undefined) {
          cells.push("–");
          continue;
        }
        const ratio = s.mbitPerCpuSecond / p.mbitPerCpuSecond;
        ratios.push(ratio);
        cells.push(f2(ratio));
        cpu.push(`${f1(s.server.cpuPercent)}/${f1(p.server.cpuPercent)}`);
      }
      rows.push([
        String(n),
        peer,
        cells.join(", "),
        f2(percentile(ratios, 50)),
        ratios.length > 0
          ? `${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}`
          : "–",
        cpu.join(", "),
      ]);
    }
  }
  return table([
    "N",
    "peer",
    "Mbit per CPU-s sluice/peer, by round",
    "median",
    "range",
    "server CPU % sluice/peer, by round",
  ], rows);
}

/**
 * RSS growth per added player between consecutive N, one row per server:
 * less noisy than one run against its own baseline.
 */
export function slopeTable(
  results: RunResult[],
  kinds: readonly ServerKind[],
  ns: number[],
): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const head = [
    "server",
    ...sorted.slice(1).map((n, i) => `KiB/player ${sorted[i]}→${n}`),
  ];
  const rows = kinds.map((kind) => {
    const row: string[] = [kind];
    for (let i = 1; i < sorted.length; i++) {
      const a = runOf(results, kind, sorted[i - 1]!);
      const b = runOf(results, kind, sorted[i]!);
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

/**
 * The notes a run may need: player errors, a server that exited, a client
 * at its limit, UDP datagrams the players did not read in time, the
 * publisher's CPU.
 */
export function notesOf(name: string, r: MeasuredRun): string[] {
  const notes: string[] = [];
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
  return notes;
}

/** The line printed after each run. */
export function progressLine(r: RunResult): string {
  if (r.error !== undefined) return `  failed: ${r.error}`;
  return `  ${r.gotVideo}/${r.n} players, server CPU ${
    f1(r.server.cpuPercent)
  } %, ${f1(r.deliveredMbps)} Mbit/s (ratio ${f2(r.perPlayerRatioMean)}), ${
    f0(r.mbitPerCpuSecond)
  } Mbit/CPU-s, ${f1(r.kibPerPlayer)} KiB/player, TTFF p50 ${
    f0(r.ttffMs.p50)
  } ms, client CPU ${r.clientCpuPercent.map(f0).join("+")} %, UDP drops/s ${
    f0(r.udpRcvbufDropsPerSecond)
  }`;
}

/** The first line of the conditions: CPU, cores, kernel, load average. */
export function machineLine(): string {
  const cpu =
    /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"))
      ?.[1] ?? "?";
  return `- machine: ${cpu}, ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, load average at start ${
    Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
  }`;
}

/** The parts of a report, in order. */
export interface ReportParts {
  /** `RTMP fan-out`. */
  title: string;
  conditions: string;
  results: string;
  /** Omitted without peers. */
  ratios?: string;
  /** Omitted with one round. */
  rounds?: string;
  /** Omitted with one N. */
  slope?: string;
  notes: string[];
}

/**
 * Prints the report and writes it to `bench/load/results/<prefix><date>.md`.
 * Tables stand between blank lines, so `deno fmt` keeps them tables when a
 * report is pasted into a README.
 */
export function writeReport(
  repo: string,
  prefix: string,
  parts: ReportParts,
): void {
  const report = [
    `# ${parts.title}, ${new Date().toISOString()}`,
    "",
    parts.conditions,
    "",
    parts.results,
    "",
    ...(parts.ratios !== undefined
      ? [
        "Ratios sluice/peer (delivered and Mbit per CPU-second: better for Sluice when > 1; CPU, RSS and KiB per player: better when < 1):",
        "",
        parts.ratios,
        "",
      ]
      : []),
    ...(parts.rounds !== undefined
      ? [
        "Round by round (the ratios above are the first round's; the servers' order turns each round, so none always runs first):",
        "",
        parts.rounds,
        "",
      ]
      : []),
    ...(parts.slope !== undefined
      ? [
        "Server RSS growth per added player (mean RSS of one N against the next):",
        "",
        parts.slope,
        "",
      ]
      : []),
    ...(parts.notes.length > 0 ? ["Notes:", "", ...parts.notes, ""] : []),
  ].join("\n");
  console.log(report);
  const outDir = `${repo}/bench/load/results`;
  Deno.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, "-").slice(0, 16);
  Deno.writeTextFileSync(`${outDir}/${prefix}${stamp}.md`, report);
  console.error(`written to bench/load/results/${prefix}${stamp}.md`);
}
