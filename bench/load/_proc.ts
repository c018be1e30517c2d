/**
 * Child processes of the fan-out runner: start one with its output in a log
 * file, stop it (SIGTERM, then SIGKILL), wait until it listens, find a free
 * port, read a tool's version. Everything binds to 127.0.0.1.
 *
 * @module
 */

/** A started child process. */
export interface Running {
  /** The process whose tree is measured. */
  readonly pid: number;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Stops it, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise<void>((r) => setTimeout(r, ms));

/** A TCP or UDP port nobody uses right now (bind to 0, read it, close). */
export function freePort(transport: "tcp" | "udp" = "tcp"): number {
  const hostname = "127.0.0.1";
  const l = transport === "tcp"
    ? Deno.listen({ hostname, port: 0 })
    : Deno.listenDatagram({ transport, hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Spawns `cmd` with stdout and stderr to `logPath`, stdin closed. */
export function spawn(
  cmd: string,
  args: string[],
  logPath: string,
  cwd?: string,
): Running {
  const log = Deno.openSync(logPath, {
    write: true,
    create: true,
    truncate: true,
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    log.close();
    throw e;
  }
  // Both pipes into one file; bounded by what the servers log at their quietest level.
  const sink = log.writable.getWriter();
  const drain = async (r: ReadableStream<Uint8Array>) => {
    for await (const c of r) await sink.write(c).catch(() => {});
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)])
    .finally(() => sink.close().catch(() => {}));
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    pid: child.pid,
    get exited() {
      return exited;
    },
    async stop(graceMs = 3000) {
      if (!exited) {
        kill(child, "SIGTERM");
        const t = setTimeout(() => kill(child, "SIGKILL"), graceMs);
        await status;
        clearTimeout(t);
      }
      await Promise.race([drained, sleep(1000)]);
    },
  };
}

/** Sends `signal` to `child`, ignoring a process that is already gone. */
export function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/** Waits until something accepts TCP on `port`, or throws after `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (!alive()) {
      throw new Error(`Cannot reach port ${port}: the process exited`);
    }
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(
    `Cannot reach port ${port}: nothing listens after ${timeoutMs} ms`,
  );
}

/** First line of a command's output (stdout or stderr), or "missing". */
export async function versionOf(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    return text.trim().split("\n")[0] ?? "";
  } catch {
    return "missing";
  }
}
