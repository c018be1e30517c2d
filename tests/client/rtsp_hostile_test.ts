/**
 * The RTSP client against servers that never answer, answer garbage, send
 * endless bodies or redirect in circles: every case ends in a clean error
 * within its bound, and nothing hangs.
 */
import assert from "node:assert/strict";
import { RtspClient, RtspClientError } from "../../lib/client/rtsp/client.ts";
import { ProtocolError } from "../../lib/errors.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const encoder = new TextEncoder();

/** One accepted connection of a {@link Hostile} server. */
interface HostileConn {
  /** The next request head (up to the blank line), or `undefined` once the client hung up. */
  request(): Promise<string | undefined>;
  write(text: string | Uint8Array): Promise<void>;
  /** Settles when the client closed the connection. */
  closed: Promise<void>;
  conn: Deno.TcpConn;
}

/** A TCP server on 127.0.0.1 whose every connection runs `handle`. */
class Hostile implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #accepting: Promise<void>;
  accepted = 0;

  constructor(handle: (c: HostileConn) => Promise<void>) {
    this.#accepting = (async () => {
      try {
        for await (const conn of this.#listener) {
          this.accepted++;
          this.#conns.add(conn);
          // A handler that returns leaves its connection open (a stalled server).
          void handle(wrap(conn)).catch(() => {});
        }
      } catch {
        // closed
      }
    })();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  url(path = "/stream"): string {
    return `rtsp://127.0.0.1:${this.port}${path}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // closed
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // closed by the client
      }
    }
    await this.#accepting;
  }
}

function wrap(conn: Deno.TcpConn): HostileConn {
  let rest = "";
  let ended = false;
  let onClosed: () => void = () => {};
  const closed = new Promise<void>((r) => onClosed = r);
  const decoder = new TextDecoder();
  return {
    conn,
    closed,
    async request() {
      const buf = new Uint8Array(16 * 1024);
      for (;;) {
        const end = rest.indexOf("\r\n\r\n");
        if (end >= 0) {
          const head = rest.slice(0, end);
          rest = rest.slice(end + 4);
          return head;
        }
        if (ended) return undefined;
        let n: number | null = null;
        try {
          n = await conn.read(buf);
        } catch {
          // reset
        }
        if (n === null) {
          ended = true;
          onClosed();
          return undefined;
        }
        rest += decoder.decode(buf.subarray(0, n));
      }
    },
    async write(text) {
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      for (let off = 0; off < bytes.length;) {
        off += await conn.write(bytes.subarray(off));
      }
    },
  };
}

function cseqOf(head: string): string {
  return /^cseq:\s*(\d+)/im.exec(head)?.[1] ?? "0";
}

/** Reads requests until the client hangs up (a server that never answers). */
async function drain(c: HostileConn): Promise<void> {
  while (await c.request() !== undefined);
}

/** Answers OPTIONS with 200, then hands DESCRIBE to `describe`. */
function describeWith(
  describe: (c: HostileConn, cseq: string) => Promise<void>,
): (c: HostileConn) => Promise<void> {
  return async (c) => {
    for (;;) {
      const head = await c.request();
      if (head === undefined) return;
      const cseq = cseqOf(head);
      if (head.startsWith("OPTIONS")) {
        await c.write(
          `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n`,
        );
      } else if (head.startsWith("DESCRIBE")) {
        return await describe(c, cseq);
      }
    }
  };
}

/** `promise`'s rejection and how long it took; fails if it resolves. */
async function rejection(
  promise: Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
  assert.fail("expected a rejection");
}

function assertClean(error: unknown): void {
  assert.ok(
    error instanceof RtspClientError || error instanceof ProtocolError,
    `a RtspClientError or ProtocolError, not ${String(error)}`,
  );
}

Deno.test(
  "RtspClient.open rejects with step OPTIONS when the server never answers",
  opts,
  async () => {
    await using server = new Hostile(drain);
    const { error, ms } = await rejection(
      RtspClient.open(server.url(), { timeoutMs: 500 }),
    );
    assert.ok(error instanceof RtspClientError, String(error));
    assert.equal(error.step, "OPTIONS");
    assert.equal(error.status, undefined);
    assert.match(error.message, /no answer within 500 ms/);
    assert.ok(ms >= 450 && ms < 1500, `rejected after ${ms} ms`);
  },
);

Deno.test(
  "RtspClient.open rejects with step connect when nothing listens",
  opts,
  async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    const { error, ms } = await rejection(
      RtspClient.open(`rtsp://127.0.0.1:${port}/x`, { timeoutMs: 1000 }),
    );
    assert.ok(error instanceof RtspClientError, String(error));
    assert.equal(error.step, "connect");
    assert.ok(ms < 1000, `rejected after ${ms} ms`);
  },
);

