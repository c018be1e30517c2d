/**
 * Multicast fan-out: Sluice's CPU while 0, 1 and 100 (`--n`) RTSP sessions
 * play one path over multicast. The server sends one copy of each packet
 * per track however many sessions play, so its CPU should stay flat.
 *
 * Everything runs in a network namespace this script makes (root; `ip`):
 * its `lo` routes 224.0.0.0/4, so no packet leaves it. Sluice runs as its
 * own process (`server.ts`), ffmpeg publishes the fan-out benchmark's input
 * over RTMP (`-c copy`), and this process holds the N RTSP sessions (each
 * SETUPs both tracks with `RTP/AVP;multicast` and PLAYs, then keeps alive)
 * plus one socket joined to the video group that counts what arrives: a
 * network delivers one copy to each receiving host, and N receiving sockets
 * on the server's own host would make the kernel copy each packet N times
 * in the sender's send call, which no remote player costs it.
 *
 * ```sh
 * deno run -A bench/multicast/fanout.ts                 # N = 0,1,100, 20 s each
 * deno run -A bench/multicast/fanout.ts --n 1,100,500 --seconds 10
 * ```
 *
 * @module
 */

import { Flags } from "../load/_flags.ts";
import { ensureInput, probeInput, startPublisher } from "../load/_input.ts";
import { type Running, sleep, spawn, waitForPort } from "../load/_proc.ts";
import { TreeSampler } from "../load/_usage.ts";
import { sluiceRunFlags } from "../load/_sluice_run.ts";
import { withNetns } from "../../tests/_util/netns.ts";
import { joinMulticast } from "../../lib/net/multicast.ts";
import { receiveDatagrams } from "../../lib/net/udp.ts";
import { parseTransport } from "../../lib/rtsp/headers/transport.ts";
import { RawRtsp } from "../../tests/_util/rtsp_raw.ts";

const flags = new Flags(Deno.args);
const COUNTS = flags.string("n", "0,1,100").split(",").map((n) => {
  const v = Number(n);
  if (!Number.isInteger(v) || v < 0 || v > 2000) {
    throw new Error(`Cannot use --n "${n}": expected counts 0..2000`);
  }
  return v;
});
const SECONDS = flags.number("seconds", 20, 1, 600);
const WARMUP = flags.number("warmup", 3, 0, 60);
flags.checkAllRead();
const ROOT = new URL("../..", import.meta.url).pathname;
const PEERS = `${ROOT}bench/load/.peers`;
const RTSP_PORT = 8554;
const URL_ = `rtsp://127.0.0.1:${RTSP_PORT}/live/bench`;

if (Deno.env.get("MULTICAST_NETNS") === undefined) {
  // Encode the input here (once), then run again inside a namespace.
  await ensureInput(PEERS);
  const code = await withNetns(async (ns) => {
    const child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "-A",
        import.meta.filename!,
        ...Deno.args,
      ],
      env: { MULTICAST_NETNS: ns },
    }).spawn();
    return (await child.status).code;
  });
  Deno.exit(code);
}

