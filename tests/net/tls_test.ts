/**
 * The TLS listener and client of lib/net/tls.ts on 127.0.0.1: sockets on
 * both sides get TCP_NODELAY (through FFI, which these tests are granted),
 * a stalled handshake is shut down after the timeout while another
 * connection is served, and data goes both ways.
 */
import assert from "node:assert/strict";
import {
  connectTls,
  hasNoDelay,
  listenTls,
  TlsHandshakeTimeout,
} from "../../lib/net/tls.ts";
import { testCert } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";

const opts = {
  ignore: requireTool("openssl"),
  sanitizeOps: false,
  sanitizeResources: false,
};

Deno.test(
  "listenTls gives accepted and connected TLS sockets TCP_NODELAY, and carries data",
  opts,
  async () => {
    const { certFile, keyFile, pem } = testCert();
    const accepted: Deno.TlsConn[] = [];
    const listener = listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: Deno.readTextFileSync(certFile),
      key: Deno.readTextFileSync(keyFile),
      onConnection: (c) => accepted.push(c),
    });
    try {
      assert.equal(listener.noDelay, true);
      const client = await connectTls("127.0.0.1", listener.port, {
        caCerts: [pem],
      });
      for (let i = 0; i < 100 && accepted.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const server = accepted[0]!;
      assert.equal(hasNoDelay(server), true, "accepted socket");
      assert.equal(hasNoDelay(client), true, "client socket");
      await client.write(new TextEncoder().encode("ping"));
      const buf = new Uint8Array(16);
      const n = await server.read(buf);
      assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "ping");
      client.close();
      server.close();
    } finally {
      listener.close();
    }
  },
);

Deno.test(
  "listenTls shuts a stalled handshake down after its timeout and serves others meanwhile",
  opts,
  async () => {
    const { certFile, keyFile, pem } = testCert();
    const errors: Error[] = [];
    let served = 0;
    const listener = listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: Deno.readTextFileSync(certFile),
      key: Deno.readTextFileSync(keyFile),
      handshakeTimeoutMs: 300,
      onConnection: (c) => {
        served++;
        c.close();
      },
      onHandshakeError: (e) => errors.push(e),
    });
    try {
      const stalled = await Deno.connect({
        hostname: "127.0.0.1",
        port: listener.port,
      });
      const start = Date.now();
      const ended = stalled.read(new Uint8Array(64));
      const other = await connectTls("127.0.0.1", listener.port, {
        caCerts: [pem],
      });
      other.close();
      const guard = setTimeout(() => stalled.close(), 3000);
      assert.equal(await ended, null, "the server closed the stalled socket");
      clearTimeout(guard);
      stalled.close();
      const ms = Date.now() - start;
      assert.ok(ms >= 250 && ms < 2000, `closed after ${ms} ms`);
      assert.equal(served, 1);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof TlsHandshakeTimeout);
    } finally {
      listener.close();
    }
  },
);
