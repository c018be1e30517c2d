/**
 * HLS serving: N players read the same live stream as HLS straight from
 * the server, Sluice (MPEG-TS variant, 2 s segments) beside nginx serving
 * nginx-rtmp's HLS output (`hls on`, 2 s fragments) of the same input, one
 * after the other in the same run. Each player polls the media playlist
 * every second and fetches every new segment once, from the live edge.
 * Reports the server's CPU (its whole process tree), Mbit delivered, Mbit
 * per CPU-second, mean RSS and RSS per player; the load client runs in this
 * process, apart from the servers.
 *
 * `--servers floor` adds the least a server on this runtime does for the
 * same players (`_hls_floor.ts`: Sluice's sockets, a playlist from the
 * clock, one segment's bytes from a memory file, no ingest or muxing).
 *
 * deno run -A bench/load/hls_serving.ts [--n 100,500] [--seconds 15] [--servers sluice,nginx,floor]
 */
import { ensureInput, probeInput, startPublisher } from "./_input.ts";
import { freePort, type Running, sleep, spawn, waitForPort } from "./_proc.ts";
import { TreeSampler } from "./_usage.ts";
import { spawnHlsSluice } from "./_hls_sluice.ts";
import { sluiceRunFlags } from "./_sluice_run.ts";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  args.set(Deno.args[i]!.replace(/^--/, ""), Deno.args[i + 1] ?? "");
}
const counts = (args.get("n") ?? "100,500").split(",").map(Number);
const seconds = Number(args.get("seconds") ?? 15);
const servers = (args.get("servers") ?? "sluice,nginx").split(",");
const repo = new URL("../../", import.meta.url).pathname;
const peers = `${repo}bench/load/.peers`;
const NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

interface Started {
  proc: Running;
  /** None for the floor, which ingests nothing. */
  publisher: Running | undefined;
  playlist: string;
}

async function start(
  kind: string,
  dir: string,
  input: string,
): Promise<Started> {
  const rtmp = freePort();
  const http = freePort();
  let proc: Running;
  let playlist: string;
  if (kind === "sluice") {
    proc = spawnHlsSluice(repo, { rtmp, http }, [
      ...["--hls-variant", "mpegts", "--hls-segment-duration", "2s"],
      ...["--hls-always-remux", "true"],
    ], `${dir}/sluice.log`);
    playlist = `http://127.0.0.1:${http}/live/bench/stream.m3u8`;
  } else if (kind === "floor") {
    proc = spawn(
      Deno.execPath(),
      [
        "run",
        "-A",
        ...sluiceRunFlags(),
        `${repo}bench/load/_hls_floor.ts`,
        ...["--port", String(http), "--segment-bytes", String(SEGMENT_BYTES)],
      ],
      `${dir}/floor.log`,
      repo,
    );
    playlist = `http://127.0.0.1:${http}/live/bench/stream.m3u8`;
  } else {
    Deno.mkdirSync(`${dir}/hls`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/nginx.conf`,
      `load_module ${NGINX_MODULE};
daemon off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
rtmp { server { listen 127.0.0.1:${rtmp}; chunk_size 4096;
  application live { live on; hls on; hls_path ${dir}/hls; hls_fragment 2s; hls_playlist_length 14s; } } }
http { access_log off; sendfile on; tcp_nopush on;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:${http};
    location /hls/ { alias ${dir}/hls/; add_header Cache-Control no-cache; } } }
`,
    );
    proc = spawn(
      "nginx",
      ["-c", `${dir}/nginx.conf`, "-p", `${dir}/`, "-e", `${dir}/error.log`],
      `${dir}/nginx.log`,
      dir,
    );
    playlist = `http://127.0.0.1:${http}/hls/bench.m3u8`;
  }
  if (kind !== "floor") await waitForPort(rtmp, 20_000, () => !proc.exited);
  await waitForPort(http, 20_000, () => !proc.exited);
  const publisher = kind === "floor" ? undefined : startPublisher(
    input,
    `rtmp://127.0.0.1:${rtmp}/live/bench`,
    `${dir}/ffmpeg.log`,
  );
  // Until the playlist has two segments.
  for (let i = 0; i < 300; i++) {
    const r = await fetch(playlist).catch(() => undefined);
    const text = r === undefined ? "" : await r.text();
    if (r?.status === 200 && text.split("#EXTINF").length > 2) break;
    if (i === 299) {
      throw new Error(`Cannot start ${kind}: no playlist at ${playlist}`);
    }
    await sleep(100);
  }
  return { proc, publisher, playlist };
}

/** One player: polls the playlist every second, fetches each new segment once. */
async function player(url: string, until: number): Promise<number> {
  const base = url.slice(0, url.lastIndexOf("/") + 1);
  const seen = new Set<string>();
  let bytes = 0;
  let first = true;
  for (let i = 0; i < 1000 && performance.now() < until; i++) {
    const text = await (await fetch(url)).text();
    const segments = text.split("\n").filter((l) =>
      l !== "" && !l.startsWith("#")
    );
    if (first) { for (const s of segments.slice(0, -1)) seen.add(s); }
    first = false;
    for (const s of segments) {
      if (seen.has(s) || performance.now() >= until) continue;
      seen.add(s);
      const r = await fetch(base + s);
      bytes += (await r.arrayBuffer()).byteLength;
    }
    await sleep(1000);
  }
  return bytes;
}

const input = await ensureInput(peers);
/** The floor's segment: 2 s of the input as MPEG-TS (packet and PES headers ~5 %). */
const SEGMENT_BYTES = servers.includes("floor")
  ? Math.round((await probeInput(input)).bitsPerSecond * 2 / 8 * 1.05)
  : 0;
console.log(`input ${input}; ${seconds} s per run; players poll every 1 s`);
console.log(
  "server  N     CPU %   sys %   Mbit/s  Mbit/CPU-s  RSS MiB  KiB/player",
);
for (const n of counts) {
  for (const kind of servers) {
    const dir = await Deno.makeTempDir({ prefix: `hls-${kind}-` });
    await Deno.chmod(dir, 0o777); // nginx's worker (nobody) writes the HLS files
    const s = await start(kind, dir, input);
    try {
      const idle = new TreeSampler(s.proc.pid);
      idle.start();
      await sleep(1000);
      const base = idle.stop();
      const sampler = new TreeSampler(s.proc.pid);
      const until = performance.now() + seconds * 1000;
      sampler.start();
      const bytes = (await Promise.all(
        Array.from({ length: n }, () => player(s.playlist, until)),
      )).reduce((a, b) => a + b, 0);
      const u = sampler.stop();
      const mbit = (bytes * 8) / 1e6;
      console.log(
        [
          kind.padEnd(7),
          String(n).padEnd(5),
          u.cpuPercent.toFixed(1).padStart(6),
          u.systemPercent.toFixed(1).padStart(7),
          (mbit / u.wallSeconds).toFixed(1).padStart(8),
          (u.cpuSeconds > 0 ? mbit / u.cpuSeconds : 0).toFixed(0).padStart(11),
          (u.rssMeanBytes / 2 ** 20).toFixed(1).padStart(8),
          (((u.rssMeanBytes - base.rssMeanBytes) / 1024) / n).toFixed(1)
            .padStart(11),
        ].join(" "),
      );
    } finally {
      await s.publisher?.stop();
      await s.proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
