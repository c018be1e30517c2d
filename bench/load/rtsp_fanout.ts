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
  ffmpegToFile,
  freePort,
  hasFile,
  type PeerPaths,
  probeInput,
  type Running,
  spawn,
  spawnSluice,
  startPublisher,
  versionOf,
  waitForPort,
} from "./_peers.ts";
import { RtspPlayer } from "./_rtsp_players.ts";
import {
  columns,
  f0,
  f1,
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

/** The RTSP servers the benchmark knows. */
const RTSP_SERVERS = ["sluice", "gst"] as const;
type RtspServerKind = typeof RTSP_SERVERS[number];
const TRANSPORTS = ["tcp", "udp"] as const;
type TransportKind = typeof TRANSPORTS[number];

/** python3-gst is a Debian package: pyenv's python3 cannot import gi. */
const PYTHON = "/usr/bin/python3";
const STREAM_PATH = "live/bench";

interface Options extends RunnerOptions {
  servers: RtspServerKind[];
  transports: TransportKind[];
  keepAliveSeconds: number;
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

/** What one (server, transport, N) run measured; `probeMbps` is the stream as this server sends it to one player. */
interface RunResult extends Measured {
  kind: RtspServerKind;
  transport: TransportKind;
}

function parseOptions(argv: string[]): Options {
  const get = flagReader(argv);
  const opts: Options = {
    ...runnerOptions(get),
    servers: listFlag(get, "servers", RTSP_SERVERS),
    transports: listFlag(get, "transports", TRANSPORTS),
    keepAliveSeconds: Number(get("keepalive", "20")),
  };
  if (!(opts.warmup >= 0 && opts.warmup <= 60)) {
    throw new Error(`Cannot warm up for "${opts.warmup}" s: expected 0..60`);
  }
  if (!(opts.keepAliveSeconds >= 0 && opts.keepAliveSeconds <= 55)) {
    throw new Error("Cannot use --keepalive outside 0..55 s");
  }
  return opts;
}

// ---- servers ----

/** Sluice with RTMP (for the publisher) and RTSP on fresh ports, plus the ffmpeg publisher. */
async function startSluice(
  paths: PeerPaths,
  dir: string,
  input: string,
): Promise<RtspServerProc> {
  const rtmpPort = freePort();
  const port = freePort();
  const logPath = `${dir}/sluice.log`;
  const proc = spawnSluice(paths, logPath, [
    "--rtmp-address",
    `127.0.0.1:${rtmpPort}`,
    "--rtsp-address",
    `127.0.0.1:${port}`,
    "--rtp-address",
    `127.0.0.1:${freePort("udp")}`,
    "--rtcp-address",
    `127.0.0.1:${freePort("udp")}`,
  ]);
  const server = await started(proc, "sluice", port, logPath);
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
  return await started(proc, "gst", port, logPath);
}

/** `proc` as a server in {@link live}, once it accepts RTSP connections on `port`. */
async function started(
  proc: Running,
  kind: RtspServerKind,
  port: number,
  logPath: string,
): Promise<RtspServerProc> {
  const server: RtspServerProc = Object.assign(proc, { kind, port, logPath });
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
  if (hasFile(path)) return path;
  const { seconds: once } = await probeInput(input);
  await ffmpegToFile(path, "make the long input", 120_000, [
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
  ]);
  return path;
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
    const player = holder.player;
    // measure() lets the server settle, then reads its memory with only the probe.
    const measured = await measure({
      server,
      publisher: server.publisher,
      n,
      bitsPerSecond: input.bitsPerSecond,
      dir,
      clients: {
        script: "_rtsp_players.ts",
        port: server.port,
        denoFlags: ["--unstable-net"],
        flags: [
          `--path=${STREAM_PATH}`,
          `--transport=${transport}`,
          `--keepalive-ms=${opts.keepAliveSeconds * 1000}`,
        ],
        cwd: paths.repo,
        // The players' TEARDOWNs and closes are bounded by 5 + 5 s.
        closeMs: 12_000,
      },
      // Waves, then at most the players' 20 s first-frame timeout, then slack.
      readyMs: 20_000 + 15_000,
      finalMs: 20_000,
      probeBytes: () => player.result.bytes,
    }, opts);
    return { kind, transport, ...measured };
  } finally {
    if (holder !== undefined) {
      await holder.player.stop();
      await Promise.race([holder.done, sleep(3000)]);
    }
    await stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---- report ----

function resultsTableOf(results: RunResult[], expectedMbps: number): string {
  const c = columns(expectedMbps);
  return resultsTable(results, [
    ["server", (r) => r.kind],
    ["transport", (r) => r.transport],
    ["N", (r) => String(r.n)],
  ], [
    [
      "got video / keyframe",
      (r) => `${r.gotVideo} / ${r.gotKeyframe} of ${r.n}`,
    ],
    c.cpu,
    c.delivered,
    c.ratio,
    ["probe Mbit/s", (r) => f2(r.probeMbps)],
    c.mbitPerCpu,
    c.rss,
    c.kib,
    c.ttff,
    ["TTFF from PLAY p50 ms", (r) => f0(r.ttffPlayP50Ms)],
    [
      "keyframe from PLAY p50 / p95 ms",
      (r) => `${f0(r.keyframePlayMs.p50)} / ${f0(r.keyframePlayMs.p95)}`,
    ],
    c.clientCpu,
    c.machineBusy,
    [
      "UDP datagrams out/s / rcvbuf drops/s",
      (r) => `${f0(r.udpOutPerSecond)} / ${f0(r.udpRcvbufDropsPerSecond)}`,
    ],
  ]);
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
      const ratio = (f: (r: RunResult) => number) => ratioCell(s, g, f);
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

async function conditions(
  input: { path: string; longPath: string; bitsPerSecond: number },
  opts: Options,
) {
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
    machineLine(),
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
  const paths = benchPaths();
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
  const { path: inputPath, bitsPerSecond } = await prepare(paths);
  // Long enough for the longest run: start, probe, waves, first frames, warm-up, window.
  const longSeconds = Math.ceil((opts.warmup + opts.seconds + 90) / 30) * 30;
  const longPath = opts.servers.includes("gst")
    ? await ensureLongInput(inputPath, longSeconds)
    : inputPath;
  const input = { path: inputPath, longPath, bitsPerSecond };
  const cond = await conditions(input, opts);
  console.log(cond);

  // Servers interleaved per N and transport, so drifting background load hits both alike.
  const cases = opts.ns.flatMap((n) =>
    opts.transports.flatMap((transport) =>
      opts.servers.map((kind) => ({ kind, transport, n }))
    )
  );
  const results = await runEach(cases, opts, {
    name: (c) => `${c.kind} ${c.transport} N=${c.n}`,
    slackSeconds: 80,
    run: (c) => runOne(c.kind, c.transport, c.n, opts, paths, input),
    progress: (r) => `, UDP drops/s ${f0(r.udpRcvbufDropsPerSecond)}`,
  });

  const notes: string[] = [];
  for (const r of results) {
    if (r.error !== undefined) continue;
    const name = `${r.kind} ${r.transport} N=${r.n}`;
    notes.push(...notesOf(name, r));
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
  writeReport(paths.repo, "rtsp-", {
    title: "RTSP fan-out",
    conditions: cond,
    results: resultsTableOf(results, bitsPerSecond / 1e6),
    ratioNote:
      "Ratios (Mbit per CPU-second: better for Sluice when > 1; RSS and KiB per player: better for Sluice when < 1):",
    ratios: ratioTable(results, opts.transports, opts.ns),
    slope: opts.ns.length > 1
      ? slopeTable(
        results,
        opts.ns,
        ["server", "transport"],
        opts.servers.flatMap((k) => opts.transports.map((t) => [k, t])),
        (r) => [r.kind, r.transport],
      )
      : undefined,
    notes,
  });
  Deno.exit(0);
}
