/**
 * The fan-out load benchmark: one ~2.5 Mbit/s H.264+AAC stream to N players
 * of one protocol, from Sluice and from its peers in the same run (RTMP:
 * nginx-rtmp and Node-Media-Server; RTSP over TCP or UDP: gst-rtsp-server;
 * HTTP-FLV: Node-Media-Server; SRTP: the same Sluice's plain RTP/AVP
 * players). Reports server CPU with its kernel share,
 * RSS, delivered Mbit/s against the input's bit rate, Mbit delivered per
 * CPU-second, memory per player, time to first frame and keyframe, and the
 * ratios Sluice/peer.
 *
 * ```
 * deno run -A bench/load/fanout.ts --protocol rtmp|rtsp-tcp|rtsp-udp|rtsp-srtp|flv
 *   [--n 10,100,500,1000] [--seconds 20] [--servers sluice,nginx,nms,gst] [--warmup 3]
 *   [--client-procs 1] [--read-tick-ms 50] [--wave-size 50] [--wave-ms 100]
 *   [--run-timeout 0] [--keepalive 20]
 * ```
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
  playersOf,
  type ServerKind,
  SERVERS_OF,
  startServer,
  STREAM_PATH,
  versions,
} from "./_peers.ts";
import {
  createPlayer,
  type Player,
  type Protocol,
  PROTOCOLS,
} from "./_players/mod.ts";
import { sleep } from "./_proc.ts";
import {
  columnsOf,
  f2,
  machineLine,
  notesOf,
  progressLine,
  ratioTable,
  resultsTable,
  slopeTable,
  writeReport,
} from "./_report.ts";
import {
  live,
  measure,
  type Measured,
  runEach,
  type RunnerOptions,
  stopAll,
  stopAllOnSignals,
} from "./_runner.ts";

interface Options extends RunnerOptions {
  protocol: Protocol;
  servers: ServerKind[];
  /** RTSP: seconds between GET_PARAMETERs. */
  keepAliveSeconds: number;
}

/** How one protocol runs and reports. */
interface ProtocolRun {
  title: string;
  /** What players play, for the conditions. */
  players: string;
  /** Players give up without a keyframe this long after connecting. */
  firstFrameTimeoutMs: number;
  /** After `stop`, how long the players may take to close (RTSP: TEARDOWNs, bounded by 5 + 5 s). */
  closeMs: number;
  /** How long the clients may take to stop and answer `final`. */
  finalMs: number;
  /** The hard limit of one run beyond warm-up, window and waves (without `--run-timeout`). */
  slackSeconds: number;
  /**
   * The probe player stays for the whole run: it keeps gst-rtsp-server's
   * shared media prepared (torn down when its last client leaves) and
   * measures what one player gets.
   */
  probeStays: boolean;
}

const RTSP_RUN = {
  firstFrameTimeoutMs: 20_000,
  closeMs: 12_000,
  finalMs: 20_000,
  slackSeconds: 80,
  probeStays: true,
} as const;

const PROTOCOL_RUNS: Record<Protocol, ProtocolRun> = {
  rtmp: {
    title: "RTMP fan-out",
    players: "RTMP players of rtmp://127.0.0.1:PORT/live/bench",
    firstFrameTimeoutMs: 15_000,
    closeMs: 5_000,
    finalMs: 15_000,
    slackSeconds: 60,
    probeStays: false,
  },
  "rtsp-tcp": {
    ...RTSP_RUN,
    title: "RTSP fan-out over TCP (interleaved)",
    players:
      "RTSP players of rtsp://127.0.0.1:PORT/live/bench, RTP/AVP/TCP interleaved",
  },
  "rtsp-udp": {
    ...RTSP_RUN,
    title: "RTSP fan-out over UDP",
    players:
      "RTSP players of rtsp://127.0.0.1:PORT/live/bench, RTP/AVP over UDP",
  },
  "rtsp-srtp": {
    ...RTSP_RUN,
    title: "RTSP fan-out with SRTP over UDP, beside plain RTP over UDP",
    players:
      "sluice: RTSPS players of rtsps://127.0.0.1:PORT/live/bench, RTP/SAVP (AES_CM_128_HMAC_SHA1_80) over UDP; sluice-avp: RTSP players of rtsp://…, RTP/AVP over UDP, from the same Sluice",
  },
  flv: {
    title: "HTTP-FLV fan-out",
    players:
      "HTTP-FLV players of http://127.0.0.1:PORT/live/bench.flv (HTTP/1.1, chunked)",
    firstFrameTimeoutMs: 15_000,
    closeMs: 5_000,
    finalMs: 15_000,
    slackSeconds: 60,
    probeStays: false,
  },
};

