/**
 * Sluice's own sockets in tests: a connected pair (Sluice's socket on the
 * server side, a Deno client) and reading a known length from the client.
 */
import { listenTcp, type StreamConn } from "../../lib/net/tcp.ts";

/** A connected pair: Sluice's own socket (server side) and a Deno client; `close` closes both. */
export async function ownSocketPair(): Promise<
  { server: StreamConn; client: Deno.TcpConn; close(): void }
> {
  let accepted!: (c: StreamConn) => void;
  const got = new Promise<StreamConn>((r) => accepted = r);
  const listener = listenTcp({
    hostname: "127.0.0.1",
    port: 0,
    onConnection: (c) => accepted(c),
  });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.port,
  });
  const server = await got;
  listener.close();
  return {
    server,
    client,
    close() {
      for (const c of [server, client]) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    },
  };
}

/** Reads `n` bytes from `conn` (fewer if it ends), pausing `pauseMs` between reads. */
export async function readExactly(
  conn: Deno.TcpConn,
  n: number,
  pauseMs = 0,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const got = await conn.read(out.subarray(at, Math.min(n, at + 65536)));
    if (got === null) break;
    at += got;
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return out.subarray(0, at);
}
