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
import { ensureInput } from "./_input.ts";
import { freePort, type Running, sleep, spawn, waitForPort } from "./_proc.ts";
import { TreeSampler } from "./_usage.ts";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  args.set(Deno.args[i]!.replace(/^--/, ""), Deno.args[i + 1] ?? "");
}
const counts = (args.get("n") ?? "100").split(",").map(Number);
const seconds = Number(args.get("seconds") ?? 15);
const servers = (args.get("servers") ?? "sluice,sluice-ts,nginx").split(",");
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
        "--v8-flags=--max-semi-space-size=4",
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

const input = await ensureInput(`${repo}bench/load/.peers`);
console.log(
  `input ${input} as MP4; ${seconds} s per run; one 2 s segment per player per second`,
);
console.log("server     N     CPU %   Mbit/s  Mbit/CPU-s  RSS MiB  KiB/player");
for (const n of counts) {
  for (const kind of servers) {
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
      const idle = new TreeSampler(s.proc.pid);
      idle.start();
      await sleep(1000);
      const base = idle.stop();
      const sampler = new TreeSampler(s.proc.pid);
      const until = performance.now() + seconds * 1000;
      sampler.start();
      const bytes = (await Promise.all(
        Array.from({ length: n }, (_, i) => player(s.url, i % 15, until)),
      )).reduce((a, b) => a + b, 0);
      const u = sampler.stop();
      const mbit = (bytes * 8) / 1e6;
      console.log(
        [
          kind.padEnd(10),
          String(n).padEnd(5),
          u.cpuPercent.toFixed(1).padStart(6),
          (mbit / u.wallSeconds).toFixed(1).padStart(8),
          (u.cpuSeconds > 0 ? mbit / u.cpuSeconds : 0).toFixed(0).padStart(11),
          (u.rssMeanBytes / 2 ** 20).toFixed(1).padStart(8),
          (((u.rssMeanBytes - base.rssMeanBytes) / 1024) / n).toFixed(1)
            .padStart(11),
        ].join(" "),
      );
    } finally {
      await s.proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
