/**
 * The fan-out load benchmark: one ~2.5 Mbit/s H.264+AAC stream to N players
 * of one protocol, from Sluice and from its peers in the same run (RTMP:
 * nginx-rtmp and Node-Media-Server; RTSP over TCP or UDP: gst-rtsp-server;
 * HTTP-FLV: Node-Media-Server); RTMPS and RTSPS over TCP (Sluice alone, on
 * a self-signed certificate made with openssl) beside their plain protocol
 * when several are named. Reports server CPU with its kernel share,
 * RSS, delivered Mbit/s against the input's bit rate, Mbit delivered per
 * CPU-second, memory per player, time to first frame and keyframe, and the
 * ratios Sluice/peer.
 *
 * ```
 * deno run -A bench/load/fanout.ts --protocol rtmp|rtmps|rtsp-tcp|rtsps-tcp|rtsp-udp|rtsp-srtp|flv[,…]
 *   [--n 10,100,500,1000] [--seconds 20] [--servers sluice,nginx,nms,gst] [--warmup 3]
 *   [--client-procs 1] [--read-tick-ms 50] [--wave-size 50] [--wave-ms 100]
 *   [--run-timeout 0] [--keepalive 20] [--rounds 1]
 * ```
 *
 * With `--rounds R` every case runs R times, the servers' order turned
 * each round, and the report adds each round's ratio with their median
 * and range.
 *
 * See bench/load/README.md for conditions and setup.
 *
 * @module
 */

import { Flags } from "./_flags.ts";
import {
  ensureInput,
  ensureLongInput,
  type Input,
  probeInput,
} from "./_input.ts";
import {
  missingPeer,
  type PeerPaths,
  type ServerKind,
  SERVERS_OF,
  startServer,
  STREAM_PATH,
  versions,
} from "./_peers.ts";
import {
  createPlayer,
  isTls,
  type Player,
  type Protocol,
  PROTOCOLS,
} from "./_players/mod.ts";
import { sleep } from "./_proc.ts";
import { PROTOCOL_RUNS } from "./_protocols.ts";
import { makeCert, tlsCostTable, type TlsFiles } from "./_tls.ts";
import {
  columnsOf,
  f2,
  machineLine,
  notesOf,
  progressLine,
  ratioTable,
  resultsTable,
  roundsTable,
  slopeTable,
  writeReport,
} from "./_report.ts";
import {
  live,
  measure,
  type Measured,
  runEach,
  type RunnerOptions,
  type RunResult,
  stopAll,
  stopAllOnSignals,
} from "./_runner.ts";

interface Options extends RunnerOptions {
  /** One or more, run interleaved per N (plain and TLS side by side). */
  protocols: Protocol[];
  servers: ServerKind[];
  /** RTSP: seconds between GET_PARAMETERs. */
  keepAliveSeconds: number;
  /** Times every case runs, the servers' order turned each time. */
  rounds: number;
}

function parseOptions(argv: string[]): Options {
  const flags = new Flags(argv);
  const protocols = flags.list("protocol", PROTOCOLS, []);
  if (protocols.length === 0) throw new Error("Cannot run without --protocol");
  // Every server of any protocol named; each plays the protocols it serves.
  const known = [...new Set(protocols.flatMap((p) => SERVERS_OF[p]))];
  const ns = flags.string("n", "10,100,500,1000").split(",").map(Number);
  for (const n of ns) {
    if (!Number.isInteger(n) || n < 1 || n > 5000) {
      throw new Error(`Cannot use --n "${n}": expected 1..5000`);
    }
  }
  const opts: Options = {
    protocols,
    servers: flags.list("servers", known),
    ns,
    seconds: flags.number("seconds", 20, 1, 600),
    warmup: flags.number("warmup", 3, 0, 60),
    clientProcs: flags.number("client-procs", 1, 1, 8),
    readTickMs: flags.number("read-tick-ms", 50, 0, 1000),
    waveSize: flags.number("wave-size", 50, 1, 5000),
    waveMs: flags.number("wave-ms", 100, 0, 10_000),
    runTimeoutSeconds: flags.number("run-timeout", 0, 0, 3600),
    keepAliveSeconds: flags.number("keepalive", 20, 0, 55),
    rounds: flags.number("rounds", 1, 1, 20),
  };
  flags.checkAllRead();
  return opts;
}

/** Where the repository and bench/load/.peers are. */
function benchPaths(): PeerPaths {
  const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  return { repo, peers: `${repo}/bench/load/.peers` };
}

// ---- one run ----