const GARBAGE: { name: string; bytes: () => Uint8Array }[] = [
  {
    name: "64 KiB of random bytes",
    bytes: () => crypto.getRandomValues(new Uint8Array(64 * 1024)),
  },
  {
    name: "a status line with letters for a status",
    bytes: () => encoder.encode("RTSP/1.0 abc Nope\r\nCSeq: 1\r\n\r\n"),
  },
  {
    name: "an HTTP answer",
    bytes: () =>
      encoder.encode(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      ),
  },
  {
    name: "an endless header line",
    bytes: () =>
      encoder.encode(`RTSP/1.0 200 OK\r\nCSeq: 1\r\nX: ${"a".repeat(100_000)}`),
  },
  {
    name: "a reply cut short, then the connection closed",
    bytes: () => encoder.encode("RTSP/1.0 200 OK\r\nCSe"),
  },
];

for (const g of GARBAGE) {
  Deno.test(
    `RtspClient.open ends cleanly when the server answers ${g.name}`,
    opts,
    async () => {
      await using server = new Hostile(async (c) => {
        await c.request();
        await c.write(g.bytes());
        if (g.name.includes("closed")) c.conn.close();
        else await drain(c);
      });
      const { error, ms } = await rejection(
        RtspClient.open(server.url(), { timeoutMs: 2000 }),
      );
      assertClean(error);
      assert.ok(ms < 2500, `rejected after ${ms} ms`);
    },
  );
}

Deno.test(
  "RtspClient.describe rejects a 100 MB SDP at its header, without reading it",
  opts,
  async () => {
    let hungUp: Promise<void> | undefined;
    await using server = new Hostile(describeWith(async (c, cseq) => {
      await c.write(
        `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\n` +
          `Content-Length: ${100 * 1024 * 1024}\r\n\r\n`,
      );
      hungUp = c.closed;
      void drain(c);
      // 2 MB of "SDP", then a stall: the rest never comes.
      const chunk = encoder.encode("a=x-junk:" + "z".repeat(1013) + "\r\n");
      for (let i = 0; i < 2048; i++) await c.write(chunk);
    }));
    const client = await RtspClient.open(server.url(), { timeoutMs: 5000 });
    try {
      const { error, ms } = await rejection(client.describe());
      assertClean(error);
      assert.ok(
        error instanceof ProtocolError && error.code === "limit",
        String(error),
      );
      assert.ok(ms < 1500, `rejected after ${ms} ms, not at the timeout`);
      assert.ok(client.closed);
    } finally {
      client.close();
    }
    // The client hung up rather than reading on.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const open = new Promise((r) => timer = setTimeout(() => r("open"), 1500));
    assert.equal(await Promise.race([hungUp, open]), undefined);
    clearTimeout(timer);
  },
);

