/**
 * VOD HLS serving: N players read the HLS of one MP4 file (the fan-out
 * input, 30 s of 960x540 H.264 at ~2.3 Mbit/s, 2 s GOP, remuxed to MP4),
 * each from its own starting segment, fetching one 2 s segment per second
 * (a player filling its buffer at twice real time) and wrapping at the end.
 * Sluice makes every segment on demand from the file (fMP4 or MPEG-TS);
 * beside it, nginx serves ffmpeg's ready-made HLS of the same file from
 * disk (`-f hls -hls_time 2`), the cost of static files. Reports the
 * server's CPU (its process tree), Mbit delivered, Mbit per CPU-second,
 * mean RSS and RSS per player; the load client runs in this process.
 *
 * deno run -A bench/load/vod_hls.ts [--n 100] [--seconds 15] [--servers sluice,sluice-ts,nginx]
 */
import { Flags } from "./_flags.ts";
import { ensureInput } from "./_input.ts";
import { freePort, type Running, sleep, spawn, waitForPort } from "./_proc.ts";
import { f0, f1, table } from "./_report.ts";
import { sluiceRunFlags } from "./_sluice_run.ts";
import { TreeSampler, type TreeUsage } from "./_usage.ts";

const flags = new Flags(Deno.args);
const counts = flags.string("n", "100").split(",").map(Number);
const seconds = flags.number("seconds", 15, 1, 600);
const servers = flags.list(
  "servers",
  ["sluice", "sluice-ts", "nginx"] as const,
);
const repo = new URL("../../", import.meta.url).pathname;

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-loglevel", "error", "-y", ...args],
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

async function start(
  kind: string,
  dir: string,
): Promise<{ proc: Running; url: string }> {
  const http = freePort();
  let proc: Running;
  let url: string;
  if (kind.startsWith("sluice")) {
    proc = spawn(
      Deno.execPath(),
      [
        "run",
        "-A",
        ...sluiceRunFlags(),
        `${repo}server.ts`,
        ...["--rtmp", "false", "--rtsp", "false", "--vod-path", `${dir}/vod`],
        ...["--http-address", `127.0.0.1:${http}`],
        ...["--hls-segment-duration", "2s", "--log-level", "warn"],
      ],
      `${dir}/sluice.log`,
      repo,
    );
    url = `http://127.0.0.1:${http}/vod/input.mp4/stream.m3u8${
      kind === "sluice-ts" ? "?variant=ts" : ""
    }`;
  } else {
    Deno.writeTextFileSync(
      `${dir}/nginx.conf`,
      `daemon off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:${http};
    location /hls/ { alias ${dir}/hls/; } } }
`,
    );
    proc = spawn(
      "nginx",
      ["-c", `${dir}/nginx.conf`, "-p", `${dir}/`, "-e", `${dir}/error.log`],
      `${dir}/nginx.log`,
      dir,
    );
    url = `http://127.0.0.1:${http}/hls/index.m3u8`;
  }
  await waitForPort(http, 20_000, () => !proc.exited);
  return { proc, url };
}

/** One player from segment `first`: the playlist once, then a segment a second. */
async function player(url: string, first: number, until: number) {
  const base = url.slice(0, url.lastIndexOf("/") + 1);
  const text = await (await fetch(url)).text();
  const lines = text.split("\n");
  const segments = lines.filter((l) => l !== "" && !l.startsWith("#"));
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
  let bytes = 0;
  if (map !== undefined) {
    bytes += (await (await fetch(base + map)).arrayBuffer()).byteLength;
  }
  for (let i = 0; i < 10_000 && performance.now() < until; i++) {
    const started = performance.now();
    const s = segments[(first + i) % segments.length]!;
    const r = await fetch(base + s);
    bytes += (await r.arrayBuffer()).byteLength;
    await sleep(Math.max(0, 1000 - (performance.now() - started)));
  }
  return bytes;
}

/** One server's run: what it cost and what it delivered. */
async function measure(kind: string, n: number): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: `vod-hls-${kind}-` });
  await Deno.chmod(dir, 0o755);
  Deno.mkdirSync(`${dir}/vod`);
  await ffmpeg(["-i", input, "-c", "copy", `${dir}/vod/input.mp4`]);
  if (kind === "nginx") {
    Deno.mkdirSync(`${dir}/hls`);
    await ffmpeg([
      ...["-i", `${dir}/vod/input.mp4`, "-c", "copy", "-f", "hls"],
      ...["-hls_time", "2", "-hls_playlist_type", "vod"],
      `${dir}/hls/index.m3u8`,
    ]);
  }
  const s = await start(kind, dir);
  try {
    // The playlist once, so the file is open before the idle sample.
    await (await fetch(s.url)).body?.cancel();
    const idle = await during(s.proc.pid, () => sleep(1000));
    const until = performance.now() + seconds * 1000;
    let bytes = 0;
    const busy = await during(s.proc.pid, async () => {
      const each = Array.from(
        { length: n },
        (_, i) => player(s.url, i % 15, until),
      );
      for (const b of await Promise.all(each)) bytes += b;
    });
    const mbit = (bytes * 8) / 1e6;
    const perPlayer = (busy.rssMeanBytes - idle.rssMeanBytes) / 1024 / n;
    return [
      kind,
      String(n),
      f1(busy.cpuPercent),
      f1(mbit / busy.wallSeconds),
      f0(mbit / busy.cpuSeconds),
      f1(busy.rssMeanBytes / 2 ** 20),
      f0(perPlayer),
    ];
  } finally {
    await s.proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The server tree's usage while `work` runs. */
async function during(
  pid: number,
  work: () => Promise<void>,
): Promise<TreeUsage> {
  const sampler = new TreeSampler(pid);
  sampler.start();
  await work();
  return sampler.stop();
}

const input = await ensureInput(`${repo}bench/load/.peers`);
flags.checkAllRead();
const rows: string[][] = [];
for (const n of counts) {
  for (const kind of servers) rows.push(await measure(kind, n));
}
console.log(
  `input ${input} as MP4; ${seconds} s per run; one 2 s segment per player per second\n`,
);
console.log(table(
  [
    "server",
    "players",
    "CPU %",
    "Mbit/s",
    "Mbit per CPU-s",
    "RSS MiB",
    "KiB per player",
  ],
  rows,
));
