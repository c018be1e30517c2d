/**
 * The RTSPS and RTMPS listeners against bad input: garbage instead of a
 * ClientHello, a handshake that stalls, plain RTSP and plain RTMP sent to
 * the TLS port. Each closes that one connection, is counted and logged,
 * and a TLS client on the same port is served meanwhile. Also: URLs Sluice
 * writes on RTSPS say `rtsps://`, and the certificate settings.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RtmpClient } from "../../lib/client/rtmp.ts";
import { RtspClient } from "../../lib/client/rtsp/client.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { createLogger } from "../../lib/log.ts";
import { connectTls, listenTls, readPemFile } from "../../lib/net/tls.ts";
import { startSluice } from "../../lib/sluice.ts";
import { fixtureTags } from "../_util/flv_fixture.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { testCert, tlsConfig } from "../_util/tls.ts";
import { requireTool } from "../_util/tools.ts";
import { until } from "../_util/wait.ts";

const ignore = requireTool("openssl");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** Sends `bytes` (if any) on plain TCP and waits for the server to close; ms it took. */
async function closedAfter(
  port: number,
  bytes: Uint8Array | undefined,
  limitMs: number,
): Promise<number> {
  const start = Date.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (bytes !== undefined) await conn.write(bytes);
    const buf = new Uint8Array(4096);
    const timer = setTimeout(() => conn.close(), limitMs);
    try {
      for (;;) {
        // A TLS alert may come first; the close is what counts.
        if (await conn.read(buf) === null) break;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionReset)) throw e;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
  const ms = Date.now() - start;
  assert.ok(ms < limitMs, `the server kept the connection ${ms} ms`);
  return ms;
}

const enc = new TextEncoder();
const GARBAGE = enc.encode("\x00\x01garbage instead of a ClientHello\r\n\r\n");
const PLAIN_RTSP = (port: number) =>
  enc.encode(
    `OPTIONS rtsp://127.0.0.1:${port}/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
  );
/** RTMP C0 + C1: version 3, then 1536 bytes. */
const PLAIN_RTMP = new Uint8Array(1537).fill(0x5a).fill(3, 0, 1);

function start(): TestSluice {
  // A short readTimeout bounds the handshake in these tests.
  return startTestSluice({ ...tlsConfig(), readTimeout: "1s" });
}

Deno.test(
  "RTSPS closes garbage, plain RTSP and a stalled handshake, counts and logs each, and serves TLS meanwhile",
  opts,
  async () => {
    await using s = start();
    const port = s.sluice.rtspsPort!;
    const stalled = closedAfter(port, undefined, 5000);
    await closedAfter(port, GARBAGE, 3000);
    await closedAfter(port, PLAIN_RTSP(port), 3000);
    // While the stalled one waits, a real TLS client is answered.
    const client = await RtspClient.open(s.rtspsUrl("live/x"), {
      caCerts: [testCert().pem],
    });
    assert.ok(client.publicMethods.includes("DESCRIBE"));
    client.close();
    const ms = await stalled;
    assert.ok(
      ms >= 900,
      `a stalled handshake waited ${ms} ms, not the 1 s limit`,
    );
    await until(
      () => s.sluice.rtsp!.stats.tlsHandshakeFailures === 3,
      2000,
      () => JSON.stringify(s.sluice.rtsp!.stats),
    );
    const logged = s.logs.filter((l) => l.includes("RTSPS connection closed"));
    assert.equal(logged.length, 3, s.logs.join("\n"));
    assert.ok(logged.some((l) => l.includes("nothing within 1000 ms")));
  },
);

Deno.test(
  "RTMPS closes garbage, plain RTMP and a stalled handshake, and plays meanwhile",
  opts,
  async () => {
    await using s = start();
    const port = s.sluice.rtmpsPort!;
    const stalled = closedAfter(port, undefined, 5000);
    await closedAfter(port, GARBAGE, 3000);
    await closedAfter(port, PLAIN_RTMP, 3000);
    const client = await RtmpClient.connect(s.rtmpsUrl("live/x"), {
      caCerts: [testCert().pem],
    });
    client.close();
    await stalled;
    await until(
      () => s.sluice.rtmp!.stats.tlsHandshakeFailures === 3,
      2000,
      () => JSON.stringify(s.sluice.rtmp!.stats),
    );
    assert.equal(
      s.logs.filter((l) => l.includes("RTMPS connection closed")).length,
      3,
    );
  },
);

Deno.test(
  "RTSPS survives random first flights: each closes, every one counted",
  opts,
  async () => {
    await using s = start();
    const port = s.sluice.rtspsPort!;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        async (bytes) => {
          sent++;
          await closedAfter(port, bytes, 3000);
        },
      ),
      { numRuns: 25 },
    );
    await until(
      () => s.sluice.rtsp!.stats.tlsHandshakeFailures === sent,
      3000,
      () => `${s.sluice.rtsp!.stats.tlsHandshakeFailures} of ${sent}`,
    );
    assert.equal(s.sluice.rtsp!.stats.connections, 0, "none reached RTSP");
  },
);

Deno.test(
  "RTSPS answers DESCRIBE with an rtsps:// Content-Base, also to a client that wrote rtsp://",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    const pub = await RtmpClient.connect(s.rtmpUrl("live/d"));
    await pub.publish();
    for (const t of await fixtureTags()) {
      if (t.type !== 18) await pub.sendMedia(t.type, t.timestamp, t.data);
    }
    const port = s.sluice.rtspsPort!;
    const conn = await connectTls("127.0.0.1", port, {
      caCerts: [testCert().pem],
    });
    try {
      await conn.write(enc.encode(
        `DESCRIBE rtsp://127.0.0.1:${port}/live/d RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      ));
      let reply = "";
      const buf = new Uint8Array(4096);
      for (let i = 0; i < 20 && !reply.includes("\r\n\r\n"); i++) {
        const n = await conn.read(buf);
        if (n === null) break;
        reply += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.match(reply, /^RTSP\/1\.0 200 /);
      assert.match(
        reply,
        new RegExp(
          `\r\nContent-Base: rtsps://127\\.0\\.0\\.1:${port}/live/d/\r\n`,
        ),
      );
    } finally {
      conn.close();
      pub.close();
    }
  },
);

Deno.test(
  "startSluice names the missing half of a certificate pair",
  opts,
  () => {
    const log = createLogger({ level: "error", write: () => {} });
    const config = parseConfig({
      rtmp: false,
      http: false,
      rtspAddress: "127.0.0.1:0",
      rtpAddress: "127.0.0.1:0",
      rtcpAddress: "127.0.0.1:0",
      rtspsAddress: "127.0.0.1:0",
      rtspsCert: testCert().certFile,
    });
    assert.throws(() => startSluice(config, log), {
      message:
        "Cannot start RTSPS: rtspsCert and rtspsKey must be set together",
    });
  },
);

Deno.test(
  "readPemFile and listenTls name the file or address that is wrong",
  opts,
  () => {
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${dir}/not.pem`, "hello");
      assert.throws(() => readPemFile(`${dir}/not.pem`, "certificate"), {
        message:
          `Cannot read certificate file "${dir}/not.pem": no PEM block in it`,
      });
      assert.throws(
        () => readPemFile(`${dir}/missing.pem`),
        /Cannot read PEM file ".*missing\.pem": /,
      );
      const { pem } = testCert();
      assert.throws(
        () =>
          listenTls({
            hostname: "127.0.0.1",
            port: 0,
            cert: pem,
            key: pem, // a certificate where the key belongs
            onConnection: () => {},
          }),
        /^Error: Cannot listen on TLS 127\.0\.0\.1:0: /,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
