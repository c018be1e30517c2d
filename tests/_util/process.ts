/**
 * Runs the interop tools (ffmpeg, ffprobe, GStreamer) bounded in time: every
 * process is killed when its time is up, and its stderr is kept for failure
 * messages.
 */
import { type Tool, toolPath } from "./tools.ts";

/** How long a stopped process has to finish its output before SIGKILL. */
const STOP_GRACE_MS = 3000;
/** Stderr kept: the start (stream descriptions) and the end (the failure). */
const STDERR_HEAD = 32 * 1024;
const STDERR_TAIL = 32 * 1024;

/** Options of {@link spawn}. */
export interface SpawnOptions {
  timeoutMs: number;
  onStdoutLine?: (line: string) => void;
  /** Hears every line of stderr, also those the kept text cuts from a long run. */
  onStderrLine?: (line: string) => void;
  /** Run as this user (through runuser; needs root): VLC refuses to run as root. */
  asUser?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A running tool. */
export interface Spawned {
  process: Deno.ChildProcess;
  /** Settles once the process exited, its output was read and timers cleared. */
  status: Promise<Deno.CommandStatus>;
  stderr(): string;
  timedOut(): boolean;
  /** SIGINT, then SIGKILL after {@link STOP_GRACE_MS}; resolves when it is gone. */
  stop(): Promise<void>;
}

/** Starts `tool` bounded by `timeoutMs`, keeping stderr and feeding stdout lines. */
export function spawn(
  tool: Tool,
  args: string[],
  options: SpawnOptions,
): Spawned {
  const base = tool === "ffmpeg"
    ? ["-hide_banner", "-nostdin", "-nostats"]
    : tool === "ffprobe"
    ? ["-hide_banner"]
    : [];
  const command = options.asUser === undefined ? toolPath(tool) : "runuser";
  const all = options.asUser === undefined
    ? [...base, ...args]
    : ["-u", options.asUser, "--", toolPath(tool), ...base, ...args];
  const process = new Deno.Command(command, {
    args: all,
    env: options.env,
    stdin: "null",
    stdout: options.onStdoutLine ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  const log = new KeptText();
  let exited = false;
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;

  const signal = (sig: Deno.Signal) => {
    if (exited) return;
    try {
      process.kill(sig);
    } catch {
      // exited between the check and the signal
    }
  };
  const stop = () => {
    if (exited || killTimer !== undefined) return;
    signal("SIGINT");
    killTimer = setTimeout(() => signal("SIGKILL"), STOP_GRACE_MS);
  };
  const deadline = setTimeout(() => {
    timedOut = true;
    log.push(`\n[harness: ${tool} killed after ${options.timeoutMs} ms]\n`);
    stop();
  }, options.timeoutMs);

  const keep = (text: string) => log.push(text);
  const reads = [
    options.onStderrLine === undefined
      ? readText(process.stderr, keep)
      : readLines(process.stderr, options.onStderrLine, keep),
  ];
  if (options.onStdoutLine) {
    reads.push(readLines(process.stdout, options.onStdoutLine));
  }
  const status = (async () => {
    const [result] = await Promise.all([process.status, ...reads]);
    return result;
  })().finally(() => {
    exited = true;
    clearTimeout(deadline);
    clearTimeout(killTimer);
  });
  status.catch(() => {}); // read by whoever awaits it; never an unhandled rejection

  return {
    process,
    status,
    stderr: () => log.text(),
    timedOut: () => timedOut,
    stop: async () => {
      stop();
      await status.catch(() => {});
    },
  };
}

async function readText(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
) {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    onText(text);
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  onText?: (text: string) => void,
) {
  let rest = "";
  await readText(stream, (text) => {
    onText?.(text);
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  if (rest !== "") onLine(rest);
}

/** Keeps the first and the last few KiB of a long text. */
class KeptText {
  #head = "";
  #tail = "";
  #dropped = false;

  push(text: string): void {
    if (this.#head.length < STDERR_HEAD) {
      const room = STDERR_HEAD - this.#head.length;
      this.#head += text.slice(0, room);
      text = text.slice(room);
    }
    this.#tail += text;
    if (this.#tail.length > 2 * STDERR_TAIL) {
      this.#tail = this.#tail.slice(-STDERR_TAIL);
      this.#dropped = true;
    }
  }

  text(): string {
    if (!this.#dropped && this.#tail.length <= STDERR_TAIL) {
      return this.#head + this.#tail;
    }
    return `${this.#head}\n[... stderr cut ...]\n${
      this.#tail.slice(-STDERR_TAIL)
    }`;
  }
}
