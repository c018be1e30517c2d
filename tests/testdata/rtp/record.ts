/**
 * Records the RTP packets ffmpeg sends to 127.0.0.1:<port> into a capture
 * file: each packet as a 16-bit big-endian length, then the packet.
 *
 * `deno run --allow-net --allow-write record.ts <port> <out.rtp> <idleMs>`
 * stops once no packet came for `idleMs` after the first one.
 */
const [portArg, outPath, idleArg] = Deno.args;
if (portArg === undefined || outPath === undefined) {
  throw new TypeError(
    "Cannot record: usage record.ts <port> <out.rtp> [idleMs]",
  );
}
const idleMs = Number(idleArg ?? 1500);
const socket = Deno.listenDatagram({
  hostname: "127.0.0.1",
  port: Number(portArg),
  transport: "udp",
});
const parts: Uint8Array[] = [];
let last = 0;
const watchdog = setInterval(() => {
  if (last !== 0 && Date.now() - last > idleMs) socket.close();
}, 100);
try {
  for await (const [packet] of socket) {
    last = Date.now();
    const len = new Uint8Array(2);
    new DataView(len.buffer).setUint16(0, packet.length);
    parts.push(len, packet);
  }
} catch (e) {
  if (!(e instanceof Deno.errors.BadResource)) throw e;
} finally {
  clearInterval(watchdog);
}
const size = parts.reduce((n, p) => n + p.length, 0);
const out = new Uint8Array(size);
let at = 0;
for (const p of parts) {
  out.set(p, at);
  at += p.length;
}
await Deno.writeFile(outPath, out);
console.log(`${parts.length / 2} packets, ${size} bytes → ${outPath}`);
