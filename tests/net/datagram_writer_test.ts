import assert from "node:assert/strict";
import {
  DatagramWriter,
  type DatagramWriterOptions,
} from "../../lib/net/datagram_writer.ts";

const MODULE = new URL("../../lib/net/datagram_writer.ts", import.meta.url)
  .href;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** A socket on 127.0.0.1 (or `hostname`) that keeps every datagram it receives. */
function receiver(hostname = "127.0.0.1") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const got: Uint8Array[] = [];
  const loop = (async () => {
    try {
      for (;;) got.push((await socket.receive())[0]);
    } catch {
      // closed
    }
  })();
  return {
    socket,
    got,
    addr: socket.addr as Deno.NetAddr,
    close: () => (socket.close(), loop),
  };
}

function udp(hostname = "127.0.0.1"): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

/** Waits until `done()`, at most `ms`. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a rejection after `ms`. */
async function within<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Timed out after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A datagram of `size` bytes that says which one it is. */
function datagram(seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (seq * 31 + i) & 0xff;
  if (size >= 4) new DataView(p.buffer).setUint32(0, seq);
  return p;
}

// Frames as an RTP packetizer cuts them: full packets, then a shorter last one,
// and small ones between (audio, parameter sets); an empty datagram is legal UDP.
const FRAME_SIZES = [1200, 1200, 1200, 500, 40, 1200, 0, 1200, 1200];

const VARIANTS: { name: string; options: DatagramWriterOptions }[] = [
  { name: "sendmmsg with GSO", options: {} },
  { name: "sendmmsg without GSO", options: { segmentation: false } },
  { name: "small batches", options: { batchSize: 7 } },
  { name: "send()", options: { mode: "send" } },
];

for (const v of VARIANTS) {
  Deno.test(`DatagramWriter (${v.name}) delivers every datagram complete and in order to each receiver`, async () => {
    const receivers = Array.from({ length: 20 }, () => receiver());
    const socket = udp();
    const writer = new DatagramWriter(socket, v.options);
    assert.equal(writer.mode, v.options.mode === "send" ? "send" : "sendmmsg");
    const rounds = 30;
    let seq = 0;
    for (let round = 0; round < rounds; round++) {
      // one packet object for every reader, as a fan-out shares it
      const frame = FRAME_SIZES.map((size) => datagram(seq++, size));
      for (const r of receivers) for (const p of frame) writer.send(p, r.addr);
      await writer.drained();
      const want = (round + 1) * FRAME_SIZES.length;
      await until(() => receivers.every((r) => r.got.length >= want));
    }
    const total = rounds * FRAME_SIZES.length;
    for (const r of receivers) {
      assert.deepEqual(
        r.got,
        Array.from(
          { length: total },
          (_, i) => datagram(i, FRAME_SIZES[i % FRAME_SIZES.length]!),
        ),
      );
    }
    assert.equal(writer.sent, total * receivers.length);
    assert.equal(writer.refused + writer.dropped, 0);
    if (writer.mode === "sendmmsg") {
      assert.ok(writer.calls < writer.sent / 5, `${writer.calls} calls`);
    }
    writer.close();
    socket.close();
    await Promise.all(receivers.map((r) => r.close()));
  });
}

Deno.test("DatagramWriter keeps its socket receiving while it sends", async () => {
  const sink = udp(); // never read: the kernel drops what overflows
  const socket = udp();
  // 100 000 datagrams one message each, unpaced: some 200 ms of sending, in 2 ms slices
  const writer = new DatagramWriter(socket, {
    sliceMs: 2,
    segmentation: false,
    burstBytes: Infinity,
  });
  const flood = datagram(0, 500);
  const to = sink.addr as Deno.NetAddr;
  for (let i = 0; i < 100_000; i++) writer.send(flood, to);
  const peer = udp();
  const got: number[] = [];
  const queuedAtArrival: number[] = [];
  const reading = (async () => {
    while (got.length < 50) {
      const [d] = await socket.receive();
      got.push(new DataView(d.buffer, d.byteOffset).getUint32(0));
      queuedAtArrival.push(writer.queuedBytes);
    }
  })();
  for (let i = 0; i < 50; i++) await peer.send(datagram(i, 100), socket.addr);
  await within(reading);
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
  assert.ok(
    queuedAtArrival.some((q) => q > 0),
    "nothing arrived while the writer was sending",
  );
  await writer.drained();
  assert.equal(writer.sent, 100_000);
  await socket.send(datagram(7, 10), peer.addr); // Deno's own send still works
  const [back] = await peer.receive();
  assert.equal(new DataView(back.buffer, back.byteOffset).getUint32(0), 7);
  writer.close();
  for (const s of [sink, socket, peer]) s.close();
});

