/**
 * What the processes and the machine use, read from Linux `/proc`: CPU time
 * and resident memory of a process tree, the machine's busy time, and its
 * TCP and UDP counters (proc(5): `/proc/<pid>/stat` fields 14 and 15 are
 * utime and stime in clock ticks, `/proc/<pid>/status` `VmRSS` is kB). A tree
 * is the process and all its descendants, so nginx's master and worker or a
 * wrapper and its child count as one server.
 *
 * @module
 */

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on). */
const CLK_TCK = 100;

/** One reading of a process tree. */
export interface TreeSample {
  /** `performance.now()` when read, ms. */
  atMs: number;
  /** utime + stime over the tree, seconds. */
  cpuSeconds: number;
  /** stime over the tree, seconds (the kernel's share: syscalls, loopback TCP). */
  systemSeconds: number;
  /** Sum of VmRSS over the tree, bytes (shared pages count once per process). */
  rssBytes: number;
  /** Minor page faults over the tree (field 10 of stat): fresh memory being touched. */
  minorFaults: number;
  /** Processes in the tree. */
  pids: number[];
}

/** The children of `pid` (all threads), from `/proc/<pid>/task/<tid>/children`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const t of tasks) {
    try {
      const text = Deno.readTextFileSync(
        `/proc/${pid}/task/${t.name}/children`,
      );
      for (const s of text.trim().split(/\s+/)) {
        if (s !== "") out.push(Number(s));
      }
    } catch {
      // thread gone
    }
  }
  return out;
}

/** `pid` and its descendants, at most 64 processes (bounded walk). */
export function treeOf(pid: number): number[] {
  const seen: number[] = [];
  const todo = [pid];
  while (todo.length > 0 && seen.length < 64) {
    const p = todo.shift()!;
    if (seen.includes(p)) continue;
    seen.push(p);
    todo.push(...childrenOf(p));
  }
  return seen;
}

/** utime and stime of one process in seconds and its minor faults, or `undefined` when it is gone. */
export function cpuTimesOf(
  pid: number,
): { user: number; system: number; minorFaults: number } | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so utime (14) is fields[11], stime (15) fields[12].
  // minflt (10) is fields[7].
  return {
    user: Number(fields[11]) / CLK_TCK,
    system: Number(fields[12]) / CLK_TCK,
    minorFaults: Number(fields[7]),
  };
}

/** VmRSS of one process in bytes, or 0 when it is gone. */
export function rssBytesOf(pid: number): number {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return 0;
  }
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m === null ? 0 : Number(m[1]) * 1024;
}

/**
 * Reads the tree of `pid`. CPU time of descendants that already exited is
 * not included (`cutime` would hold it only once the parent reaped them);
 * the servers measured here keep their workers for the whole run.
 */
export function sampleTree(pid: number): TreeSample {
  const pids = treeOf(pid);
  let cpuSeconds = 0;
  let systemSeconds = 0;
  let rssBytes = 0;
  let minorFaults = 0;
  for (const p of pids) {
    const t = cpuTimesOf(p);
    cpuSeconds += t === undefined ? 0 : t.user + t.system;
    systemSeconds += t?.system ?? 0;
    rssBytes += rssBytesOf(p);
    minorFaults += t?.minorFaults ?? 0;
  }
  return {
    atMs: performance.now(),
    cpuSeconds,
    systemSeconds,
    rssBytes,
    minorFaults,
    pids,
  };
}

/** What a {@link TreeSampler} saw between `start` and `stop`. */
export interface TreeUsage {
  wallSeconds: number;
  cpuSeconds: number;
  /** cpuSeconds / wallSeconds × 100: one busy core is 100 %. */
  cpuPercent: number;
  /** The kernel's part of cpuPercent. */
  systemPercent: number;
  rssPeakBytes: number;
  rssMeanBytes: number;
  /** Minor page faults per second. */
  faultsPerSecond: number;
  samples: number;
}

/** Samples a process tree's RSS on a timer and its CPU time at both ends. */
export class TreeSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  #first: TreeSample | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #peak = 0;
  #sum = 0;
  #count = 0;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  /** Takes the first sample and starts the timer. */
  start(): void {
    this.#first = this.#take();
    this.#timer = setInterval(() => this.#take(), this.#intervalMs);
  }

  /** Takes the last sample, stops the timer and sums up. */
  stop(): TreeUsage {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const last = this.#take();
    const first = this.#first ?? last;
    const wallSeconds = (last.atMs - first.atMs) / 1000;
    const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
    return {
      wallSeconds,
      cpuSeconds,
      cpuPercent: wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0,
      systemPercent: wallSeconds > 0
        ? ((last.systemSeconds - first.systemSeconds) / wallSeconds) * 100
        : 0,
      rssPeakBytes: this.#peak,
      rssMeanBytes: this.#count > 0 ? this.#sum / this.#count : 0,
      faultsPerSecond: wallSeconds > 0
        ? (last.minorFaults - first.minorFaults) / wallSeconds
        : 0,
      samples: this.#count,
    };
  }

  #take(): TreeSample {
    const s = sampleTree(this.#pid);
    this.#peak = Math.max(this.#peak, s.rssBytes);
    this.#sum += s.rssBytes;
    this.#count++;
    return s;
  }
}

/** Total and idle jiffies of the whole machine (`/proc/stat` line `cpu`). */
export function machineCpu(): { busySeconds: number; totalSeconds: number } {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return {
    busySeconds: (total - idle) / CLK_TCK,
    totalSeconds: total / CLK_TCK,
  };
}

/**
 * TCP segments sent by the whole network namespace so far (`OutSegs` of
 * `/proc/net/snmp`). On loopback every segment is also received here, so
 * this counts both directions of every connection once.
 */
export function tcpOutSegments(): number {
  const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n").filter((
    l,
  ) => l.startsWith("Tcp:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf("OutSegs")] ?? 0);
}

/** UDP counters of the whole network namespace (`Udp:` of `/proc/net/snmp`). */
export interface UdpCounters {
  /** Datagrams delivered to sockets. */
  inDatagrams: number;
  /** Datagrams sent. */
  outDatagrams: number;
  /** Datagrams dropped because a receiving socket's buffer was full. */
  rcvbufErrors: number;
  /** Sends that failed for a full send buffer. */
  sndbufErrors: number;
}

/**
 * UDP datagrams sent, delivered and dropped so far on the whole machine. On
 * loopback a datagram a server sends that no player reads in time shows up
 * as a receive buffer error: the load client fell behind, not the server.
 */
export function udpCounters(): UdpCounters {
  const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n").filter((
    l,
  ) => l.startsWith("Udp:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const get = (name: string) => Number(values[names.indexOf(name)] ?? 0);
  return {
    inDatagrams: get("InDatagrams"),
    outDatagrams: get("OutDatagrams"),
    rcvbufErrors: get("RcvbufErrors"),
    sndbufErrors: get("SndbufErrors"),
  };
}