/** A probe that stays: the player and its run. */
interface HeldProbe {
  player: Player;
  done: Promise<unknown>;
}

/**
 * Plays the stream with one player until it gets a keyframe: the server
 * serves and the publisher publishes. With `stay` the player goes on
 * playing and is returned; otherwise it stops.
 */
async function probe(
  protocol: Protocol,
  port: number,
  stay: boolean,
  readTickMs: number,
  caCerts: string[] | undefined,
): Promise<HeldProbe | undefined> {
  const until = performance.now() + 20_000;
  let last = "";
  while (performance.now() < until) {
    const p = createPlayer(
      protocol,
      { hostname: "127.0.0.1", port, path: STREAM_PATH },
      {
        firstFrameTimeoutMs: 8000,
        readTickMs: stay ? readTickMs : 0,
        caCerts,
      },
    );
    let keyframe!: () => void;
    const framed = new Promise<void>((r) => keyframe = r);
    const running = p.run(keyframe);
    await Promise.race([framed, running]);
    if (p.playing && stay) return { player: p, done: running };
    await p.stop();
    const r = await running;
    if (p.playing) return undefined;
    last = r.error ?? "no keyframe";
    await sleep(500);
  }
  throw new Error(`Cannot play the stream over ${protocol}: ${last}`);
}

