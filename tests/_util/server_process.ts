/**
 * Sluice as users run it, in a child process: `server.ts` under `deno run`,
 * or a compiled `sluice` executable. It logs JSON lines (`--log-format
 * json`), which the test reads to learn the ports bound and to wait for
 * events.
 */

import config from "../../deno.json" with { type: "json" };

/** One JSON log line of Sluice. */
export interface LogLine {
  time: string;
  level: string;
  msg: string;
  scope: string;
  fields: Record<string, unknown>;
}

/** A running Sluice process. */
export interface ServerProcess extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Log lines so far. */
  lines: LogLine[];
  /** Lines that were not JSON (a crash's stack trace). */
  other: string[];
  /** The port a server logged "<NAME> listening" with (`RTMP`, `RTSP`, `HTTP`). */
  port(name: "RTMP" | "RTSP" | "HTTP"): Promise<number>;
  /** The first line from now on (or, with `since`, from that index) that `match` accepts. */
  waitFor(
    match: (line: LogLine) => boolean,
    options?: { timeoutMs?: number; since?: number },
  ): Promise<LogLine>;
  /** Every line as text, for failure messages. */
  text(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * `deno task start`'s `--v8-flags=…` (deno.json): the one copy of the V8
 * flags Sluice runs with, for the tests and benchmarks that start it.
 */
export const START_V8_FLAGS: string = config.tasks.start.split(" ")
  .find((w) => w.startsWith("--v8-flags="))!;

/** The flags `deno task start` runs server.ts with (deno.json). */
export const START_FLAGS = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-ffi",
  START_V8_FLAGS,
];

/** Every listener on 127.0.0.1, free ports. */
export const LOOPBACK_ARGS = [
  ...["--rtmp-address", "127.0.0.1:0", "--rtsp-address", "127.0.0.1:0"],
  ...["--rtp-address", "127.0.0.1:0", "--rtcp-address", "127.0.0.1:0"],
  ...["--http-address", "127.0.0.1:0"],
];

/**
 * Starts `server.ts` with the start task's flags, or `executable` when
 * given, with `args` and JSON logs.
 */
export function startServerProcess(
  args: string[],
  options: {
    executable?: string;
    env?: Record<string, string>;
    /** Working folder of the process. @default this one */
    cwd?: string;
  } = {},
): ServerProcess {
  const server = new URL("../../server.ts", import.meta.url).pathname;
  const all = [...args, "--log-format", "json"];
  const command = options.executable === undefined
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", ...START_FLAGS, server, ...all],
      cwd: options.cwd,
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    })
    : new Deno.Command(options.executable, {
      args: all,
      cwd: options.cwd,
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    });
  const process = command.spawn();
  const lines: LogLine[] = [];
  const other: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const reading = (async () => {
    let rest = "";
    for await (
      const chunk of process.stderr.pipeThrough(new TextDecoderStream())
    ) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const part of parts) {
        try {
          lines.push(JSON.parse(part) as LogLine);
        } catch {
          other.push(part);
        }
      }
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  const text = () =>
    [...lines.map((l) => JSON.stringify(l)), ...other].join("\n");
  const waitFor: ServerProcess["waitFor"] = async (match, o = {}) => {
    const end = Date.now() + (o.timeoutMs ?? 15_000);
    let from = o.since ?? lines.length;
    for (;;) {
      for (; from < lines.length; from++) {
        if (match(lines[from]!)) return lines[from]!;
      }
      if (ended) throw new Error(`Sluice exited:\n${text()}`);
      if (Date.now() > end) throw new Error(`no such log line:\n${text()}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        process.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      const status = await process.status;
      clearTimeout(timer);
      await reading;
      return status;
    })();
  return {
    process,
    lines,
    other,
    text,
    waitFor,
    port: async (name) => {
      const line = await waitFor((l) => l.msg === `${name} listening`, {
        since: 0,
      });
      return Number(/:(\d+)$/.exec(String(line.fields.address))![1]);
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}
