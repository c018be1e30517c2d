/**
 * The recorder's cost: N paths published at once (default 100, the fan-out
 * input at ~2.5 Mbit/s each, one ffmpeg `tee` publishing them all without
 * re-encoding), Sluice measured without recording and then recording all of
 * them (fMP4 by default), and the bytes it wrote per second against what
 * `dd` writes to the same folder in the same run.
 *
 * ```sh
 * deno run -A bench/load/record.ts --paths 100 --seconds 20 [--format flv] [--dir /var/tmp/rec]
 * ```
 *
 * @module
 */

import { Flags } from "./_flags.ts";
import { ensureInput, probeInput } from "./_input.ts";
import { freePort, type Running, sleep, spawn, waitForPort } from "./_proc.ts";
import { TreeSampler, type TreeUsage } from "./_usage.ts";
import { f0, f1, f2, machineLine, table } from "./_report.ts";
import { sluiceRunFlags } from "./_sluice_run.ts";

const flags = new Flags(Deno.args);
const paths = flags.number("paths", 100, 1, 1000);
const seconds = flags.number("seconds", 20, 1, 3600);
const warmup = flags.number("warmup", 5, 0, 600);
const format = flags.oneOf("format", ["fmp4", "flv"] as const, "fmp4");
const root = new URL(".", import.meta.url).pathname;
const peers = `${root}.peers`;
const dir = flags.string("dir", "") ||
  await Deno.makeTempDir({ prefix: "sluice-rec-" });
flags.checkAllRead();
await Deno.mkdir(dir, { recursive: true });
const logs = `${peers}/record-logs`;
await Deno.mkdir(logs, { recursive: true });

const input = await ensureInput(peers);
const { bitsPerSecond } = await probeInput(input);

/** `dd` of 512 MiB to the recordings folder, flushed: the disk's own sequential write rate. */
async function ddMegabytesPerSecond(): Promise<number> {
  const out = await new Deno.Command("dd", {
    args: [
      "if=/dev/zero",
      `of=${dir}/dd.bin`,
      "bs=1M",
      "count=512",
      "conv=fdatasync",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(`${dir}/dd.bin`).catch(() => {});
  const text = new TextDecoder().decode(out.stderr);
  // "536870912 bytes (537 MB, 512 MiB) copied, 1.2 s, 447 MB/s"
  const m = /copied, ([\d.,]+) s/.exec(text);
  if (m === null) throw new Error(`Cannot read dd's output: ${text}`);
  return 536870912 / 1e6 / Number(m[1]!.replace(",", "."));
}

/** Bytes of the files below `d`. */
async function bytesBelow(d: string): Promise<number> {
  let n = 0;
  const walk = async (p: string) => {
    for await (const e of Deno.readDir(p)) {
      if (e.isDirectory) await walk(`${p}/${e.name}`);
      else if (e.isFile) n += (await Deno.stat(`${p}/${e.name}`)).size;
    }
  };
  await walk(d).catch(() => {});
  return n;
}

interface Phase {
  usage: TreeUsage;
  /** Bytes the recorder wrote per second during the measurement. */
  writtenBytesPerSecond: number;
}

async function phase(record: boolean): Promise<Phase> {
  const port = freePort();
  const args = [
    "run",
    "-A",
    ...sluiceRunFlags(),
    `${root}../../server.ts`,
    ...["--rtmp-address", `127.0.0.1:${port}`, "--rtsp=false", "--http=false"],
    ...["--log-level", "warn"],
  ];
  if (record) {
    args.push(
      ...["--record", "--record-format", format],
      ...["--record-path", `${dir}/%path/%Y-%m-%d_%H-%M-%S-%f`],
      ...["--record-delete-after", "0"],
    );
  }
  const server = spawn(Deno.execPath(), args, `${logs}/sluice-${record}.log`);
  let publisher: Running | undefined;
  try {
    await waitForPort(port, 20_000, () => !server.exited);
    const outputs = Array.from(
      { length: paths },
      (_, i) => `[f=flv:onfail=ignore]rtmp\\://127.0.0.1\\:${port}/live/p${i}`,
    ).join("|");
    publisher = spawn("ffmpeg", [
      ...["-hide_banner", "-nostdin", "-loglevel", "warning"],
      ...["-re", "-stream_loop", "-1", "-i", input],
      ...["-map", "0", "-c", "copy", "-f", "tee", outputs],
    ], `${logs}/ffmpeg-${record}.log`);
    await sleep(warmup * 1000);
    const before = await bytesBelow(dir);
    const sampler = new TreeSampler(server.pid);
    sampler.start();
    await sleep(seconds * 1000);
    const usage = sampler.stop();
    const after = await bytesBelow(dir);
    return {
      usage,
      writtenBytesPerSecond: (after - before) / usage.wallSeconds,
    };
  } finally {
    await publisher?.stop();
    await server.stop();
  }
}

const ddMBps = await ddMegabytesPerSecond();
const live = await phase(false);
const recording = await phase(true);
await Deno.remove(dir, { recursive: true }).catch(() => {});

const mb = (b: number) => b / 1e6;
const perPath = (a: number, b: number) => (b - a) / paths;
const expectedMBps = (bitsPerSecond / 8 / 1e6) * paths;
console.log(machineLine());
console.log(
  `${paths} paths × ${
    f2(bitsPerSecond / 1e6)
  } Mbit/s, ${seconds} s measured after ${warmup} s, format ${format}\n`,
);
console.log(table(
  ["", "CPU %", "RSS mean MB", "RSS peak MB", "written MB/s"],
  [
    [
      "live only",
      f1(live.usage.cpuPercent),
      f0(mb(live.usage.rssMeanBytes)),
      f0(mb(live.usage.rssPeakBytes)),
      "0",
    ],
    [
      "recording",
      f1(recording.usage.cpuPercent),
      f0(mb(recording.usage.rssMeanBytes)),
      f0(mb(recording.usage.rssPeakBytes)),
      f1(mb(recording.writtenBytesPerSecond)),
    ],
  ],
));
console.log();
console.log(table(
  ["recorder per path", "value"],
  [
    [
      "CPU % of one core",
      f2(perPath(live.usage.cpuPercent, recording.usage.cpuPercent)),
    ],
    [
      "memory (RSS mean) KB",
      f0(perPath(live.usage.rssMeanBytes, recording.usage.rssMeanBytes) / 1024),
    ],
    [
      "written / published",
      f2(mb(recording.writtenBytesPerSecond) / expectedMBps),
    ],
    [
      "disk: recorder MB/s vs dd MB/s",
      `${f1(mb(recording.writtenBytesPerSecond))} / ${f0(ddMBps)}`,
    ],
  ],
));