Deno.test(
  "RtspClient.describe rejects endless headers at the header bound",
  opts,
  async () => {
    await using server = new Hostile(describeWith(async (c, cseq) => {
      await c.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n`);
      const line = encoder.encode(`X-Junk: ${"y".repeat(500)}\r\n`);
      for (let i = 0; i < 4000; i++) await c.write(line);
      await drain(c);
    }));
    const client = await RtspClient.open(server.url(), { timeoutMs: 5000 });
    try {
      const { error, ms } = await rejection(client.describe());
      assertClean(error);
      assert.ok(ms < 1500, `rejected after ${ms} ms`);
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "RtspClient.describe gives up at timeoutMs on a body that stalls within the bound",
  opts,
  async () => {
    await using server = new Hostile(describeWith(async (c, cseq) => {
      await c.write(
        `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\n` +
          `Content-Length: 5000\r\n\r\nv=0\r\n`,
      );
      await drain(c);
    }));
    const client = await RtspClient.open(server.url(), { timeoutMs: 700 });
    try {
      const { error, ms } = await rejection(client.describe());
      assert.ok(error instanceof RtspClientError, String(error));
      assert.equal(error.step, "DESCRIBE");
      assert.ok(ms >= 650 && ms < 1700, `rejected after ${ms} ms`);
    } finally {
      client.close();
    }
  },
);

// ---- redirects ----

function redirectTo(location: () => string): (c: HostileConn) => Promise<void> {
  return async (c) => {
    const head = await c.request();
    if (head === undefined) return;
    await c.write(
      `RTSP/1.0 302 Moved Temporarily\r\nCSeq: ${
        cseqOf(head)
      }\r\nLocation: ${location()}\r\n\r\n`,
    );
    await drain(c);
  };
}

Deno.test(
  "RtspClient.open stops a redirect to itself after maxRedirects",
  opts,
  async () => {
    let self = "";
    await using server = new Hostile(redirectTo(() => self));
    self = server.url("/loop");
    const { error, ms } = await rejection(
      RtspClient.open(server.url("/loop"), {
        timeoutMs: 2000,
        maxRedirects: 3,
      }),
    );
    assert.ok(error instanceof RtspClientError, String(error));
    assert.equal(error.step, "OPTIONS");
    assert.equal(error.status, 302);
    assert.match(error.message, /more than 3 redirects/);
    assert.equal(server.accepted, 4, "the first connection and 3 redirects");
    assert.ok(ms < 2000, `rejected after ${ms} ms`);
  },
);

Deno.test(
  "RtspClient.open stops a ping-pong between two servers after maxRedirects",
  opts,
  async () => {
    let a = "";
    let b = "";
    await using ping = new Hostile(redirectTo(() => b));
    await using pong = new Hostile(redirectTo(() => a));
    a = ping.url("/a");
    b = pong.url("/b");
    const { error } = await rejection(RtspClient.open(a, { timeoutMs: 2000 }));
    assert.ok(error instanceof RtspClientError, String(error));
    assert.match(error.message, /more than 5 redirects/);
    assert.equal(ping.accepted + pong.accepted, 6);
  },
);

Deno.test(
  "RtspClient.open refuses a redirect away from rtsp://",
  opts,
  async () => {
    await using server = new Hostile(
      redirectTo(() => "http://127.0.0.1:1/elsewhere"),
    );
    const { error } = await rejection(
      RtspClient.open(server.url(), { timeoutMs: 2000 }),
    );
    assert.ok(error instanceof RtspClientError, String(error));
    assert.match(error.message, /not rtsp:\/\//);
  },
);

Deno.test(
  "RtspClient.open: a 302 without Location is an error naming it",
  opts,
  async () => {
    await using server = new Hostile(async (c) => {
      const head = await c.request();
      await c.write(
        `RTSP/1.0 302 Found\r\nCSeq: ${cseqOf(head ?? "")}\r\n\r\n`,
      );
      await drain(c);
    });
    const { error } = await rejection(
      RtspClient.open(server.url(), { timeoutMs: 2000 }),
    );
    assert.ok(error instanceof RtspClientError, String(error));
    assert.equal(error.status, 302);
    assert.match(error.message, /without Location/);
  },
);

// A multicast SETUP answered with anything but a multicast group and ports:
// the client joins nothing and never listens where a reply says.
for (
  const answer of [
    "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001",
    "RTP/AVP;multicast;destination=10.0.0.1;port=8002-8003;ttl=1",
    "RTP/AVP;multicast;destination=224.1.0.1;ttl=1",
    "RTP/AVP;multicast;destination=224.1.0.1;port=0-1",
    "RTP/AVP;multicast;destination=;port=8002-8003",
    "garbage",
  ]
) {
  Deno.test(
    `RtspClient.play with multicast refuses a SETUP answered "${answer}"`,
    opts,
    async () => {
      await using server = new Hostile(async (c) => {
        for (;;) {
          const head = await c.request();
          if (head === undefined) return;
          const cseq = cseqOf(head);
          if (head.startsWith("DESCRIBE")) {
            const sdp = [
              "v=0",
              "o=- 0 0 IN IP4 127.0.0.1",
              "s=x",
              "t=0 0",
              "m=video 0 RTP/AVP 96",
              "a=rtpmap:96 H264/90000",
              "a=control:trackID=0",
              "",
            ].join("\r\n");
            await c.write(
              `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
            );
          } else if (head.startsWith("SETUP")) {
            await c.write(
              `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: 1234\r\nTransport: ${answer}\r\n\r\n`,
            );
          } else {
            await c.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
          }
        }
      });
      const client = await RtspClient.open(server.url(), {
        transport: "multicast",
        timeoutMs: 2000,
      });
      try {
        const d = await client.describe();
        const { error } = await rejection(
          client.play(d, { setTrack() {}, setTracks() {}, writeFrame() {} }),
        );
        assert.ok(error instanceof RtspClientError, String(error));
        assert.equal(error.step, "SETUP");
        assert.equal(error.status, 461);
      } finally {
        client.close();
      }
    },
  );
}
