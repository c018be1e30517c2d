/**
 * VOD fan-out: N readers of one file, each at its own position, paced in
 * real time by the one wheel and packetized into RTP by a private output
 * each (what an RTSP reader costs without its socket). Prints CPU and
 * memory per reader.
 *
 *     deno run -A bench/load/vod_fanout.ts [readers=300] [seconds=20]
 */
import { cpuUsage } from "node:process";
import { RtpOutput } from "../../lib/egress/rtp_output.ts";
import { Vod, type VodStream } from "../../lib/vod/vod.ts";

const readers = Number(Deno.args[0] ?? 300);
const seconds = Number(Deno.args[1] ?? 20);
const dir = await Deno.makeTempDir({ prefix: "sluice-vod-bench-" });
const make = new Deno.Command("ffmpeg", {
  args: [
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=640x360:rate=25",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=44100",
    "-t",
    "120",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-b:v",
    "1M",
    "-g",
    "25",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-b:a",
    "64k",
    `${dir}/clip.mp4`,
  ],
}).outputSync();
if (!make.success) throw new Error(new TextDecoder().decode(make.stderr));

const vod = new Vod(dir);
let packets = 0;
let bytes = 0;
const open: VodStream[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rssBefore = Deno.memoryUsage().rss;
const heapBefore = Deno.memoryUsage().heapUsed;
for (let i = 0; i < readers; i++) {
  const output = new RtpOutput(() => []);
  const v = await vod.open("clip.mp4", {
    timeline: "continuous",
    onFrame: (f) => output.frame(f),
    onEnd: () => {},
  });
  output.tracks(v.file.source.tracks);
  output.addReader({
    offer: (_id, p) => {
      packets++;
      bytes += p.bytes.length;
    },
    onEnd: () => {},
  }, new Set(v.file.source.tracks.map((t) => t.id)));
  await v.player.play((i * 100) / readers);
  open.push(v);
}
await new Promise((r) => setTimeout(r, 2000)); // every reader running
const cpu0 = cpuUsage();
const p0 = packets;
const b0 = bytes;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu = cpuUsage(cpu0);
const ms = performance.now() - t0;
gc?.();
const mem = Deno.memoryUsage();
const cpuPct = ((cpu.user + cpu.system) / 1000 / ms) * 100;
console.log(JSON.stringify({
  readers,
  seconds: Math.round(ms / 1000),
  openFiles: vod.folder.openFiles,
  cpuPercentOfOneCore: Number(cpuPct.toFixed(1)),
  cpuPercentPerReader: Number((cpuPct / readers).toFixed(3)),
  rssMiB: Number((mem.rss / 2 ** 20).toFixed(1)),
  rssPerReaderKiB: Number(((mem.rss - rssBefore) / 1024 / readers).toFixed(0)),
  heapPerReaderKiB: Number(
    ((mem.heapUsed - heapBefore) / 1024 / readers).toFixed(0),
  ),
  rtpPacketsPerSecond: Math.round(((packets - p0) * 1000) / ms),
  mbitPerSecond: Number((((bytes - b0) * 8) / ms / 1000).toFixed(1)),
}));
for (const v of open) v.close();
vod.close();
await Deno.remove(dir, { recursive: true });