const input = await ensureInput(PEERS);
const { bitsPerSecond } = await probeInput(input);
const logDir = await Deno.makeTempDir({ prefix: "sluice-mc-bench-" });
const server = spawn(Deno.execPath(), [
  "run",
  "-A",
  ...sluiceRunFlags(),
  `${ROOT}server.ts`,
  "--log-level",
  "warn",
  "--rtsp-address",
  `127.0.0.1:${RTSP_PORT}`,
  "--rtp-address",
  "127.0.0.1:8000",
  "--rtcp-address",
  "127.0.0.1:8001",
  "--rtmp-address",
  "127.0.0.1:1935",
  "--http-address",
  "127.0.0.1:8080",
], `${logDir}/sluice.log`);
let publisher: Running | undefined;
const sessions: { raw: RawRtsp; session: string }[] = [];
try {
  await waitForPort(RTSP_PORT, 15_000, () => !server.exited);
  await waitForPort(1935, 15_000, () => !server.exited);
  publisher = startPublisher(
    input,
    "rtmp://127.0.0.1:1935/live/bench",
    `${logDir}/ffmpeg.log`,
  );
  await sleep(3000); // the publisher is up and a GOP is cached
  console.log(
    `input ${
      (bitsPerSecond / 1e6).toFixed(2)
    } Mbit/s; Sluice pid ${server.pid}; logs in ${logDir}`,
  );
  console.log(
    "| multicast sessions | server CPU | kernel | RSS | group's video Mbit/s | datagrams/s | duplicates |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  let group: string | undefined;
  for (const n of COUNTS) {
    while (sessions.length < n) {
      const s = await openSession();
      group ??= s.group;
      sessions.push(s);
    }
    while (sessions.length > n) {
      const s = sessions.pop()!;
      await s.raw.request("TEARDOWN", URL_, { Session: s.session });
      s.raw.close();
    }
    const seen = group !== undefined && n > 0
      ? await observe(group)
      : undefined;
    const keepAlive = setInterval(() => {
      for (const s of sessions) {
        void s.raw.request("GET_PARAMETER", URL_, { Session: s.session })
          .catch(() => {});
      }
    }, 20_000);
    await sleep(WARMUP * 1000);
    const sampler = new TreeSampler(server.pid);
    const from = { ...seen?.counts ?? { packets: 0, bytes: 0, duplicates: 0 } };
    sampler.start();
    await sleep(SECONDS * 1000);
    const u = sampler.stop();
    clearInterval(keepAlive);
    const c = seen?.counts ?? from;
    const seconds = u.wallSeconds;
    console.log(
      `| ${n} | ${u.cpuPercent.toFixed(1)} % | ${
        u.systemPercent.toFixed(1)
      } % | ${(u.rssMeanBytes / 2 ** 20).toFixed(0)} MiB | ${
        ((c.bytes - from.bytes) * 8 / seconds / 1e6).toFixed(2)
      } | ${((c.packets - from.packets) / seconds).toFixed(0)} | ${
        c.duplicates - from.duplicates
      } |`,
    );
    seen?.close();
  }
} finally {
  for (const s of sessions) s.raw.close();
  await publisher?.stop();
  await server.stop();
}

/** One multicast session of both tracks, playing. */
async function openSession() {
  const raw = await RawRtsp.connect(RTSP_PORT);
  const d = await raw.request("DESCRIBE", URL_);
  if (d.status !== 200) throw new Error(`DESCRIBE answered ${d.status}`);
  let session: string | undefined;
  let group: string | undefined;
  for (const track of [0, 1]) {
    const r = await raw.request("SETUP", `${URL_}/trackID=${track}`, {
      Transport: "RTP/AVP;multicast",
      ...(session === undefined ? {} : { Session: session }),
    });
    if (r.status !== 200) throw new Error(`SETUP answered ${r.status}`);
    session ??= r.headers.get("Session")!.split(";")[0]!;
    group ??= parseTransport(r.headers.get("Transport")!)[0]!.destination;
  }
  const p = await raw.request("PLAY", `${URL_}/`, { Session: session! });
  if (p.status !== 200) throw new Error(`PLAY answered ${p.status}`);
  return { raw, session: session!, group: group! };
}

/** One receiver of the video group: packets, bytes, and packets that came twice. */
async function observe(group: string) {
  const socket = await joinMulticast(group, 8002);
  const seen = new Set<number>();
  const counts = { packets: 0, bytes: 0, duplicates: 0 };
  void receiveDatagrams(socket, (d) => {
    if (d.length < 12) return;
    const seq = (d[2]! << 8) | d[3]!;
    if (seen.has(seq)) counts.duplicates++;
    seen.add(seq);
    if (seen.size > 30_000) seen.clear(); // well inside a 65536 wrap
    counts.packets++;
    counts.bytes += d.length;
  });
  return { counts, close: () => socket.close() };
}
