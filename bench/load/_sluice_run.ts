/**
 * How the benchmarks run `server.ts`: as `deno task start` runs it, a
 * 4 MiB semi-space keeping the young generation from growing to ~50 MiB on
 * write churn and the old generation collected before it grows by half,
 * plus what the environment adds for a look inside:
 *
 * - `BENCH_SLUICE_V8_FLAGS`: V8 flags, comma-separated (`--prof`, `--trace-gc`);
 * - `BENCH_V8_PROF=<folder>`: V8's tick profile of the server goes there
 *   (read it with `node --prof-process`);
 * - `BENCH_SLUICE_DENO_FLAGS`: Deno flags, space-separated
 *   (`--inspect=127.0.0.1:9229` for a heap or CPU profile).
 *
 * @module
 */

import { START_V8_FLAGS } from "../../tests/_util/server_process.ts";

const V8_FLAGS = START_V8_FLAGS.slice("--v8-flags=".length).split(",");

/** The flags of `deno run -A` before `server.ts`. */
export function sluiceRunFlags(): string[] {
  const v8 = [...V8_FLAGS];
  const extra = Deno.env.get("BENCH_SLUICE_V8_FLAGS");
  if (extra) v8.push(...extra.split(",").filter((f) => f !== ""));
  const prof = Deno.env.get("BENCH_V8_PROF");
  if (prof) v8.push("--prof", `--logfile=${prof}/v8-%p.log`);
  const deno = (Deno.env.get("BENCH_SLUICE_DENO_FLAGS") ?? "").split(" ")
    .filter((f) => f !== "");
  return [...deno, `--v8-flags=${v8.join(",")}`];
}