function parseOptions(argv: string[]): Options {
  const flags = new Flags(argv);
  const protocol = flags.oneOf("protocol", PROTOCOLS);
  const known = SERVERS_OF[protocol];
  const ns = flags.string("n", "10,100,500,1000").split(",").map(Number);
  for (const n of ns) {
    if (!Number.isInteger(n) || n < 1 || n > 5000) {
      throw new Error(`Cannot use --n "${n}": expected 1..5000`);
    }
  }
  const opts: Options = {
    protocol,
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
  caCerts: string[],
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
  opts: Options,
  paths: PeerPaths,
  input: Input,
): Promise<Measured> {
  const { protocol } = opts;
  const run = PROTOCOL_RUNS[protocol];
  const dir = await Deno.makeTempDir({
    prefix: `sluice-load-${protocol}-${kind}-`,
  });
  let held: HeldProbe | undefined;
  try {
    const tls = protocol === "rtsp-srtp" ? await makeCert(dir) : undefined;
    const players = playersOf(kind, protocol);
    const server = await startServer(kind, protocol, {
      paths,
      dir,
      input,
      track: (p) => live.add(p),
      tls,
    });
    held = await probe(
      players,
      server.port,
      run.probeStays,
      opts.readTickMs,
      tls === undefined ? [] : [Deno.readTextFileSync(tls.certFile)],
    );
    const player = held?.player;
    // measure() lets the server settle, then reads its memory without players (or with only the probe).
    return await measure({
      server,
      n,
      bitsPerSecond: input.bitsPerSecond,
      dir,
      clients: {
        protocol: players,
        port: server.port,
        path: STREAM_PATH,
        repo: paths.repo,
        flags: [
          `--first-frame-timeout-ms=${run.firstFrameTimeoutMs}`,
          `--keepalive-ms=${opts.keepAliveSeconds * 1000}`,
          ...(tls === undefined ? [] : [`--ca-file=${tls.certFile}`]),
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
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A self-signed certificate for 127.0.0.1 in `dir`, made by openssl (rtsp-srtp). */
async function makeCert(
  dir: string,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "ec"],
      ...["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "2"],
      ...["-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot make a certificate: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { certFile, keyFile };
}

// ---- report ----

async function conditions(
  opts: Options,
  paths: PeerPaths,
  input: Input,
): Promise<string> {
  const run = PROTOCOL_RUNS[opts.protocol];
  const name = (p: string) => p.split("/").pop();
  const published = opts.servers.filter((k) => k !== "gst");
  const feeds = [
    ...(published.length > 0
      ? [
        `${
          published.join(", ")
        }: ffmpeg -re -stream_loop -1 -c copy publishes it over RTMP`,
      ]
      : []),
    ...(opts.servers.includes("gst")
      ? [
        `gst: filesrc ! flvdemux of ${
          name(input.longPath ?? "")
        } (the same file copied end to end)`,
      ]
      : []),
  ];
  const rtsp = opts.protocol.startsWith("rtsp-");
  return [
    machineLine(),
    `- ${await versions(opts.servers, paths)}`,
    `- input: ${name(input.path)}, ${
      f2(input.bitsPerSecond / 1e6)
    } Mbit/s measured (file size × 8 / duration). ${feeds.join("; ")}`,
    `- ${run.players}; ${opts.warmup} s warm-up, ${opts.seconds} s measured; players in waves of ${opts.waveSize} every ${opts.waveMs} ms, ${opts.clientProcs} load client process(es), read tick ${opts.readTickMs} ms${
      rtsp ? `, GET_PARAMETER every ${opts.keepAliveSeconds} s` : ""
    }${
      run.probeStays ? "; one probe player on top of N for the whole run" : ""
    }; everything on 127.0.0.1`,
  ].join("\n");
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
  const cond = await conditions(opts, paths, input);
  console.error(cond);

  // Servers interleaved per N, so drifting background load hits all of them alike.
  const cases = opts.ns.flatMap((n) =>
    opts.servers.map((kind) => ({ kind, n }))
  );
  const results = await runEach(cases, opts, {
    name: (c) => `${c.kind} ${opts.protocol} N=${c.n}`,
    slackSeconds: PROTOCOL_RUNS[opts.protocol].slackSeconds,
    run: (kind, n) => runOne(kind, n, opts, paths, input),
    onResult: (r) => console.error(progressLine(r)),
  });

  const run = PROTOCOL_RUNS[opts.protocol];
  const peers = opts.servers.filter((k) => k !== "sluice");
  writeReport(paths.repo, `${opts.protocol}-`, {
    title: run.title,
    conditions: cond,
    results: resultsTable(
      results,
      columnsOf(opts.protocol, input.bitsPerSecond / 1e6),
    ),
    ratios: opts.servers.includes("sluice") && peers.length > 0
      ? ratioTable(results, peers, opts.ns)
      : undefined,
    slope: opts.ns.length > 1
      ? slopeTable(results, opts.servers, opts.ns)
      : undefined,
    notes: results.flatMap((r) =>
      r.error === undefined ? notesOf(`${r.kind} N=${r.n}`, r) : []
    ),
  });
  Deno.exit(0);
}
