/**
 * The load client processes of one run, seen from the runner: each runs
 * `_crowd.ts` and speaks its line protocol over stdin and stdout.
 *
 * @module
 */

import type { ClientLine } from "./_crowd.ts";
import type { Protocol } from "./_players/mod.ts";
import { kill, type Running, sleep } from "./_proc.ts";

/** How the players of a run are split and paced: the runner's flags. */
export interface ClientOptions {
  clientProcs: number;
  waveSize: number;
  waveMs: number;
  readTickMs: number;
  warmup: number;
  seconds: number;
}

/** What the players of one run play. */
export interface ClientSpec {
  protocol: Protocol;
  /** The port players connect to. */
  port: number;
  /** The stream's path: `live/bench`. */
  path: string;
  /** Flags of `_crowd.ts` beyond the common ones. */
  flags?: string[];
  /** The repository root: the clients run there with its deno.json. */
  repo: string;
  /** After `stop()`'s grace, how long the players may still take to close before SIGKILL. */
  closeMs: number;
}

/** One load client process, driven over stdin/stdout (the protocol of `_crowd.ts`). */
export class ClientProc implements Running {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ClientLine[] = [];
  readonly #closeMs: number;
  #waiters: (() => void)[] = [];
  #eof = false;
  #exited = false;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;

  constructor(args: string[], logPath: string, spec: ClientSpec) {
    this.#closeMs = spec.closeMs;
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: spec.repo,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#status = this.#child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    this.#reading = this.#read();
    const log = Deno.openSync(logPath, {
      write: true,
      create: true,
      truncate: true,
    });
    this.#child.stderr.pipeTo(log.writable).catch(() => {});
  }

  get pid(): number {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  async #read(): Promise<void> {
    let rest = "";
    try {
      for await (
        const text of this.#child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        rest += text;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line.startsWith("{")) this.#lines.push(JSON.parse(line));
        }
        this.#wake();
      }
    } finally {
      this.#eof = true;
      this.#wake();
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** The first line of `type` not taken yet, or an error after `timeoutMs` or at EOF. */
  async next(type: ClientLine["type"], timeoutMs: number): Promise<ClientLine> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => l.type === type);
      if (i >= 0) return this.#lines.splice(i, 1)[0]!;
      if (this.#eof) throw new Error(`load client exited before "${type}"`);
      const left = until - performance.now();
      if (left <= 0) {
        throw new Error(`load client sent no "${type}" within ${timeoutMs} ms`);
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        t = setTimeout(r, left);
      });
      clearTimeout(t);
    }
  }

  async send(cmd: "mark" | "stop"): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${cmd}\n`));
  }

  /** `stop` on stdin, SIGKILL when the players take longer than `graceMs` plus their close time. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.#exited) {
      await this.send("stop").catch(() => {});
      const t = setTimeout(
        () => kill(this.#child, "SIGKILL"),
        graceMs + this.#closeMs,
      );
      await this.#status;
      clearTimeout(t);
    }
    await this.#stdin.close().catch(() => {});
    await Promise.race([this.#reading, sleep(1000)]);
  }
}

/** `n` players split over `opts.clientProcs` processes (the first ones take the remainder); logs go to `dir`. */
export function startClients(
  n: number,
  opts: ClientOptions,
  dir: string,
  spec: ClientSpec,
): ClientProc[] {
  const clients: ClientProc[] = [];
  for (let i = 0; i < opts.clientProcs; i++) {
    const share = Math.floor(n / opts.clientProcs) +
      (i < n % opts.clientProcs ? 1 : 0);
    if (share === 0) continue;
    const args = [
      "run",
      "-A",
      "--unstable-net",
      `--config=${spec.repo}/deno.json`,
      new URL("./_crowd.ts", import.meta.url).pathname,
      `--protocol=${spec.protocol}`,
      `--port=${spec.port}`,
      `--path=${spec.path}`,
      `--n=${share}`,
      ...spec.flags ?? [],
      `--wave-size=${opts.waveSize}`,
      `--wave-ms=${opts.waveMs}`,
      `--read-tick-ms=${opts.readTickMs}`,
      `--max-seconds=${Math.ceil(opts.warmup + opts.seconds + 120)}`,
    ];
    clients.push(new ClientProc(args, `${dir}/client${i}.log`, spec));
  }
  return clients;
}
