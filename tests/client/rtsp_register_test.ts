/**
 * Sluice's REGISTER sender against a hand-played central server on a raw
 * socket: the 401 is answered with Digest, and the bytes the server sends
 * right after its 200 (its first request, in the same write) are handed on
 * untouched to whoever serves the connection next.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { registerStream } from "../../lib/client/rtsp/register.ts";
import { RtspClientError } from "../../lib/client/rtsp/connection.ts";
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import {
  parseAuthorization,
  verifyDigest,
} from "../../lib/rtsp/headers/auth.ts";
import type { RtspRequest } from "../../lib/rtsp/message.ts";

const enc = new TextEncoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A central server that plays `script` on its first connection: each step answers one request. */
function central(
  script: ((req: RtspRequest) => string)[],
): {
  port: number;
  requests: RtspRequest[];
  done: Promise<void>;
  close(): void;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: RtspRequest[] = [];
  let conn: Deno.Conn | undefined;
  const done = (async () => {
    conn = await listener.accept();
    const framer = new RtspFramer();
    const buf = new Uint8Array(4096);
    let step = 0;
    while (step < script.length) {
      const n = await conn.read(buf);
      if (n === null) return;
      const got: RtspRequest[] = [];
      framer.push(buf.slice(0, n), {
        enqueue: (m) => m.kind === "request" && got.push(m),
      });
      for (const req of got) {
        requests.push(req);
        const answer = script[step++]!(req);
        await conn.write(enc.encode(answer));
      }
    }
  })();
  return {
    port: listener.addr.port,
    requests,
    done,
    close() {
      listener.close();
      try {
        conn?.close();
      } catch {
        // closed
      }
    },
  };
}

const NEXT = "DESCRIBE rtsp://127.0.0.1:9/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n";

Deno.test(
  "registerStream answers 401 with Digest and hands on the bytes sent after the 200",
  opts,
  async () => {
    const c = central([
      (req) =>
        `RTSP/1.0 401 Unauthorized\r\nCSeq: ${req.headers.get("CSeq")}\r\n` +
        `WWW-Authenticate: Digest realm="Sluice", nonce="abc123"\r\n` +
        `WWW-Authenticate: Basic realm="Sluice"\r\n\r\n`,
      // The 200 and the central server's first request in one write.
      (req) =>
        `RTSP/1.0 200 OK\r\nCSeq: ${req.headers.get("CSeq")}\r\n\r\n${NEXT}`,
    ]);
    try {
      const link = await registerStream(
        `rtsp://cam:pw@127.0.0.1:${c.port}/site/cam`,
        {
          proxyUrlSuffix: "site/cam",
          streamUrl: () => "rtsp://192.168.1.20:8554/cam",
          timeoutMs: 5000,
        },
      );
      await c.done;
      assert.equal(link.streamUrl, "rtsp://192.168.1.20:8554/cam");
      const [first, second] = c.requests;
      assert.equal(first!.method, "REGISTER");
      assert.equal(first!.url, "rtsp://192.168.1.20:8554/cam");
      assert.equal(
        first!.headers.get("Transport"),
        "reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=site/cam",
      );
      assert.equal(first!.headers.get("Authorization"), undefined);
      const creds = parseAuthorization(second!.headers.get("Authorization")!);
      assert.equal(creds.scheme, "Digest");
      if (creds.scheme !== "Digest") return;
      assert.equal(creds.username, "cam");
      assert.equal(creds.uri, "rtsp://192.168.1.20:8554/cam");
      assert.ok(verifyDigest(creds, { password: "pw", method: "REGISTER" }));
      // The next owner reads the central server's DESCRIBE, byte for byte.
      const buf = new Uint8Array(4096);
      let text = "";
      while (text.length < NEXT.length) {
        const n = await link.conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.equal(text, NEXT);
      link.conn.close();
    } finally {
      c.close();
    }
  },
);

Deno.test(
  "registerStream fails with the status the central server refused with",
  opts,
  async () => {
    for (
      const [answer, status, url] of [
        ["RTSP/1.0 451 Parameter Not Understood", 451, "rtsp://u:p@127.0.0.1"],
        [
          'RTSP/1.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm="x", nonce="n"',
          401,
          "rtsp://127.0.0.1", // no credentials to answer with
        ],
      ] as const
    ) {
      const c = central([
        (req) => `${answer}\r\nCSeq: ${req.headers.get("CSeq")}\r\n\r\n`,
      ]);
      try {
        await assert.rejects(
          registerStream(`${url}:${c.port}/x`, { timeoutMs: 3000 }),
          (e) => e instanceof RtspClientError && e.status === status,
        );
      } finally {
        c.close();
        await c.done.catch(() => {});
      }
    }
  },
);

Deno.test(
  "registerStream gives up within its timeout when the server stays silent",
  opts,
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })().catch(() => {});
    try {
      const started = Date.now();
      await assert.rejects(
        registerStream(`rtsp://127.0.0.1:${listener.addr.port}/x`, {
          timeoutMs: 500,
        }),
        /no answer within 500 ms/,
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      listener.close();
      for (const h of held) h.close();
      await accepting;
    }
  },
);

Deno.test(
  "registerStream fails with an RtspClientError whatever bytes the server answers",
  opts,
  async () => {
    const answers = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 200 }).map((t) => enc.encode(`RTSP/1.0 ${t}`)),
        fc.constant(enc.encode(`RTSP/1.0 200 OK\r\nCSeq: 9\r\n\r\n`)),
        fc.constant(
          enc.encode(`RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n`),
        ),
      ),
      { numRuns: 40, seed: 7 },
    );
    for (const bytes of answers) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const serving = (async () => {
        const conn = await listener.accept();
        const buf = new Uint8Array(4096);
        await conn.read(buf);
        await conn.write(bytes).catch(() => 0);
        await new Promise((r) => setTimeout(r, 50));
        conn.close();
      })().catch(() => {});
      try {
        await assert.rejects(
          registerStream(`rtsp://u:p@127.0.0.1:${listener.addr.port}/x`, {
            timeoutMs: 2000,
          }),
          RtspClientError,
        );
      } finally {
        listener.close();
        await serving;
      }
    }
  },
);
