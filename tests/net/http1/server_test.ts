/**
 * Sluice's HTTP/1.1 server on real sockets: pipelined requests answered in
 * order, HEAD, `Expect: 100-continue`, chunked bodies both ways, canonical
 * header case, and refusals that close only their connection.
 */
import assert from "node:assert/strict";
import { serveHttp1 } from "../../../lib/net/http1/server.ts";
import {
  endsWithConnection,
  sharedBytesResponse,
  writeResponse,
} from "../../../lib/net/http1/respond.ts";

/** Sends `request` and reads until the server closes or `until` matches. */
async function exchange(
  port: number,
  request: string,
  until?: RegExp,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5000);
  let text = "";
  try {
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(65536);
    for (let i = 0; i < 1000 && !(until?.test(text) ?? false); i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    // closed by the timer
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
  return text;
}

function start() {
  return serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    handler: async (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/stream") {
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode("one"));
            c.enqueue(new TextEncoder().encode("two"));
            c.close();
          },
        });
        const res = new Response(body, { headers: { "x-kind": "stream" } });
        return url.search === "?live" ? endsWithConnection(res) : res;
      }
      const got = req.body === null ? "" : await req.text();
      return new Response(`${req.method} ${url.pathname} [${got}]`, {
        headers: { "content-type": "text/plain", "www-authenticate": "x" },
      });
    },
  });
}