for (const mode of ["auto", "send"] as const) {
  Deno.test(`DatagramWriter (${mode}) counts datagrams the kernel refuses and sends the rest`, async () => {
    const r = receiver();
    const socket = udp();
    const writer = new DatagramWriter(socket, { mode });
    const ok = [0, 1, 2].map((i) => datagram(i, 300));
    writer.send(ok[0]!, r.addr);
    writer.send(datagram(9, 70_000), r.addr); // over UDP's 65507 bytes: EMSGSIZE
    writer.send(ok[1]!, r.addr);
    // an IPv6 destination from an IPv4 socket: EAFNOSUPPORT
    writer.send(ok[1]!, { transport: "udp", hostname: "::1", port: 9 });
    writer.send(ok[2]!, r.addr);
    await writer.drained();
    await until(() => r.got.length >= 3);
    assert.deepEqual(r.got, ok);
    assert.equal(writer.sent, 3);
    assert.equal(writer.refused, 2);
    assert.ok(writer.lastError !== undefined);
    writer.close();
    socket.close();
    await r.close();
  });
}

Deno.test("DatagramWriter sends to IPv4 and IPv6 receivers from a dual-stack socket", async () => {
  const v4 = receiver("127.0.0.1");
  const v6 = receiver("::1");
  const socket = udp("::");
  const writer = new DatagramWriter(socket);
  assert.equal(writer.mode, "sendmmsg");
  const frame = FRAME_SIZES.map((size, i) => datagram(i, size));
  const mapped: Deno.NetAddr = {
    transport: "udp",
    hostname: "::ffff:127.0.0.1",
    port: v4.addr.port,
  };
  for (const to of [v4.addr, v6.addr, mapped]) {
    for (const p of frame) writer.send(p, to);
  }
  await writer.drained();
  await until(() =>
    v4.got.length >= 2 * frame.length && v6.got.length >= frame.length
  );
  assert.deepEqual(v4.got, [...frame, ...frame]);
  assert.deepEqual(v6.got, frame);
  assert.equal(writer.refused, 0);
  writer.close();
  socket.close();
  await Promise.all([v4.close(), v6.close()]);
});

Deno.test("DatagramWriter refuses datagrams past maxQueuedBytes, says when it is backlogged and when it is ready again", async () => {
  const r = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket, {
    highWaterMark: 3000,
    maxQueuedBytes: 5000,
  });
  const accepted = Array.from(
    { length: 6 },
    (_, i) => writer.send(datagram(i, 1000), r.addr),
  );
  assert.deepEqual(accepted, [true, true, true, true, true, false]);
  assert.equal(writer.dropped, 1);
  assert.equal(writer.queuedBytes, 5000);
  assert.equal(writer.backlogged, true);
  await writer.ready();
  assert.ok(writer.queuedBytes < 1500, `${writer.queuedBytes} B queued`);
  await writer.drained();
  assert.equal(writer.queuedBytes, 0);
  assert.equal(writer.backlogged, false);
  await until(() => r.got.length >= 5);
  writer.close();
  socket.close();
  await r.close();
});

Deno.test("DatagramWriter paces each destination to burstBytes per interval, in order, without holding the others", async () => {
  // A GOP cache sent to a new player: 450 × 1 400 B, three times what a
  // default receive buffer holds. The player here reads on this very event
  // loop, one datagram per turn, so bursts are smaller and further apart
  // than the defaults meant for players in their own processes.
  const gop = receiver();
  const live = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket, {
    burstBytes: 16 * 1024,
    burstIntervalMs: 5,
  });
  const packets = Array.from({ length: 450 }, (_, i) => datagram(i, 1400));
  for (const p of packets) writer.send(p, gop.addr);
  const small = [0, 1, 2].map((i) => datagram(i, 200));
  for (const p of small) writer.send(p, live.addr);
  await until(() => live.got.length >= 3);
  assert.ok(gop.got.length < 450, "the other destination waited for the burst");
  await writer.drained();
  await until(() => gop.got.length >= 450);
  assert.deepEqual(gop.got, packets);
  assert.deepEqual(live.got, small);
  // 11 datagrams of 1 400 B fit in 16 KiB: 41 intervals
  assert.ok(writer.calls >= 41, `${writer.calls} calls`);
  writer.close();
  socket.close();
  await Promise.all([gop.close(), live.close()]);
});

