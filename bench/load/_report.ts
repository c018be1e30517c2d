/**
 * The fan-out runners' report: number formats, the results table from
 * shared and protocol-specific columns, ratio cells, RSS growth per player,
 * the notes every run may need, and the results file.
 *
 * @module
 */

import type { Measured } from "./_runner.ts";

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
export type Column<R> = [head: string, cell: (r: R) => string];

/** The columns both runners show, by name. */
export function columns(expectedMbps: number) {
  return {
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
    mbitPerCpu: ["Mbit per CPU-s", (r) => f0(r.mbitPerCpuSecond)],
    rss: [
      "RSS 0 players / mean / peak MiB",
      (r) =>
        `${f1(r.baselineRssBytes / MIB)} / ${
          f1(r.server.rssMeanBytes / MIB)
        } / ${f1(r.server.rssPeakBytes / MIB)}`,
    ],
    kib: ["KiB per player", (r) => f1(r.kibPerPlayer)],
    ttff: [
      "TTFF p50 / p95 / max ms",
      (r) => `${f0(r.ttffMs.p50)} / ${f0(r.ttffMs.p95)} / ${f0(r.ttffMs.max)}`,
    ],
    clientCpu: ["client CPU %", (r) => r.clientCpuPercent.map(f0).join("+")],
    machineBusy: ["machine busy %", (r) => f0(r.machineBusyPercent)],
  } satisfies Record<string, Column<Measured>>;
}

/** One row a run: its `key` cells, then `failed: …` or the `cells`. */
export function resultsTable<R extends Measured>(
  results: R[],
  key: Column<R>[],
  cells: Column<R>[],
): string {
  const head = [...key, ...cells].map(([h]) => h);
  const rows = results.map((r) => [
    ...key.map(([, cell]) => cell(r)),
    ...(r.error !== undefined
      ? [`failed: ${r.error}`, ...Array(cells.length - 1).fill("")]
      : cells.map(([, cell]) => cell(r))),
  ]);
  return table(head, rows);
}

/** `f(s) / f(p)` with two decimals, or "–" when either run is missing. */
export function ratioCell<R>(
  s: R | undefined,
  p: R | undefined,
  f: (r: R) => number,
): string {
  return s && p ? f2(f(s) / f(p)) : "–";
}

/**
 * RSS growth per added player between consecutive N, one row a group (runs
 * whose `keyOf` is the group's key): less noisy than one run against its own
 * baseline.
 */
export function slopeTable<R extends Measured>(
  results: R[],
  ns: number[],
  keyHead: string[],
  groups: string[][],
  keyOf: (r: R) => string[],
): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const head = [
    ...keyHead,
    ...sorted.slice(1).map((n, i) => `KiB/player ${sorted[i]}→${n}`),
  ];
  const rows = groups.map((g) => {
    const at = (n: number) =>
      results.find((r) =>
        r.n === n && r.error === undefined && keyOf(r).join() === g.join()
      );
    const row = [...g];
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
    return row;
  });
  return table(head, rows);
}

/** The notes every run may need: player errors, a server that exited, a client at its limit. */
export function notesOf(name: string, r: Measured): string[] {
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
  return notes;
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
  /** The line above the ratio table: which way is better. */
  ratioNote: string;
  ratios: string;
  /** Omitted with one N. */
  slope?: string;
  notes: string[];
}

/** Prints the report and writes it to `bench/load/results/<prefix><date>.md`. */
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
    parts.ratioNote,
    "",
    parts.ratios,
    "",
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
