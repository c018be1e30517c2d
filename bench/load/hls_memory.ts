/**
 * Memory of live HLS in Sluice (its own process, default HLS settings:
 * Low-Latency, 1 s segments or the GOP, 200 ms parts, 7 segments): the
 * resident set of the server process idle, with P paths published (ffmpeg
 * copying the 2.3 Mbit/s, GOP 2 s benchmark input over RTMP), with HLS
 * started on each of them (one request each) once their windows are full,
 * then with V Low-Latency HLS viewers on one path, each doing what hls.js
 * does at the live edge: a blocking playlist reload for the next part
 * (`_HLS_msn`/`_HLS_part`), then that part. Reports MiB per path with HLS
 * on (over the same path without it) and KiB per viewer (over HLS on
 * without viewers; mean RSS while the viewers play).
 *
 * deno run -A bench/load/hls_memory.ts [--paths 10] [--viewers 100,300] [--seconds 10]
 */
import { ensureInput, startPublisher } from "./_input.ts";
import { freePort, type Running, sleep, waitForPort } from "./_proc.ts";
import { spawnHlsSluice } from "./_hls_sluice.ts";
import { TreeSampler } from "./_usage.ts";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  args.set(Deno.args[i]!.replace(/^--/, ""), Deno.args[i + 1] ?? "");
}
const paths = Number(args.get("paths") ?? 10);
const viewerCounts = (args.get("viewers") ?? "100,300").split(",").map(Number);
const seconds = Number(args.get("seconds") ?? 10);
const repo = new URL("../../", import.meta.url).pathname;
const MIB = 2 ** 20;

/** Mean RSS of `pid` over `ms`. */
async function rss(pid: number, ms: number): Promise<number> {
  const s = new TreeSampler(pid);
  s.start();
  await sleep(ms);
  return s.stop().rssMeanBytes;
}

/**
 * One Low-Latency HLS viewer at the live edge until `until`; returns the
 * parts it got. Viewer `i` has its own connections from an address of its
 * own, 127.0.x.y (Sluice bounds blocked requests per client address).
 */
async function viewer(base: string, i: number, until: number): Promise<number> {
  using client = Deno.createHttpClient({
    localAddress: `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`,
  });
  const fetch = (url: string) => globalThis.fetch(url, { client });
  let text = await (await fetch(base + "stream.m3u8")).text();
  let parts = 0;
  for (let k = 0; k < 10_000 && performance.now() < until; k++) {
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([0-9a-f]+)_(\d+)_(\d+)/
      .exec(text);
    if (hint === null) throw new Error(`no preload hint in\n${text}`);
    const [, prefix, msn, part] = hint;
    // The playlist that holds the hinted part, then the part (hls.js asks for both).
    const [playlist, media] = await Promise.all([
      fetch(`${base}stream.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`),
      fetch(`${base}${prefix}_${msn}_${part}.mp4`),
    ]);
    text = await playlist.text();
    if ((await media.arrayBuffer()).byteLength > 0) parts++;
    if (playlist.status !== 200) await sleep(200);
  }
  return parts;
}

const input = await ensureInput(`${repo}bench/load/.peers`);
const dir = await Deno.makeTempDir({ prefix: "hls-memory-" });
const rtmp = freePort();
const http = freePort();
const server = spawnHlsSluice(repo, { rtmp, http }, [], `${dir}/sluice.log`);
const publishers: Running[] = [];
try {
  await waitForPort(rtmp, 20_000, () => !server.exited);
  await waitForPort(http, 20_000, () => !server.exited);
  await sleep(2000);
  const idle = await rss(server.pid, 3000);
  for (let p = 0; p < paths; p++) {
    publishers.push(
      startPublisher(
        input,
        `rtmp://127.0.0.1:${rtmp}/live/m${p}`,
        `${dir}/ffmpeg${p}.log`,
      ),
    );
  }
  await sleep(8000);
  const published = await rss(server.pid, 4000);
  const url = (p: number) => `http://127.0.0.1:${http}/live/m${p}/`;
  for (let p = 0; p < paths; p++) {
    const r = await fetch(url(p) + "index.m3u8");
    await r.body?.cancel();
    if (r.status !== 200) throw new Error(`HLS of live/m${p}: ${r.status}`);
  }
  // Seven segments of the input's 2 s GOP fill each window in 14 s.
  await sleep(18_000);
  const withHls = await rss(server.pid, 4000);
  const window = (await (await fetch(url(0) + "stream.m3u8")).text())
    .split("#EXTINF").length - 1;
  console.log(
    `paths ${paths}, input 2.3 Mbit/s GOP 2 s; RSS idle ${
      (idle / MIB).toFixed(1)
    } MiB, published ${(published / MIB).toFixed(1)} MiB (${
      ((published - idle) / MIB / paths).toFixed(2)
    } MiB/path), HLS on ${(withHls / MIB).toFixed(1)} MiB (+${
      ((withHls - published) / MIB / paths).toFixed(2)
    } MiB/path for HLS, ${window} segments in the window)`,
  );
  for (const n of viewerCounts) {
    const until = performance.now() + seconds * 1000;
    const sampler = new TreeSampler(server.pid);
    const running = Promise.all(
      Array.from({ length: n }, (_, i) => viewer(url(0), i, until)),
    );
    await sleep(Math.min(3000, seconds * 300)); // let the crowd settle first
    sampler.start();
    const parts = await running;
    const u = sampler.stop();
    const perViewer = (u.rssMeanBytes - withHls) / 1024 / n;
    const got = parts.reduce((a, b) => a + b, 0);
    console.log(
      `${n} LL-HLS viewers: RSS ${(u.rssMeanBytes / MIB).toFixed(1)} MiB (${
        perViewer.toFixed(1)
      } KiB/viewer), CPU ${u.cpuPercent.toFixed(0)} %, ${
        (got / n / seconds).toFixed(1)
      } parts/s per viewer`,
    );
    await sleep(3000);
  }
} finally {
  for (const p of publishers) await p.stop();
  await server.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
