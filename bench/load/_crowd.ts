/**
 * What the RTMP and RTSP load clients (`_players.ts`, `_rtsp_players.ts`)
 * share: the read tick of counting players, starting players in waves, and
 * the line protocol a load client process speaks with its runner.
 *
 * The protocol: the runner writes lines on stdin, the client answers with
 * JSON lines ({@link ClientLine}) on stdout. `mark` → a `mark` line with
 * every player's byte count; `stop` → the players stop, a `final` line, exit.
 * A `ready` line comes by itself once every player has a frame or an error.
 *
 * @module
 */

/** What every player measures; times in ms, `undefined` until they happen. */
export interface CrowdResult {
  /** ms from the start of TCP connect to the first frame. */
  ttffConnectMs: number | undefined;
  /** ms from asking to play to the first frame. */
  ttffPlayMs: number | undefined;
  /** RTSP players: ms from PLAY to the first packet of a keyframe. */
  keyframePlayMs?: number | undefined;
  /** Bytes counted so far. */
  bytes: number;
  /** Why it stopped early, if it did. */
  error: string | undefined;
}

/** A player {@link startCrowd} can start. */
export interface CrowdPlayer {
  readonly result: CrowdResult;
  /** Plays until stopped or an error, calling `onFirstFrame` once it plays; never rejects. */
  run(onFirstFrame?: () => void): Promise<unknown>;
}

/** One JSON line of a load client: every player's counters at `atMs`. */
export interface ClientLine {
  type: "ready" | "mark" | "final";
  /** `performance.now()` of the client process. */
  atMs: number;
  bytes: number[];
  ttffConnectMs: (number | null)[];
  ttffPlayMs: (number | null)[];
  /** RTSP players only: ms from PLAY to the first keyframe. */
  keyframePlayMs?: (number | null)[];
  errors: (string | null)[];
}

// One shared tick for all counting players: a promise that resolves every readTickMs.
let tickPromise: Promise<void> = Promise.resolve();
let tickResolve: (() => void) | undefined;
let tickTimer: ReturnType<typeof setInterval> | undefined;
let tickUsers = 0;

/** Joins the shared read tick (started at the first user, every `ms`; 0 never ticks). */
export function startTick(ms: number): void {
  tickUsers++;
  if (tickTimer !== undefined || ms <= 0) return;
  tickPromise = new Promise((r) => tickResolve = r);
  tickTimer = setInterval(() => {
    const r = tickResolve;
    tickPromise = new Promise((res) => tickResolve = res);
    r?.();
  }, ms);
}

/** Leaves the shared read tick; the last user stops it. */
export function stopTick(): void {
  tickUsers--;
  if (tickUsers > 0 || tickTimer === undefined) return;
  clearInterval(tickTimer);
  tickTimer = undefined;
  tickResolve?.();
}

/** Resolves at the next shared tick (at once when none runs). */
export function tick(): Promise<void> {
  return tickPromise;
}

/** Calls `fail` when `player` does not play `ms` from now; clear the timer when it ends. */
export function keyframeDeadline(
  ms: number,
  player: { readonly playing: boolean },
  fail: (error: string) => void,
): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    if (!player.playing) fail(`no keyframe within ${ms} ms`);
  }, ms);
}

/** `e` as a player's error: `Name: message`. */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Writes all of `bytes`, however many writes it takes. */
export async function writeAll(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/** Options of {@link startCrowd}. */
export interface CrowdOptions<P> {
  /** Players started per wave. @default {50} */
  waveSize?: number;
  /** Ms between waves. @default {100} */
  waveMs?: number;
  /** Ends one player (bounded by 5 s for all of them together). */
  stop(player: P): void | Promise<void>;
}

/** A started crowd of players. */
export interface Crowd<P> {
  readonly players: P[];
  /** Resolves once every player has a frame or an error. */
  readonly settled: Promise<void>;
  /** Stops every player and waits (bounded) for them to end. */
  close(): Promise<void>;
}

/** Starts `n` players made by `make`, in waves. */
export function startCrowd<P extends CrowdPlayer>(
  n: number,
  make: () => P,
  options: CrowdOptions<P>,
): Crowd<P> {
  const waveSize = options.waveSize ?? 50;
  const waveMs = options.waveMs ?? 100;
  const players: P[] = [];
  const runs: Promise<unknown>[] = [];
  let stopped = false;
  let outstanding = n;
  let settle!: () => void;
  const settled = new Promise<void>((r) => settle = r);
  if (n === 0) settle();
  const done = () => {
    if (--outstanding === 0) settle();
  };
  const launch = (async () => {
    for (let i = 0; i < n && !stopped; i += waveSize) {
      for (let j = i; j < Math.min(n, i + waveSize); j++) {
        const p = make();
        players.push(p);
        let counted = false;
        const once = () => {
          if (!counted) {
            counted = true;
            done();
          }
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
      await within(Promise.all(players.map((p) => options.stop(p))), 5000);
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

/** Options of {@link serveCrowd}. */
export interface ServeOptions<P> extends Pick<CrowdOptions<P>, "stop"> {
  /** The per-player times each line carries, after `bytes`. */
  times: readonly ("ttffConnectMs" | "ttffPlayMs" | "keyframePlayMs")[];
}

/**
 * A load client process: starts the crowd `--n`, `--wave-size`, `--wave-ms`
 * ask for, speaks the line protocol on stdin and stdout until `stop`, then
 * exits (or exits with 3 after `--max-seconds`, a bound the runner never
 * reaches).
 */
export async function serveCrowd<P extends CrowdPlayer>(
  args: Map<string, string>,
  make: () => P,
  options: ServeOptions<P>,
): Promise<never> {
  const crowd = startCrowd(Number(args.get("n") ?? "1"), make, {
    waveSize: Number(args.get("wave-size") ?? "50"),
    waveMs: Number(args.get("wave-ms") ?? "100"),
    stop: options.stop,
  });
  const snapshot = (type: ClientLine["type"]) => {
    const ps = crowd.players;
    const line: Record<string, unknown> = {
      type,
      atMs: performance.now(),
      bytes: ps.map((p) => p.result.bytes),
    };
    for (const k of options.times) {
      line[k] = ps.map((p) => p.result[k] ?? null);
    }
    line.errors = ps.map((p) => p.result.error ?? null);
    console.log(JSON.stringify(line));
  };
  const hardStop = setTimeout(
    () => Deno.exit(3),
    Number(args.get("max-seconds") ?? "300") * 1000,
  );
  crowd.settled.then(() => snapshot("ready"));
  const decoder = new TextDecoder();
  let line = "";
  for await (const chunk of Deno.stdin.readable) {
    line += decoder.decode(chunk, { stream: true });
    let nl: number;
    let stop = false;
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

/** `--name value` and `--name=value` flags; a later one wins. */
export function parseFlags(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
      else m.set(a.slice(2), argv[++i] ?? "");
    }
  }
  return m;
}
