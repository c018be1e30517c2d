/**
 * The API and metrics under load: 1000 paths (one fed by ffmpeg, the others
 * by in-process publishers with H.264 + AAC tracks) and 1000 HTTP-FLV
 * players of the ffmpeg path in a load client process. Measures
 *
 * 1. what the players receive over `--seconds` without, with, then again
 *    without a scraper that GETs `/metrics` and `/api/v1/paths?limit=1000`
 *    every second (the delivered ratio must not change);
 * 2. the latency of `GET /metrics`, `GET /api/v1/paths?limit=1000` and
 *    `GET /api/v1/paths/live/p0` (1000 readers listed), p50 and p99.
 *
 * ```sh
 * deno run -A bench/api/api_load.ts [--paths 1000] [--readers 1000] [--seconds 10] [--requests 100]
 * ```
 *
 * @module
 */

import { parseConfig } from "../../lib/config/load.ts";
import { createLogger } from "../../lib/log.ts";
import { startSluice } from "../../lib/sluice.ts";
import { Flags } from "../load/_flags.ts";
import type { ClientLine } from "../load/_crowd.ts";

const flags = new Flags(Deno.args);
const PATHS = flags.number("paths", 1000, 1, 100_000);
const READERS = flags.number("readers", 1000, 1, 10_000);
const SECONDS = flags.number("seconds", 10, 1, 600);
const REQUESTS = flags.number("requests", 100, 1, 10_000);
flags.checkAllRead();

const hex = (s: string) =>
  Uint8Array.from(s.split(" ").map((b) => parseInt(b, 16)));
// x264 Constrained Baseline 320x240 25 fps (ffmpeg 5.1 testsrc2, -f h264)
const SPS = hex(
  "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
);
const PPS = hex("68 cb 83 cb 20");

const sluice = startSluice(
  parseConfig({
    rtmpAddress: "127.0.0.1:0",
    rtspAddress: "127.0.0.1:0",
    rtpAddress: "127.0.0.1:0",
    rtcpAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    writeQueueSize: "2MiB",
  }),
  createLogger({ level: "error" }),
);
const base = `http://127.0.0.1:${sluice.httpPort}`;

for (let i = 1; i < PATHS; i++) {
  const p = sluice.hub.publish(`live/p${i}`);
  p.setTracks([
    {
      kind: "video",
      id: 0,
      codec: "H264",
      clockRate: 90000,
      width: 320,
      height: 240,
      parameterSets: { sps: [SPS], pps: [PPS] },
    },
    {
      kind: "audio",
      id: 1,
      codec: "AAC",
      clockRate: 44100,
      sampleRate: 44100,
      channels: 1,
      config: hex("12 08"),
    },
  ]);
  p.writeFrame({
    trackId: 0,
    dts: 0,
    pts: 0,
    keyframe: true,
    units: [new Uint8Array(2000)],
  });
}

const ffmpeg = new Deno.Command("ffmpeg", {
  args: [
    ...["-hide_banner", "-nostdin", "-loglevel", "error", "-re"],
    ...["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"],
    ...["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"],
    ...["-g", "25", "-b:v", "500k", "-c:a", "aac", "-b:a", "64k"],
    ...["-f", "flv", `rtmp://127.0.0.1:${sluice.rtmpPort}/live/p0`],
  ],
  stdin: "null",
  stdout: "null",
}).spawn();
while (!sluice.hub.hasPublisher("live/p0")) {
  await new Promise((r) => setTimeout(r, 100));
}

const crowd = new Deno.Command(Deno.execPath(), {
  args: [
    ...["run", "-A", new URL("../load/_crowd.ts", import.meta.url).pathname],
    ...["--protocol", "flv", "--port", String(sluice.httpPort)],
    ...["--n", String(READERS), "--path", "live/p0", "--max-seconds", "600"],
  ],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const lines = crowd.stdout.pipeThrough(new TextDecoderStream()).getReader();
let pending = "";
async function nextLine(): Promise<ClientLine> {
  for (;;) {
    const nl = pending.indexOf("\n");
    if (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith("{")) return JSON.parse(line);
      continue;
    }
    const { value, done } = await lines.read();
    if (done) throw new Error("the load client ended");
    pending += value;
  }
}
const writer = crowd.stdin.getWriter();
const mark = async (): Promise<ClientLine> => {
  await writer.write(new TextEncoder().encode("mark\n"));
  for (;;) {
    const l = await nextLine();
    if (l.type === "mark") return l;
  }
};
const ready = await nextLine();
const playing = ready.errors.filter((e) => e === null).length;

/** Total Mbit/s the players received over `SECONDS`, while `during` runs. */
async function delivered(during?: () => Promise<void>): Promise<number> {
  const a = await mark();
  let on = true;
  const loop = (async () => {
    while (on && during) {
      const t = performance.now();
      await during();
      await new Promise((r) =>
        setTimeout(r, Math.max(0, 1000 - (performance.now() - t)))
      );
    }
  })();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  on = false;
  await loop;
  const b = await mark();
  let bytes = 0;
  for (let i = 0; i < a.bytes.length; i++) bytes += b.bytes[i]! - a.bytes[i]!;
  return bytes * 8 / ((b.atMs - a.atMs) / 1000) / 1e6;
}

const scrape = async () => {
  await (await fetch(`${base}/metrics`)).arrayBuffer();
  await (await fetch(`${base}/api/v1/paths?limit=1000`)).arrayBuffer();
};
const quiet = await delivered();
const scraped = await delivered(scrape);
const quietAgain = await delivered(); // the machine's own drift between phases

async function latency(url: string): Promise<[number, number, number]> {
  const ms: number[] = [];
  let size = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(url);
    size = (await res.arrayBuffer()).byteLength;
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) =>
    ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
  return [q(0.5), q(0.99), size];
}

const rows = [
  ["GET /metrics", await latency(`${base}/metrics`)],
  [
    "GET /api/v1/paths?limit=1000",
    await latency(`${base}/api/v1/paths?limit=1000`),
  ],
  ["GET /api/v1/paths/live/p0", await latency(`${base}/api/v1/paths/live/p0`)],
] as const;

console.log(
  `${PATHS} paths, ${READERS} HTTP-FLV players (${playing} playing), ${SECONDS} s per phase`,
);
console.log(
  `delivered: ${quiet.toFixed(1)} Mbit/s quiet, ${scraped.toFixed(1)} Mbit/s ` +
    `with a scrape every second, ${quietAgain.toFixed(1)} Mbit/s quiet again ` +
    `(scraped / mean quiet ${(2 * scraped / (quiet + quietAgain)).toFixed(3)})`,
);
for (const [name, [p50, p99, size]] of rows) {
  console.log(
    `${name.padEnd(30)} p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms  ${
      (size / 1024).toFixed(0)
    } KiB`,
  );
}

await writer.write(new TextEncoder().encode("stop\n"));
await writer.close().catch(() => {});
await crowd.status;
ffmpeg.kill("SIGINT");
await ffmpeg.status;
await sluice.close();
Deno.exit(0);
