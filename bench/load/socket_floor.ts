/**
 * What one accepted TCP socket costs the runtime, before any Sluice code: N
 * loopback connections are accepted by a bare `Deno.listen` loop, first left
 * alone, then each with one pending 256-byte read (as a Deno connection has
 * while its peer is quiet), then by Sluice's own FFI listener
 * (`lib/net/fd_conn.ts`), each waiting to read as Sluice's read loop does.
 * Prints RSS per socket after forced garbage collections. Each figure
 * includes a fixed part (the peers' process, the heap's growth): run two Ns
 * and take the slope for the cost of one more socket.
 *
 * ```
 * deno run -A --v8-flags=--expose-gc bench/load/socket_floor.ts [--n 1000]
 * ```
 *
 * @module
 */

import { Flags } from "./_flags.ts";
import type { FdConn } from "../../lib/net/fd_conn.ts";
import { listenFd } from "../../lib/net/fd_listener.ts";

const flags = new Flags(Deno.args);
const n = flags.number("n", 1000, 1, 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with --v8-flags=--expose-gc");
  Deno.exit(2);
}

/** N connections to `port` from a Python process, held until its stdin closes. */
function connectPeers(port: number): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: [
      "-c",
      `import socket, sys\n` +
      `s = [socket.create_connection(("127.0.0.1", ${port})) for _ in range(${n})]\n` +
      `sys.stdin.read()`,
    ],
    stdin: "piped",
  }).spawn();
}

/** RSS in KiB after two full collections. */
function rssKiB(): number {
  gc!();
  gc!();
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/**
 * KiB of RSS per accepted socket, with or without a pending read each. The
 * peers are a Python process's, so only the accepted ends count here.
 */
async function perSocket(read: boolean): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  await new Promise((r) => setTimeout(r, 300));
  const before = rssKiB();
  const peers = connectPeers(port);
  for await (const conn of listener) {
    accepted.push(conn);
    if (read) conn.read(new Uint8Array(256)).catch(() => {});
    if (accepted.length === n) break;
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKiB();
  await peers.stdin.close();
  await peers.status;
  // Leaving the for-await loop closed the listener.
  for (const c of accepted) c.close();
  return (after - before) / n;
}

/**
 * KiB of RSS per socket accepted by Sluice's own FFI listener
 * (`lib/net/fd_conn.ts`), each waiting to read as Sluice's read loop does.
 */
async function perFdSocket(): Promise<number> {
  const accepted: FdConn[] = [];
  let all: () => void = () => {};
  const done = new Promise<void>((r) => all = r);
  const listener = listenFd({
    hostname: "127.0.0.1",
    port: 0,
    onConnection(conn) {
      accepted.push(conn);
      // as Sluice's read loop does on its own sockets: no buffer while quiet
      conn.readEach(() => {}).catch(() => {});
      if (accepted.length === n) all();
    },
  });
  if (listener === null) {
    throw new Error("FFI sockets need --allow-ffi on Linux");
  }
  await new Promise((r) => setTimeout(r, 300));
  const before = rssKiB();
  const peers = connectPeers(listener.port);
  await done;
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKiB();
  await peers.stdin.close();
  await peers.status;
  listener.close();
  for (const c of accepted) c.close();
  return (after - before) / n;
}

const mode = flags.string("mode", "both");
if (mode === "fd") {
  console.log((await perFdSocket()).toFixed(1));
  Deno.exit(0);
}
if (mode !== "both") {
  console.log((await perSocket(mode === "read")).toFixed(1));
  Deno.exit(0);
}
// Each measurement in a process of its own: freed memory would be reused.
async function measureIn(mode: "idle" | "read" | "fd"): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      import.meta.filename!,
      "--n",
      String(n),
      "--mode",
      mode,
    ],
    stderr: "inherit",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
const idle = await measureIn("idle");
const reading = await measureIn("read");
const own = await measureIn("fd");
console.log(
  `Deno ${Deno.version.deno}, ${n} loopback sockets: ${idle} KiB RSS per ` +
    `accepted socket, ${reading} KiB with a pending 256-byte read on each; ` +
    `Sluice's own FFI sockets (one epoll wait for all): ${own} KiB, each waiting to read`,
);
