// UDP fan-out send path: 8 packets of 1 400 B (one video frame) to each of
// 1 000 readers on 127.0.0.1, the same packet objects for all of them as the
// RTP output shares them: 8 000 datagrams, 11.2 MB per iteration. The
// readers' sockets are never read, so past their receive buffers the kernel
// drops on arrival (it has done the send work by then); wall time of one
// process, so the kernel's share counts in full.
import { DatagramWriter } from "../lib/net/datagram_writer.ts";

const READERS = 1000;
const PACKETS = 8;
const SIZE = 1400;

const readers = Array.from(
  { length: READERS },
  () =>
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
);
const addrs = readers.map((r) => r.addr as Deno.NetAddr);
const frame = Array.from({ length: PACKETS }, (_, i) => {
  const p = new Uint8Array(SIZE).fill(i);
  new DataView(p.buffer).setUint32(0, i);
  return p;
});
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: "127.0.0.1",
  port: 0,
});
const sendmmsg = new DatagramWriter(socket, { segmentation: false });
const gso = new DatagramWriter(socket);
const fallback = new DatagramWriter(socket, { mode: "send" });

const group = `UDP send, ${READERS} readers × ${PACKETS} × ${SIZE} B = 11.2 MB`;
const options = { group, n: 30, warmup: 5 };
Deno.bench({
  ...options,
  name: "DatagramConn.send per datagram (UdpReader today)",
  baseline: true,
}, async () => {
  // each reader awaits its own sends, all readers at once
  await Promise.all(addrs.map(async (to) => {
    for (const p of frame) await socket.send(p, to);
  }));
});
Deno.bench(
  { ...options, name: `DatagramWriter ${fallback.mode}` },
  async () => {
    for (const to of addrs) for (const p of frame) fallback.send(p, to);
    await fallback.drained();
  },
);
Deno.bench(
  { ...options, name: `DatagramWriter ${sendmmsg.mode}` },
  async () => {
    for (const to of addrs) for (const p of frame) sendmmsg.send(p, to);
    await sendmmsg.drained();
  },
);
Deno.bench({
  ...options,
  name: `DatagramWriter ${gso.mode}${gso.segmentation ? " + GSO" : ""}`,
}, async () => {
  for (const to of addrs) for (const p of frame) gso.send(p, to);
  await gso.drained();
});

globalThis.addEventListener("unload", () => {
  for (const w of [sendmmsg, gso, fallback]) w.close();
  socket.close();
  for (const r of readers) r.close();
});
