import assert from "node:assert/strict";
import { resultsTable, roundsTable } from "../../bench/load/_report.ts";
import type { ServerKind } from "../../bench/load/_peers.ts";
import type { MeasuredRun, RunResult } from "../../bench/load/_runner.ts";

/** A measured run with only what the round tables read. */
function run(
  kind: ServerKind,
  round: number,
  mbitPerCpuSecond: number,
  cpuPercent: number,
): MeasuredRun {
  return {
    kind,
    n: 1000,
    round,
    mbitPerCpuSecond,
    server: { cpuPercent },
  } as unknown as MeasuredRun;
}

/** The body rows of a markdown table, cells trimmed. */
function rows(table: string): string[][] {
  return table.split("\n").slice(2).map((line) =>
    line.split("|").slice(1, -1).map((c) => c.trim())
  );
}

Deno.test("roundsTable gives each round's ratio, their median and range", () => {
  const results: RunResult[] = [
    run("sluice", 1, 15_000, 16),
    run("nginx", 1, 10_000, 24),
    run("nginx", 2, 9_000, 27),
    run("sluice", 2, 18_000, 13.5),
    run("sluice", 3, 16_000, 15),
    run("nginx", 3, 10_000, 24.5),
  ];
  const [row] = rows(roundsTable(results, ["nginx"], [1000]));
  assert.deepEqual(row, [
    "1000",
    "nginx",
    "1.50, 2.00, 1.60",
    "1.60",
    "1.50–2.00",
    "16.0/24.0, 13.5/27.0, 15.0/24.5",
  ]);
});

Deno.test("roundsTable leaves out a round where a run failed", () => {
  const results: RunResult[] = [
    run("sluice", 1, 15_000, 16),
    run("nginx", 1, 10_000, 24),
    { kind: "nginx", n: 1000, round: 2, error: "exited" },
    run("sluice", 2, 18_000, 13.5),
  ];
  const [row] = rows(roundsTable(results, ["nginx"], [1000]));
  assert.equal(row![2], "1.50, –");
  assert.equal(row![3], "1.50");
  assert.equal(row![4], "1.50–1.50");
});

Deno.test("resultsTable names the round of each run only where there are rounds", () => {
  const cells: [string, (r: MeasuredRun) => string][] = [
    ["Mbit per CPU-s", (r) => String(r.mbitPerCpuSecond)],
  ];
  const once = resultsTable(
    [{ ...run("sluice", 1, 1, 1), round: undefined }],
    cells,
  );
  assert.deepEqual(rows(once), [["sluice", "1000", "1"]]);
  const twice = resultsTable(
    [run("sluice", 1, 1, 1), run("sluice", 2, 2, 1)],
    cells,
  );
  assert.deepEqual(rows(twice), [["1", "sluice", "1000", "1"], [
    "2",
    "sluice",
    "1000",
    "2",
  ]]);
});
