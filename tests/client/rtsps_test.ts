/**
 * The RTSP client over TLS against a hand-built RTSPS server: it never
 * follows a redirect out of TLS (to plain RTSP or a plain HTTP tunnel), and it refuses a certificate it was not
 * told to trust.
 */
import assert from "node:assert/strict";
import { RtspClient, RtspClientError } from "../../lib/client/rtsp/client.ts";
import { listenTls } from "../../lib/net/tls.ts";
import { testCert } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";

const opts = {
  ignore: requireTool("openssl"),
  sanitizeOps: false,
  sanitizeResources: false,
};

/** An RTSPS server that answers every request with a redirect to `location`. */
function redirecting(location: string) {
  const { certFile, keyFile } = testCert();
  const conns: Deno.TlsConn[] = [];
  const listener = listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(certFile),
    key: Deno.readTextFileSync(keyFile),
    onConnection: async (conn) => {
      conns.push(conn);
      const buf = new Uint8Array(4096);
      try {
        const n = await conn.read(buf);
        const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
        const cseq = /CSeq: *(\d+)/i.exec(head)?.[1] ?? "0";
        await conn.write(new TextEncoder().encode(
          `RTSP/1.0 302 Found\r\nCSeq: ${cseq}\r\nLocation: ${location}\r\n\r\n`,
        ));
      } catch {
        // the client went
      }
    },
  });
  return {
    url: `rtsps://127.0.0.1:${listener.port}/x`,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    },
  };
}

Deno.test(
  "RtspClient refuses a redirect from rtsps:// to rtsp:// or to rtsph:// (a plain HTTP tunnel)",
  opts,
  async () => {
    for (const location of ["rtsp://127.0.0.1:9/x", "rtsph://127.0.0.1:9/x"]) {
      const server = redirecting(location);
      try {
        await assert.rejects(
          RtspClient.open(server.url, {
            caCerts: [testCert().pem],
            timeoutMs: 3000,
          }),
          (e: unknown) =>
            e instanceof RtspClientError && e.step === "redirect" &&
            /not rtsps:\/\//.test(e.message),
        );
      } finally {
        server.close();
      }
    }
  },
);

Deno.test(
  "RtspClient refuses an rtsps:// server whose certificate it does not trust",
  opts,
  async () => {
    const server = redirecting("rtsps://127.0.0.1:9/x");
    try {
      await assert.rejects(
        RtspClient.open(server.url, { timeoutMs: 3000 }),
        (e: unknown) =>
          e instanceof RtspClientError && e.step === "connect" &&
          /certificate|issuer/i.test(e.message),
      );
    } finally {
      server.close();
    }
  },
);
