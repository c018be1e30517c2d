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
  nmsRoot,
  type PeerPaths,
  SERVER_KINDS,
  type ServerKind,
  startPublisher,
  startServer,
  versionOf,
} from "./_peers.ts";
import { Player } from "./_players.ts";
import {
  columns,
  f0,
  f2,
  machineLine,
  notesOf,
  ratioCell,
  resultsTable,
  slopeTable,
  table,
  writeReport,
} from "./_report.ts";
import {
  benchPaths,
  flagReader,
  listFlag,
  live,
  measure,
  type Measured,
  prepare,
  runEach,
  type RunnerOptions,
  runnerOptions,
  sleep,
  stopAll,
} from "./_runner.ts";

interface Options extends RunnerOptions {
  servers: ServerKind[];
}

/** What one (server, N) run measured. */
interface RunResult extends Measured {
  kind: ServerKind;
}

function parseOptions(argv: string[]): Options {
  const get = flagReader(argv);
  const servers = listFlag(get, "servers", SERVER_KINDS);
  return { ...runnerOptions(get), servers };
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
  try {
    const server = await startServer(kind, paths, dir);
    live.add(server);
    const publisher = startPublisher(
      input.path,
      `rtmp://127.0.0.1:${server.port}/live/bench`,
      `${dir}/ffmpeg.log`,
    );
    live.add(publisher);
    await probe(server.port, 20_000);
    // measure() lets the server settle after the probe left, then reads its memory without players.
    const measured = await measure({
      server,
      publisher,
      n,
      bitsPerSecond: input.bitsPerSecond,
      dir,
      clients: { script: "_players.ts", port: server.port, closeMs: 5000 },
      readyMs: 15_000 + 10_000,
      finalMs: 15_000,
    }, opts);
    return { kind, ...measured };
  } finally {
    await stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---- report ----

function resultsTableOf(results: RunResult[], expectedMbps: number): string {
  const c = columns(expectedMbps);
  return resultsTable(results, [
    ["server", (r) => r.kind],
    ["N", (r) => String(r.n)],
  ], [
    ["got frame", (r) => `${r.gotVideo}/${r.n}`],
    c.cpu,
    c.delivered,
    c.ratio,
    c.mbitPerCpu,
    c.rss,
    c.kib,
    ["server page faults/s", (r) => f0(r.server.faultsPerSecond)],
    c.ttff,
    ["TTFF from play p50 ms", (r) => f0(r.ttffPlayP50Ms)],
    c.clientCpu,
    c.machineBusy,
    ["TCP segments/s (machine)", (r) => f0(r.tcpSegmentsPerSecond)],
  ]);
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
      row.push(ratioCell(s, p, (r) => r.mbitPerCpuSecond));
      row.push(ratioCell(s, p, (r) => r.kibPerPlayer));
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

async function conditions(
  paths: PeerPaths,
  input: { path: string; bitsPerSecond: number },
  opts: Options,
) {
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
    machineLine(),
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
  const paths = benchPaths();
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
  const input = await prepare(paths);
  const cond = await conditions(paths, input, opts);
  console.log(cond);

  // Servers interleaved per N, so drifting background load hits all of them alike.
  const cases = opts.ns.flatMap((n) =>
    opts.servers.map((kind) => ({ kind, n }))
  );
  const results = await runEach(cases, opts, {
    name: (c) => `${c.kind} N=${c.n}`,
    slackSeconds: 60,
    run: (c) => runOne(c.kind, c.n, opts, paths, input),
  });

  const notes = results.flatMap((r) =>
    r.error === undefined ? notesOf(`${r.kind} N=${r.n}`, r) : []
  );
  writeReport(paths.repo, "", {
    title: "RTMP fan-out",
    conditions: cond,
    results: resultsTableOf(results, input.bitsPerSecond / 1e6),
    ratioNote:
      "Ratios (Mbit per CPU-second: higher is better for Sluice when > 1; KiB per player: lower is better when < 1):",
    ratios: ratioTable(results, opts.ns),
    slope: opts.ns.length > 1
      ? slopeTable(
        results,
        opts.ns,
        ["server"],
        opts.servers.map((k) => [k]),
        (r) => [r.kind],
      )
      : undefined,
    notes,
  });
  Deno.exit(0);
}