Deno.test("DatagramWriter is not backlogged by datagrams held for one destination's next burst", async () => {
  // A player that fell behind hands over a GOP at once: its pacing must not
  // stop the readers of every other destination (with it counted, a
  // thousand UDP readers waited on one paced player and got 0.06 of the stream).
  const slow = receiver();
  const other = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket, {
    highWaterMark: 64 * 1024,
    burstBytes: 16 * 1024,
    burstIntervalMs: 20,
  });
  const gop = Array.from({ length: 200 }, (_, i) => datagram(i, 1400));
  for (const p of gop) writer.send(p, slow.addr);
  // at most the first burst has gone (under `deno test` a new timer runs
  // pending microtasks, the writer's flush among them)
  assert.ok(writer.queuedBytes >= 200 * 1400 - 16 * 1024);
  assert.equal(writer.backlogged, false);
  let called = false;
  writer.whenReady(() => called = true);
  assert.equal(called, true, "whenReady calls back at once");
  writer.send(datagram(0, 100), other.addr);
  await until(() => other.got.length >= 1);
  assert.ok(slow.got.length < 200, "the paced destination is still held");
  await writer.drained();
  await until(() => slow.got.length >= 200);
  assert.deepEqual(slow.got, gop);
  writer.close();
  socket.close();
  await Promise.all([slow.close(), other.close()]);
});

Deno.test("DatagramWriter.whenReady lets waiting readers send in turn, each only while there is room", async () => {
  const r = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket, {
    highWaterMark: 3000,
    burstBytes: Infinity,
  });
  for (let i = 0; i < 3; i++) writer.send(datagram(i, 1000), r.addr);
  assert.equal(writer.backlogged, true);
  const order: number[] = [];
  for (let k = 0; k < 5; k++) {
    writer.whenReady(() => {
      assert.equal(
        writer.backlogged,
        false,
        `reader ${k} woken to a full queue`,
      );
      order.push(k);
      writer.send(datagram(10 + 2 * k, 1000), r.addr);
      writer.send(datagram(11 + 2 * k, 1000), r.addr);
    });
  }
  assert.deepEqual(order, [], "nothing is called back while backlogged");
  await within(until(() => order.length === 5));
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  await writer.drained();
  await until(() => r.got.length >= 13);
  writer.close();
  socket.close();
  await r.close();
});

Deno.test("DatagramWriter with burstBytes Infinity sends a turn's datagrams at once", async () => {
  const r = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket, { burstBytes: Infinity });
  for (let i = 0; i < 200; i++) writer.send(datagram(i, 100), r.addr);
  await writer.drained();
  assert.equal(writer.sent, 200);
  if (writer.mode === "sendmmsg") assert.equal(writer.calls, 1);
  await until(() => r.got.length >= 92);
  writer.close();
  socket.close();
  await r.close();
});

Deno.test("DatagramWriter.close drops what is queued and refuses what comes after", async () => {
  const r = receiver();
  const socket = udp();
  const writer = new DatagramWriter(socket);
  writer.send(datagram(0, 100), r.addr);
  writer.send(datagram(1, 100), r.addr);
  writer.send(datagram(2, 70_000), r.addr); // over the burst: held for the next interval
  writer.close();
  assert.equal(writer.send(datagram(3, 100), r.addr), false);
  await writer.drained();
  assert.equal(writer.sent, 0);
  assert.equal(writer.dropped, 4);
  assert.equal(writer.queuedBytes, 0);
  socket.close();
  await r.close();
});

/** Runs `code` (which prints one JSON line) as a script with `flags`, through `wrap` (e.g. in a network namespace). */
async function runScript(
  code: string,
  flags: string[],
  wrap: (argv: string[]) => string[] = (argv) => argv,
): Promise<Record<string, unknown>> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const argv = wrap([
      Deno.execPath(),
      "run",
      "--config",
      CONFIG,
      ...flags,
      file,
    ]);
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(text.split("\n").at(-1)!);
  } finally {
    await Deno.remove(file);
  }
}

