/**
 * Sluice as the HLS load benchmarks run it: `server.ts` in its own process,
 * as `deno task start` runs it, RTMP in and HTTP out on loopback, no RTSP.
 *
 * @module
 */
import { type Running, spawn } from "./_proc.ts";
import { sluiceRunFlags } from "./_sluice_run.ts";

/** Starts Sluice with RTMP on `rtmpPort`, HTTP on `httpPort` and `flags` besides. */
export function spawnHlsSluice(
  repo: string,
  ports: { rtmp: number; http: number },
  flags: string[],
  logPath: string,
): Running {
  return spawn(
    Deno.execPath(),
    [
      "run",
      "-A",
      ...sluiceRunFlags(),
      `${repo}server.ts`,
      ...["--rtmp-address", `127.0.0.1:${ports.rtmp}`, "--rtsp", "false"],
      ...["--http-address", `127.0.0.1:${ports.http}`, "--log-level", "warn"],
      ...flags,
    ],
    logPath,
    repo,
  );
}