async function runOne(
  kind: ServerKind,
  n: number,
  protocol: Protocol,
  opts: Options,
  paths: PeerPaths,
  input: Input,
  tls: TlsFiles,
): Promise<Measured> {
  const run = PROTOCOL_RUNS[protocol];
  const dir = await Deno.makeTempDir({
    prefix: `sluice-load-${protocol}-${kind}-`,
  });
  let held: HeldProbe | undefined;
  try {
    const server = await startServer(kind, protocol, {
      paths,
      dir,
      input,
      track: (p) => live.add(p),
      tls,
    });
    const caCerts = isTls(protocol) ? [tls.pem] : undefined;
    held = await probe(
      protocol,
      server.port,
      run.probeStays,
      opts.readTickMs,
      caCerts,
    );
    const player = held?.player;
    // measure() lets the server settle, then reads its memory without players (or with only the probe).
    return await measure({
      server,
      n,
      bitsPerSecond: input.bitsPerSecond,
      dir,
      clients: {
        protocol,
        port: server.port,
        path: STREAM_PATH,
        repo: paths.repo,
        flags: [
          `--first-frame-timeout-ms=${run.firstFrameTimeoutMs}`,
          `--keepalive-ms=${opts.keepAliveSeconds * 1000}`,
          ...(isTls(protocol) ? [`--ca-file=${tls.certFile}`] : []),
        ],
        closeMs: run.closeMs,
      },
      // Waves, then at most the players' first-frame timeout, then slack.
      readyMs: run.firstFrameTimeoutMs + 15_000,
      finalMs: run.finalMs,
      probeBytes: player && (() => player.result.bytes),
    }, opts);
  } finally {
    if (held !== undefined) {
      await held.player.stop();
      await Promise.race([held.done, sleep(3000)]);
    }
    await stopAll();
    // BENCH_KEEP_LOGS=1 keeps the servers' logs (with BENCH_SLUICE_V8_FLAGS=--trace-gc, V8's account).
    if (Deno.env.get("BENCH_KEEP_LOGS")) console.error(`logs kept in ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---- report ----

async function conditions(
  protocol: Protocol,
  opts: Options,
  paths: PeerPaths,
  input: Input,
): Promise<string> {
  const run = PROTOCOL_RUNS[protocol];
  const servers = serversOf(protocol, opts);
  const name = (p: string) => p.split("/").pop();
  const published = servers.filter((k) => k !== "gst");
  const feeds = [
    ...(published.length > 0
      ? [
        `${
          published.join(", ")
        }: ffmpeg -re -stream_loop -1 -c copy publishes it over RTMP`,
      ]
      : []),
    ...(servers.includes("gst")
      ? [
        `gst: filesrc ! flvdemux of ${
          name(input.longPath ?? "")
        } (the same file copied end to end)`,
      ]
      : []),
  ];
  const rtsp = protocol.startsWith("rtsp");
  return [
    machineLine(),
    `- ${await versions(servers, paths)}`,
    `- input: ${name(input.path)}, ${
      f2(input.bitsPerSecond / 1e6)
    } Mbit/s measured (file size × 8 / duration). ${feeds.join("; ")}`,
    `- ${run.players}; ${opts.warmup} s warm-up, ${opts.seconds} s measured; players in waves of ${opts.waveSize} every ${opts.waveMs} ms, ${opts.clientProcs} load client process(es), read tick ${opts.readTickMs} ms${
      rtsp ? `, GET_PARAMETER every ${opts.keepAliveSeconds} s` : ""
    }${
      run.probeStays ? "; one probe player on top of N for the whole run" : ""
    }; everything on 127.0.0.1${
      isTls(protocol)
        ? "; TLS with a self-signed ECDSA P-256 certificate (rustls in Deno on both sides)"
        : ""
    }`,
  ].join("\n");
}

/** `kinds` rotated left by `by`: round r starts with another server. */
function turned<T>(kinds: readonly T[], by: number): T[] {
  const k = kinds.length === 0 ? 0 : by % kinds.length;
  return [...kinds.slice(k), ...kinds.slice(0, k)];
}

/** The servers of `opts` that play `protocol`. */
function serversOf(protocol: Protocol, opts: Options): ServerKind[] {
  return opts.servers.filter((k) => SERVERS_OF[protocol].includes(k));
}

// ---- main ----

if (import.meta.main) {
  let opts: Options;
  try {
    opts = parseOptions(Deno.args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(2);
  }
  const paths = benchPaths();
  const missing = await missingPeer(opts.servers, paths);
  if (missing !== undefined) {
    console.error(missing);
    Deno.exit(2);
  }
  stopAllOnSignals();
  const path = await ensureInput(paths.peers);
  const { bitsPerSecond } = await probeInput(path);
  // Long enough for the longest run: start, probe, waves, first frames, warm-up, window.
  const longSeconds = Math.ceil((opts.warmup + opts.seconds + 90) / 30) * 30;
  const input: Input = {
    path,
    bitsPerSecond,
    longPath: opts.servers.includes("gst")
      ? await ensureLongInput(path, longSeconds)
      : undefined,
  };
  const certDir = await Deno.makeTempDir({ prefix: "sluice-load-tls-" });
  const tls = await makeCert(certDir);
  const conds = new Map<Protocol, string>();
  for (const protocol of opts.protocols) {
    const cond = await conditions(protocol, opts, paths, input);
    conds.set(protocol, cond);
    console.error(cond);
  }

  // Servers and protocols interleaved per N, so drifting background load
  // hits all of them alike; each round turns the servers' order.
  const results = new Map<Protocol, RunResult[]>();
  const several = opts.rounds > 1;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const n of opts.ns) {
      for (const protocol of opts.protocols) {
        const cases = turned(serversOf(protocol, opts), round - 1).map((
          kind,
        ) => ({ kind, n }));
        const got = await runEach(cases, opts, {
          name: (c) =>
            `${c.kind} ${protocol} N=${c.n}${
              several ? ` (round ${round} of ${opts.rounds})` : ""
            }`,
          slackSeconds: PROTOCOL_RUNS[protocol].slackSeconds,
          run: (kind, n) => runOne(kind, n, protocol, opts, paths, input, tls),
          onResult: (r) => console.error(progressLine(r)),
        });
        if (several) { for (const r of got) r.round = round; }
        results.set(protocol, [...results.get(protocol) ?? [], ...got]);
      }
    }
  }
  await Deno.remove(certDir, { recursive: true }).catch(() => {});

  const tlsCost = tlsCostTable(results, opts.ns);
  for (const protocol of opts.protocols) {
    const run = PROTOCOL_RUNS[protocol];
    const servers = serversOf(protocol, opts);
    const peers = servers.filter((k) => k !== "sluice");
    const rs = results.get(protocol) ?? [];
    writeReport(paths.repo, `${protocol}-`, {
      title: run.title,
      conditions: conds.get(protocol)!,
      results: resultsTable(rs, columnsOf(protocol, input.bitsPerSecond / 1e6)),
      ratios: servers.includes("sluice") && peers.length > 0
        ? ratioTable(rs, peers, opts.ns)
        : undefined,
      rounds: several && servers.includes("sluice") && peers.length > 0
        ? roundsTable(rs, peers, opts.ns)
        : undefined,
      slope: opts.ns.length > 1 ? slopeTable(rs, servers, opts.ns) : undefined,
      notes: [
        ...(isTls(protocol) && tlsCost !== undefined
          ? [
            "What TLS (rtsp-srtp: TLS requests and SRTP media) costs Sluice in this run (plain / TLS):",
            "",
            tlsCost,
            "",
          ]
          : []),
        ...rs.flatMap((r) =>
          r.error === undefined ? notesOf(`${r.kind} N=${r.n}`, r) : []
        ),
      ],
    });
  }
  Deno.exit(0);
}