/** `rounds` × `count` datagrams of `size` bytes from a writer to one receiver; prints what each side saw. */
function floodScript(rounds: number, count: number, size: number): string {
  return `
import { DatagramWriter } from "${MODULE}";
const rx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const tx = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const writer = new DatagramWriter(tx);
const total = ${rounds} * ${count};
let got = 0, wrong = 0, ticks = 0;
const timer = setInterval(() => ticks++, 10);
const reading = (async () => {
  while (got < total) {
    const [d] = await rx.receive();
    if (d.length !== ${size} || new DataView(d.buffer, d.byteOffset).getUint32(0) !== got) wrong++;
    got++;
  }
})();
const deadline = Date.now() + 30_000;
for (let round = 0, seq = 0; round < ${rounds}; round++) {
  for (let i = 0; i < ${count}; i++) {
    const p = new Uint8Array(${size});
    new DataView(p.buffer).setUint32(0, seq++);
    writer.send(p, rx.addr);
  }
  await writer.drained();
  while (got < seq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
await Promise.race([reading, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
clearInterval(timer);
console.log(JSON.stringify({
  mode: writer.mode, segmentation: writer.segmentation, sent: writer.sent, waits: writer.waits,
  refused: writer.refused, dropped: writer.dropped, lastError: writer.lastError ?? null, got, wrong, ticks,
}));
writer.close(); tx.close(); rx.close();
Deno.exit(0);
`;
}

Deno.test("DatagramWriter falls back to send() without --allow-ffi for every library", async () => {
  const code = floodScript(2, 50, 500);
  const without = await runScript(code, [
    "--allow-net",
    "--allow-read",
    "--allow-env",
  ]);
  assert.equal(without.mode, "send");
  assert.equal(without.got, 100);
  assert.equal(without.wrong, 0);
  // Deno's pointer calls need FFI for every library, not one path.
  const scoped = await runScript(code, [
    "--allow-net",
    "--allow-read",
    "--allow-env",
    `--allow-ffi=${Deno.execPath()}`,
  ]);
  assert.equal(scoped.mode, "send");
  assert.equal(scoped.got, 100);
  const withFfi = await runScript(code, [
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-ffi",
  ]);
  assert.equal(withFfi.mode, "sendmmsg");
  assert.equal(withFfi.got, 100);
  assert.equal(withFfi.wrong, 0);
});

/** Whether this process may make network namespaces (root, `unshare`, `tc`). */
function canUseNetns(): boolean {
  try {
    return new Deno.Command("unshare", { args: ["-n", "tc", "qdisc", "show"] })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** `argv` in a new network namespace whose loopback is set up by `setup` (shell). */
function inNetns(setup: string): (argv: string[]) => string[] {
  return (argv) => [
    "unshare",
    "-n",
    "sh",
    "-c",
    `ip link set lo up && ${setup} && exec "$@"`,
    "sh",
    ...argv,
  ];
}

Deno.test({
  name:
    "DatagramWriter waits for room when the send buffer is full (EAGAIN) and loses nothing",
  ignore: !canUseNetns(),
  async fn() {
    // A 20 Mbit/s token bucket on a private loopback holds datagrams in its
    // queue, charged to the sender's 208 KiB send buffer, which fills.
    const seen = await runScript(
      floodScript(1, 3000, 1000),
      ["-A"],
      inNetns("tc qdisc add dev lo root tbf rate 20mbit burst 16kb limit 4mb"),
    );
    assert.equal(seen.mode, "sendmmsg");
    assert.ok((seen.waits as number) > 0, "the send buffer never filled");
    assert.equal(seen.sent, 3000);
    assert.equal(seen.got, 3000);
    assert.equal(seen.wrong, 0);
    assert.equal(seen.refused, 0);
    assert.equal(seen.dropped, 0);
    assert.ok((seen.ticks as number) > 20, "the event loop was held");
  },
});

Deno.test({
  name:
    "DatagramWriter turns segmentation off when the route refuses GSO, and still delivers",
  ignore: !canUseNetns(),
  async fn() {
    // 1600-byte segments over a 1500-byte MTU: the kernel refuses the GSO
    // message; single datagrams are fragmented and arrive whole.
    const seen = await runScript(
      floodScript(10, 20, 1600),
      ["-A"],
      inNetns("ip link set lo mtu 1500"),
    );
    assert.equal(seen.segmentation, false);
    assert.match(String(seen.lastError), /segmentation turned off/);
    assert.equal(seen.sent, 200);
    assert.equal(seen.got, 200);
    assert.equal(seen.wrong, 0);
    assert.equal(seen.refused, 0);
  },
});
