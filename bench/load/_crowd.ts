/**
 * A load client process of the fan-out runner: N players of one protocol,
 * started in waves, driven over stdin and stdout.
 *
 * ```
 * deno run -A bench/load/_crowd.ts --protocol rtmp|rtmps|rtsp-tcp|rtsps-tcp|rtsp-udp|rtsp-srtp|flv --port P --n N
 *   [--ca-file cert.pem]
 *   [--host 127.0.0.1] [--path live/bench] [--wave-size 50] [--wave-ms 100] [--read-tick-ms 50]
 *   [--first-frame-timeout-ms 15000] [--step-timeout-ms 10000] [--keepalive-ms 20000] [--max-seconds 300]
 * ```
 *
 * The protocol: the runner writes lines on stdin, the client answers with
 * JSON lines ({@link ClientLine}) on stdout. `mark` → a `mark` line with
 * every player's byte count; `stop` → the players stop, a `final` line, exit.
 * A `ready` line comes by itself once every player has a keyframe or an
 * error. The process exits with 3 after `--max-seconds`, a bound the runner
 * never reaches.
 *
 * @module
 */

import { Flags } from "./_flags.ts";
import { createPlayer, isTls, type Player, PROTOCOLS } from "./_players/mod.ts";

/** One JSON line of a load client: every player's counters at `atMs`. */
export interface ClientLine {
  type: "ready" | "mark" | "final";
  /** `performance.now()` of the client process. */
  atMs: number;
  bytes: number[];
  ttffConnectMs: (number | null)[];
  ttffPlayMs: (number | null)[];
  keyframePlayMs: (number | null)[];
  errors: (string | null)[];
}

/** Options of {@link startCrowd}. */
export interface CrowdOptions {
  /** Players started per wave. @default {50} */
  waveSize?: number;
  /** Ms between waves. @default {100} */
  waveMs?: number;
}

/** A started crowd of players. */
export interface Crowd {
  readonly players: Player[];
  /** Resolves once every player has a keyframe or an error. */
  readonly settled: Promise<void>;
  /** Stops every player and waits (at most 5 + 5 s) for them to end. */
  close(): Promise<void>;
}

/** Starts `n` players made by `make`, in waves. */
export function startCrowd(
  n: number,
  make: () => Player,
  options: CrowdOptions = {},
): Crowd {
  const waveSize = options.waveSize ?? 50;
  const waveMs = options.waveMs ?? 100;
  const players: Player[] = [];
  const runs: Promise<unknown>[] = [];
  let stopped = false;
  let outstanding = n;
  let settle!: () => void;
  const settled = new Promise<void>((r) => settle = r);
  if (n === 0) settle();
  const launch = (async () => {
    for (let i = 0; i < n && !stopped; i += waveSize) {
      for (let j = i; j < Math.min(n, i + waveSize); j++) {
        const p = make();
        players.push(p);
        let counted = false;
        const once = () => {
          if (counted) return;
          counted = true;
          if (--outstanding === 0) settle();
        };
        runs.push(p.run(once).then((r) => (once(), r)));
      }
      if (i + waveSize < n) await new Promise((r) => setTimeout(r, waveMs));
    }
  })();
  return {
    players,
    settled,
    async close() {
      stopped = true;
      await launch;
      await within(Promise.all(players.map((p) => p.stop())), 5000);
      await within(Promise.all(runs), 5000);
    },
  };
}

/** `p`, but no longer than `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((r) => t = setTimeout(r, ms))]);
  clearTimeout(t);
}

/** Runs `crowd` under the line protocol until `stop`, then exits. */
async function serve(crowd: Crowd, maxSeconds: number): Promise<never> {
  const snapshot = (type: ClientLine["type"]) => {
    const rs = crowd.players.map((p) => p.result);
    const line: ClientLine = {
      type,
      atMs: performance.now(),
      bytes: rs.map((r) => r.bytes),
      ttffConnectMs: rs.map((r) => r.ttffConnectMs ?? null),
      ttffPlayMs: rs.map((r) => r.ttffPlayMs ?? null),
      keyframePlayMs: rs.map((r) => r.keyframePlayMs ?? null),
      errors: rs.map((r) => r.error ?? null),
    };
    console.log(JSON.stringify(line));
  };
  const hardStop = setTimeout(() => Deno.exit(3), maxSeconds * 1000);
  crowd.settled.then(() => snapshot("ready"));
  const decoder = new TextDecoder();
  let line = "";
  let stop = false;
  for await (const chunk of Deno.stdin.readable) {
    line += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = line.indexOf("\n")) >= 0) {
      const cmd = line.slice(0, nl).trim();
      line = line.slice(nl + 1);
      if (cmd === "mark") snapshot("mark");
      if (cmd === "stop") stop = true;
    }
    if (stop) break;
  }
  await crowd.close();
  snapshot("final");
  clearTimeout(hardStop);
  Deno.exit(0);
}

if (import.meta.main) {
  const flags = new Flags(Deno.args);
  const protocol = flags.oneOf("protocol", PROTOCOLS);
  const target = {
    hostname: flags.string("host", "127.0.0.1"),
    port: flags.number("port", undefined, 1, 65535),
    path: flags.string("path", "live/bench"),
  };
  const options = {
    readTickMs: flags.number("read-tick-ms", 50, 0, 1000),
    firstFrameTimeoutMs: flags.number(
      "first-frame-timeout-ms",
      15_000,
      1,
      120_000,
    ),
    stepTimeoutMs: flags.number("step-timeout-ms", 10_000, 1, 60_000),
    keepAliveMs: flags.number("keepalive-ms", 20_000, 0, 60_000),
    // TLS protocols: the server's self-signed certificate, trusted.
    caCerts: isTls(protocol)
      ? [Deno.readTextFileSync(flags.string("ca-file"))]
      : undefined,
  };
  const n = flags.number("n", 1, 1, 5000);
  const crowdOptions = {
    waveSize: flags.number("wave-size", 50, 1, 5000),
    waveMs: flags.number("wave-ms", 100, 0, 10_000),
  };
  const maxSeconds = flags.number("max-seconds", 300, 1, 3600);
  flags.checkAllRead();
  const make = () => createPlayer(protocol, target, options);
  await serve(startCrowd(n, make, crowdOptions), maxSeconds);
}