Deno.test("HTTP/1.1 server: pipelined requests answered in order, HEAD, canonical header case", async () => {
  const s = start();
  try {
    const text = await exchange(
      s.addr.port,
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" +
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz" +
        "HEAD /c HTTP/1.1\r\nHost: h\r\n\r\n" +
        "GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    const bodies = [...text.matchAll(/(GET|POST|HEAD) \/(\w) \[(\w*)\]/g)]
      .map((m) => m[0]);
    assert.deepEqual(bodies, ["GET /a []", "POST /b [xyz]", "GET /d []"]);
    assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 4);
    assert.match(text, /\r\nContent-Length: 9\r\n/);
    assert.match(text, /\r\nContent-Type: text\/plain\r\n/);
    assert.match(text, /\r\nWWW-Authenticate: x\r\n/);
    assert.match(text, /Connection: close\r\n\r\nGET \/d \[\]$/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("HTTP/1.1 server: chunked request with Expect: 100-continue, chunked streamed answer", async () => {
  const s = start();
  try {
    const post = await exchange(
      s.addr.port,
      "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" +
        "Expect: 100-continue\r\nConnection: close\r\n\r\n" +
        "2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n",
    );
    assert.match(post, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(post, /POST \/p \[abc\]$/);
    const stream = await exchange(
      s.addr.port,
      "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n",
      /0\r\n\r\n$/,
    );
    assert.match(stream, /Transfer-Encoding: chunked\r\n/);
    assert.match(stream, /X-Kind: stream\r\n/);
    assert.match(stream, /\r\n\r\n3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n$/);
    const live = await exchange(
      s.addr.port,
      "GET /stream?live HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert.match(live, /Connection: close\r\n\r\nonetwo$/);
    const old = await exchange(s.addr.port, "GET /stream HTTP/1.0\r\n\r\n");
    assert.match(old, /Connection: close\r\n\r\nonetwo$/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("HTTP/1.1 server: bad heads get their status and a close; other connections go on", async () => {
  const s = start();
  try {
    const cases: [string, number][] = [
      ["GET / HTTP/1.1\r\n\r\n", 400],
      [`GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: h\r\nX: ${"a".repeat(17000)}\r\n\r\n`, 431],
      ["POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501],
      ["POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999\r\n\r\n", 413],
      ["GET /live/../x.flv HTTP/1.1\r\nHost: h\r\n\r\n", 400],
      ["GET /live/%2E%2e/x.flv HTTP/1.1\r\nHost: h\r\n\r\n", 400],
      [
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
        400,
      ],
    ];
    const keep = await Deno.connect({
      hostname: "127.0.0.1",
      port: s.addr.port,
    });
    for (const [request, status] of cases) {
      const text = await exchange(s.addr.port, request);
      assert.match(
        text,
        new RegExp(`^HTTP/1\\.1 ${status} `),
        request.slice(0, 60),
      );
    }
    await keep.write(
      new TextEncoder().encode("GET /k HTTP/1.1\r\nHost: h\r\n\r\n"),
    );
    const buf = new Uint8Array(4096);
    const n = await keep.read(buf);
    assert.match(
      new TextDecoder().decode(buf.subarray(0, n ?? 0)),
      /GET \/k \[\]$/,
    );
    keep.close();
  } finally {
    await s.shutdown();
  }
});

Deno.test("HTTP/1.1 server: a shared-bytes response goes out from its very buffer with a length, through a middleware's copy, and reads the same elsewhere", async () => {
  const big = new Uint8Array(40_000).map((_, i) => i & 0xff);
  const small = new TextEncoder().encode("part");
  const made = sharedBytesResponse(big, { headers: { "x-kind": "shared" } });
  assert.deepEqual(
    await made.bytes(),
    big,
    "a reader of the Response gets the bytes",
  );
  const writes: Uint8Array[] = [];
  const target = {
    write: (p: Uint8Array) => {
      writes.push(p);
      return Promise.resolve(p.length);
    },
  };
  for (const bytes of [big, small]) {
    writes.length = 0;
    const res = sharedBytesResponse(bytes, {});
    // a middleware that copies the Response keeps its body stream
    const copy = new Response(res.body, res);
    copy.headers.set("access-control-allow-origin", "*");
    await writeResponse(target, copy, {
      head: false,
      close: false,
      canChunk: true,
    });
    const head = new TextDecoder().decode(writes[0]!);
    assert.match(
      head,
      new RegExp(`content-length: ${bytes.length}\\r\\n`, "i"),
    );
    assert.doesNotMatch(head, /transfer-encoding/i);
    if (bytes === big) {
      assert.equal(writes[1], big, "a segment is written from its own buffer");
    } else {
      assert.equal(writes.length, 1, "a short body goes with its head");
      assert.ok(head.endsWith("part"));
    }
  }
});

Deno.test("HTTP/1.1 server: a fast handler answers from the head what it takes, the handler the rest; its throw is a 500", async () => {
  const seen: string[] = [];
  let aborted = 0;
  const bytes = new TextEncoder().encode("fast body");
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    fast: (head, _remote, signal) => {
      if (head.target === "/throws") throw new Error("boom");
      if (head.target === "/waits") {
        return new Promise((resolve) =>
          signal.addEventListener("abort", () => {
            aborted++;
            resolve({ status: 204, headers: {}, body: "" });
          })
        );
      }
      if (!head.target.startsWith("/fast")) return undefined;
      seen.push(`${head.method} ${head.target}`);
      return Promise.resolve({
        status: 200,
        headers: { "x-kind": "fast", "content-length": "999" },
        body: bytes,
      });
    },
    handler: () => new Response("slow", { headers: { "x-kind": "slow" } }),
  });
  try {
    const port = server.addr.port;
    const text = await exchange(
      port,
      "GET /fast?a=1 HTTP/1.1\r\nHost: x\r\n\r\n" +
        "HEAD /fast HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /other HTTP/1.1\r\nHost: x\r\n\r\n" +
        "POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" +
        "GET /throws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 5, text);
    assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answers[0]!, /\r\nX-Kind: fast\r\n/);
    // The server frames the body: a handler's Content-Length is replaced.
    assert.match(answers[0]!, /\r\nContent-Length: 9\r\n/);
    assert.doesNotMatch(answers[0]!, /999/);
    assert.ok(answers[0]!.endsWith("\r\n\r\nfast body"));
    assert.match(answers[1]!, /\r\nContent-Length: 9\r\n/);
    assert.ok(answers[1]!.endsWith("\r\n\r\n"), "HEAD: no body");
    assert.match(answers[2]!, /\r\nX-Kind: slow\r\n/);
    // A request with a body never goes the fast way.
    assert.match(answers[3]!, /\r\nX-Kind: slow\r\n/);
    assert.match(answers[4]!, /^HTTP\/1\.1 500 /);
    assert.deepEqual(seen, ["GET /fast?a=1", "HEAD /fast"]);

    // A fast answer that waits hears of the client leaving.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode("GET /waits HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    await new Promise((r) => setTimeout(r, 50));
    conn.close();
    for (let i = 0; i < 50 && aborted === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(aborted, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("HTTP/1.1 server: keep-alive requests hold off the idle timeout, which then closes; a slow head gets 408 before a longer idle timeout", async () => {
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    idleTimeoutMs: 1000,
    requestTimeoutMs: 150,
    handler: () => new Response("ok"),
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const port = server.addr.port;
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const buf = new Uint8Array(4096);
    // Five requests 300 ms apart: 1.5 s, longer than the idle timeout.
    for (let i = 0; i < 5; i++) {
      await conn.write(
        new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      );
      const n = await conn.read(buf);
      assert.ok(n !== null, `request ${i}: still open`);
      assert.match(
        new TextDecoder().decode(buf.subarray(0, n)),
        /^HTTP\/1\.1 200/,
      );
      await sleep(300);
    }
    const idleFrom = Date.now();
    assert.equal(await conn.read(buf), null, "closed once idle");
    const idled = Date.now() - idleFrom;
    assert.ok(idled >= 600 && idled < 3000, `closed after ${idled} ms idle`);
    conn.close();

    // The idle timeout (1 s) runs; half a head comes: 408 after ~150 ms.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    await sleep(50);
    const started = Date.now();
    await slow.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHo"));
    let text = "";
    for (;;) {
      const n = await slow.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const waited = Date.now() - started;
    assert.match(text, /^HTTP\/1\.1 408/);
    assert.ok(waited >= 100 && waited < 700, `408 after ${waited} ms`);
    slow.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("HTTP/1.1 server: a streamed body that fails while its client reads nothing ends the connection", async () => {
  let fail: (() => void) | undefined;
  const chunk = new Uint8Array(64 * 1024);
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    handler: () => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          fail = () => c.error(new Error("reader too slow"));
        },
        pull(c) {
          c.enqueue(chunk); // as much as the socket takes, then a write waits
        },
      }, { highWaterMark: 0 });
      return endsWithConnection(new Response(body));
    },
  });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let shutdown: Promise<void> | undefined;
  try {
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    // The client reads nothing: both socket buffers fill, a write waits.
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(fail !== undefined);
    fail();
    // The shutdown waits for exchanges in progress: it ends only if the
    // failed body ended its connection, as the client still reads nothing.
    shutdown = server.shutdown();
    const ended = await Promise.race([
      shutdown.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 3000)),
    ]);
    assert.ok(ended, "the connection stayed open after its body failed");
  } finally {
    clearTimeout(timer);
    conn.close();
    await (shutdown ?? server.shutdown());
  }
});

Deno.test("HTTP/1.1 server: a write the client does not take closes after sendTimeoutMs; a streamed body's quiet spells are not timed", async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    sendTimeoutMs: 300,
    handler: (req) => {
      if (new URL(req.url).pathname === "/big") {
        return new Response(new Uint8Array(32 << 20));
      }
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new TextEncoder().encode("first "));
          await sleep(1000); // three send timeouts with nothing to write
          c.enqueue(new TextEncoder().encode("second"));
          c.close();
        },
      });
      return new Response(body);
    },
  });
  const port = server.addr.port;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  let shutdown: Promise<void> | undefined;
  try {
    const quiet = await exchange(
      port,
      "GET /quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.match(quiet, /^HTTP\/1\.1 200/);
    assert.match(quiet, /first /);
    assert.match(quiet, /second\r\n0\r\n\r\n$/);

    await stalled.write(
      new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    // 32 MiB cannot fit the sockets' buffers; the client reads nothing, so
    // the shutdown (which waits for exchanges in progress) ends only once
    // the send timeout has closed the connection.
    await sleep(200);
    const from = Date.now();
    shutdown = server.shutdown();
    const ended = await Promise.race([
      shutdown.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    assert.ok(ended, "the stalled write held its connection");
    const took = Date.now() - from;
    assert.ok(took < 3000, `closed ${took} ms after the shutdown began`);
  } finally {
    clearTimeout(timer);
    stalled.close();
    await (shutdown ?? server.shutdown());
  }
});

Deno.test("HTTP/1.1 server: a long write that a slow client keeps taking is not cut by sendTimeoutMs, on Sluice's sockets and on Deno's", async () => {
  const body = new Uint8Array(24 << 20);
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    onError: () => {},
    sendTimeoutMs: 300,
    handler: () => new Response(body),
  });
  // Deno's own sockets count no bytes: the server counts what it writes.
  const plain = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of plain) server.serve(c);
  })().catch(() => {});
  try {
    for (const port of [server.addr.port, plain.addr.port]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(
          new TextEncoder().encode(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          ),
        );
        // About 10 MB/s: the one write of the body stays pending for longer
        // than two checks, moving all the while.
        const buf = new Uint8Array(1 << 20);
        let bytes = 0;
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          bytes += n;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(bytes > body.length, `port ${port}: ${bytes} bytes`);
      } finally {
        conn.close();
      }
    }
  } finally {
    plain.close();
    await server.shutdown();
  }
});
