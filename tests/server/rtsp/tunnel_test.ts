/**
 * RTSP over HTTP tunnelling on the server, driven byte by byte: the two
 * halves, a POST closing and coming back, the GET closing, and every bad
 * input of INTEROP.md (live555's CVE-2018-4013 and CVE-2019-6256 among them),
 * each counted, logged, and disturbing nothing else.
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import { fixtureTags } from "../../_util/flv_fixture.ts";
import { rawHttp } from "../../_util/http_raw.ts";
import { RawRtsp } from "../../_util/rtsp_raw.ts";
import {
  base64Requests,
  RawTunnelGet,
  RawTunnelPost,
  rtspRequest,
} from "../../_util/rtsp_tunnel_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { until } from "../../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Plain RTSP on the RTSP port still answers: the bad input disturbed nothing. */
async function assertRtspAnswers(s: TestSluice): Promise<void> {
  const c = await RawRtsp.connect(s.sluice.rtspPort!);
  const r = await c.request("OPTIONS", s.rtspUrl("live/x"));
  assert.equal(r.status, 200);
  c.close();
}

/** A whole tunnel on `port` that answers OPTIONS. */
async function openTunnel(
  port: number,
  cookie: string,
): Promise<{ get: RawTunnelGet; post: RawTunnelPost }> {
  const get = await RawTunnelGet.open(port, cookie);
  assert.equal(await get.status(), 200, get.text);
  const post = await RawTunnelPost.open(port, cookie);
  await post.send(rtspRequest("OPTIONS", "rtsp://127.0.0.1/live/x", 1));
  assert.equal((await get.response()).status, 200);
  return { get, post };
}

/** Asserts one more protocol error was counted and a log line matches `line`. */
async function assertCounted(
  s: TestSluice,
  errors: number,
  line: RegExp,
): Promise<void> {
  await until(
    () => s.sluice.rtsp!.stats.protocolErrors >= errors,
    5000,
    () => s.logs.join("\n"),
  );
  assert.equal(s.sluice.rtsp!.stats.protocolErrors, errors);
  assert.ok(s.logs.some((l) => line.test(l)), s.logs.join("\n"));
}

Deno.test(
  "RTSP tunnel: the GET is answered 200 x-rtsp-tunnelled, requests of the POST are answered on it, the POST never",
  opts,
  async () => {
    await using s = startTestSluice();
    const port = s.sluice.rtspPort!;
    const get = await RawTunnelGet.open(port, "abc123");
    assert.equal(await get.status(), 200);
    assert.match(get.text, /^HTTP\/1\.0 200 OK\r\n/);
    for (
      const h of [
        "Content-Type: application/x-rtsp-tunnelled",
        "Cache-Control: no-cache",
        "Pragma: no-cache",
        "Connection: close",
      ]
    ) assert.ok(get.text.includes(`${h}\r\n`), get.text);
    // Two requests, each base64 on its own ("=" between them), cut mid-quantum.
    const body = base64Requests(
      rtspRequest("OPTIONS", "rtsp://127.0.0.1/live/x", 1, { A: "b" }),
      rtspRequest("GET_PARAMETER", "rtsp://127.0.0.1/live/x", 2),
    );
    assert.match(body, /=[^=]/);
    const post = await RawTunnelPost.open(port, "abc123", body.slice(0, 7));
    await new Promise((r) => setTimeout(r, 50));
    await post.sendRaw(body.slice(7, 61));
    await new Promise((r) => setTimeout(r, 50));
    await post.sendRaw(body.slice(61));
    const [a, b] = [await get.response(), await get.response()];
    assert.deepEqual([a.status, a.headers.get("CSeq")], [200, "1"]);
    assert.match(a.headers.get("Public") ?? "", /DESCRIBE/);
    assert.deepEqual([b.status, b.headers.get("CSeq")], [200, "2"]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(post.text, "", "the POST gets no answer");
    assert.equal(s.sluice.rtsp!.stats.tunnels, 1);
    assert.equal(s.sluice.rtsp!.stats.protocolErrors, 0);
    get.close();
    post.close();
  },
);

/** An RTMP publisher of the fixture on `path`, looping until stopped. */
async function publish(s: TestSluice, path: string) {
  const tags = await fixtureTags();
  const pub = await RtmpClient.connect(s.rtmpUrl(path));
  await pub.publish();
  let running = true;
  const span = tags.at(-1)!.timestamp + 40;
  const loop = (async () => {
    for (let i = 0; running && i < 200; i++) {
      for (const t of tags) {
        if (t.type !== 18) {
          await pub.sendMedia(t.type, t.timestamp + i * span, t.data);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async [Symbol.asyncDispose]() {
      running = false;
      await loop;
      pub.close();
    },
  };
}

/** DESCRIBE, SETUP interleaved and PLAY through a tunnel; the session id. */
async function playThrough(
  s: TestSluice,
  get: RawTunnelGet,
  post: RawTunnelPost,
): Promise<string> {
  const url = s.rtspUrl("live/t");
  await post.send(rtspRequest("DESCRIBE", url, 2));
  assert.equal((await get.response()).status, 200);
  await post.send(rtspRequest("SETUP", `${url}/trackID=0`, 3, {
    Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
  }));
  const setup = await get.response();
  assert.equal(setup.status, 200);
  const session = setup.headers.get("Session")!.split(";")[0]!;
  await post.send(rtspRequest("PLAY", `${url}/`, 4, { Session: session }));
  assert.equal((await get.response()).status, 200);
  await until(() => get.frameCount() > 0, 5000, () => s.logs.join("\n"));
  return session;
}

Deno.test(
  "RTSP tunnel: closing the POST leaves the GET and its session up, a new POST with the cookie goes on; closing the GET ends the session",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = await publish(s, "live/t");
    await s.published("live/t", { frames: 5 });
    const port = s.sluice.rtspPort!;
    const { get, post } = await openTunnel(port, "cookie-1");
    const session = await playThrough(s, get, post);
    post.close();
    await new Promise((r) => setTimeout(r, 300));
    const before = get.frameCount();
    await until(() => get.frameCount() > before + 5, 5000, () => "no media");
    assert.equal(s.sluice.rtsp!.sessions, 1);
    const again = await RawTunnelPost.open(port, "cookie-1");
    await again.send(
      rtspRequest("GET_PARAMETER", s.rtspUrl("live/t"), 5, {
        Session: session,
      }),
    );
    const r = await get.response();
    assert.deepEqual([r.status, r.headers.get("CSeq")], [200, "5"]);
    get.close();
    await until(() => s.sluice.rtsp!.sessions === 0, 5000, () => "session");
    assert.ok(await again.closedByServer(), "the POST closes with its GET");
    assert.equal(s.sluice.hub.stream("live/t")?.readers ?? 0, 0);
  },
);

Deno.test(
  "RTSP tunnel: after the POST closed, the session times out and the GET is closed",
  opts,
  async () => {
    await using s = startTestSluice({
      rtspSessionTimeout: "1s",
      readTimeout: "1s",
    });
    await using _pub = await publish(s, "live/t");
    await s.published("live/t", { frames: 5 });
    const { get, post } = await openTunnel(s.sluice.rtspPort!, "c2");
    await playThrough(s, get, post);
    post.close();
    // 1 s announced, 5 s of grace (some clients keep alive exactly every N s).
    assert.ok(await get.closedByServer(10_000), s.logs.join("\n"));
    assert.equal(s.sluice.rtsp!.sessions, 0);
    assert.equal(s.sluice.rtsp!.stats.sessionsTimedOut, 1);
  },
);

Deno.test(
  "RTSP tunnel: a POST with an unknown cookie gets 404 and is closed",
  opts,
  async () => {
    await using s = startTestSluice();
    const { get } = await openTunnel(s.sluice.rtspPort!, "known");
    const post = await RawTunnelPost.open(
      s.sluice.rtspPort!,
      "unknown",
      base64Requests(rtspRequest("OPTIONS", "rtsp://h/x", 1)),
    );
    assert.equal(await post.status(), 404);
    assert.ok(await post.closedByServer());
    await assertCounted(s, 1, /no open tunnel has its x-sessioncookie/);
    assert.ok(!get.ended, "the other tunnel stays");
    await assertRtspAnswers(s);
    get.close();
  },
);

Deno.test(
  "RTSP tunnel: invalid base64 closes that tunnel alone",
  opts,
  async () => {
    await using s = startTestSluice();
    const port = s.sluice.rtspPort!;
    const other = await openTunnel(port, "other");
    const { get, post } = await openTunnel(port, "bad");
    await post.sendRaw("T1BU*U9O");
    assert.ok(await get.closedByServer(), "the GET closes");
    assert.ok(await post.closedByServer(), "the POST closes");
    await assertCounted(s, 1, /Cannot decode base64: byte 0x2a/);
    await other.post.send(rtspRequest("OPTIONS", "rtsp://h/x", 2));
    assert.equal((await other.get.response()).status, 200);
    await assertRtspAnswers(s);
    other.get.close();
    other.post.close();
  },
);

Deno.test(
  "RTSP tunnel: a GET without x-sessioncookie gets 400",
  opts,
  async () => {
    await using s = startTestSluice();
    const get = await RawTunnelGet.open(s.sluice.rtspPort!, undefined);
    assert.equal(await get.status(), 400);
    assert.ok(await get.closedByServer());
    await assertCounted(s, 1, /GET without x-sessioncookie/);
    await assertRtspAnswers(s);
  },
);

Deno.test(
  "RTSP tunnel: a second GET with an open cookie gets 400, the first goes on",
  opts,
  async () => {
    await using s = startTestSluice();
    const port = s.sluice.rtspPort!;
    const first = await openTunnel(port, "twice");
    const second = await RawTunnelGet.open(port, "twice");
    assert.equal(await second.status(), 400);
    await assertCounted(s, 1, /a GET with this x-sessioncookie is open/);
    await first.post.send(rtspRequest("OPTIONS", "rtsp://h/x", 2));
    const r = await first.get.response();
    assert.deepEqual([r.status, r.headers.get("CSeq")], [200, "2"]);
    first.get.close();
    first.post.close();
  },
);

Deno.test(
  "RTSP tunnel: a POST head that never ends is closed after readTimeout",
  opts,
  async () => {
    await using s = startTestSluice({ readTimeout: "500ms" });
    const port = s.sluice.rtspPort!;
    const { get, post } = await openTunnel(port, "slow");
    const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
    const head = "POST /live/x HTTP/1.0\r\nx-sessioncookie: slow\r\nContent-Le";
    await stalled.write(new TextEncoder().encode(head));
    const started = Date.now();
    const n = await stalled.read(new Uint8Array(64)).catch(() => null);
    assert.ok(n === null || n > 0); // closed (or a 408 before the close)
    assert.ok(Date.now() - started < 3000, "closed after readTimeout");
    stalled.close();
    await assertCounted(s, 1, /no complete HTTP head within 500 ms/);
    // The tunnel the cookie named was not touched.
    await post.send(rtspRequest("OPTIONS", "rtsp://h/x", 2));
    assert.equal((await get.response()).status, 200);
    get.close();
    post.close();
  },
);

Deno.test(
  "RTSP tunnel: a POST sending endless data is cut off, holding no more than its bounds",
  opts,
  async () => {
    await using s = startTestSluice();
    const port = s.sluice.rtspPort!;
    const { get, post } = await openTunnel(port, "flood");
    // One request line that never ends, 12 KiB of base64 at a time, 24 MiB at most.
    const chunk = base64Requests("a".repeat(9 * 1024));
    await post.sendRaw(base64Requests("OPTIONS rtsp://h/"));
    let writes = 0;
    try {
      for (; writes < 2000 && !post.ended; writes++) await post.sendRaw(chunk);
    } catch {
      // reset by the server
    }
    // The server stopped reading at its line bound; socket buffers took the rest.
    assert.ok(writes < 2000, "the server cut the POST off");
    assert.ok(await get.closedByServer(), "the tunnel closes");
    assert.equal((await get.response()).status, 414);
    await assertCounted(s, 1, /start line longer than 8192 bytes/);
    await assertRtspAnswers(s);
  },
);

for (
  const c of [
    {
      name: "x-sessioncookie of 20 KB",
      cookie: "c".repeat(20_000),
      extra: "",
      status: 431,
    },
    {
      name: "x-sessioncookie of 200 bytes",
      cookie: "c".repeat(200),
      extra: "",
      status: 400,
    },
    {
      name: "Accept of 20 KB",
      cookie: "ok",
      extra: `Accept: ${"a/b, ".repeat(4000)}\r\n`,
      status: 431,
    },
    {
      name: "Accept of 2 KB",
      cookie: "ok",
      extra: `Accept: ${"a/b, ".repeat(400)}\r\n`,
      status: 431,
    },
  ]
) {
  // live555's CVE-2018-4013: these values overflowed fixed buffers.
  Deno.test(
    `RTSP tunnel: a GET with an ${c.name} gets ${c.status} (CVE-2018-4013)`,
    opts,
    async () => {
      await using s = startTestSluice();
      const get = await RawTunnelGet.open(
        s.sluice.rtspPort!,
        c.cookie,
        c.extra,
      );
      assert.equal(await get.status(), c.status, get.text);
      assert.ok(await get.closedByServer());
      await assertCounted(s, 1, /closing tunnel request/);
      assert.equal(s.sluice.rtsp!.stats.tunnels, 0);
      await assertRtspAnswers(s);
    },
  );
}

Deno.test(
  "RTSP tunnel: GET and POST in one write on one connection get 400 (CVE-2019-6256)",
  opts,
  async () => {
    await using s = startTestSluice();
    const get = await RawTunnelGet.open(
      s.sluice.rtspPort!,
      "same",
      "\r\nPOST /live/x HTTP/1.0\r\nx-sessioncookie: same\r\n",
    );
    assert.equal(await get.status(), 400, get.text);
    assert.ok(await get.closedByServer());
    await assertCounted(s, 1, /bytes follow the GET head on its connection/);
    assert.equal(s.sluice.rtsp!.stats.tunnels, 0);
    await assertRtspAnswers(s);
  },
);

Deno.test(
  "RTSP tunnel: a POST on the GET's own connection closes that tunnel (CVE-2019-6256)",
  opts,
  async () => {
    await using s = startTestSluice();
    const port = s.sluice.rtspPort!;
    const other = await openTunnel(port, "other");
    const get = await RawTunnelGet.open(port, "same");
    assert.equal(await get.status(), 200);
    await get.sendRaw(
      "POST /live/x HTTP/1.0\r\nx-sessioncookie: same\r\n\r\n" +
        base64Requests(rtspRequest("OPTIONS", "rtsp://h/x", 1)),
    );
    assert.ok(await get.closedByServer());
    await assertCounted(s, 1, /bytes came on its GET connection/);
    assert.equal(get.items.length, 0, "no request of it was answered");
    await other.post.send(rtspRequest("OPTIONS", "rtsp://h/x", 2));
    assert.equal((await other.get.response()).status, 200);
    other.get.close();
    other.post.close();
  },
);

Deno.test(
  "RTSP tunnel: a tunnel-only port serves tunnels and answers plain RTSP with 400",
  opts,
  async () => {
    await using s = startTestSluice({ rtspTunnelAddresses: ["127.0.0.1:0"] });
    const port = s.sluice.rtsp!.tunnelPorts[0]!;
    assert.notEqual(port, s.sluice.rtspPort);
    const r = await rawHttp(
      port,
      "OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    );
    assert.equal(r.status, 400, r.text);
    await assertCounted(s, 1, /not an HTTP tunnel request/);
    const { get, post } = await openTunnel(port, "on-tunnel-port");
    assert.equal(s.sluice.rtsp!.stats.tunnels, 1);
    get.close();
    post.close();
  },
);

Deno.test(
  "RTSP: a connection that sends nothing is closed after readTimeout, as before tunnels",
  opts,
  async () => {
    await using s = startTestSluice({ readTimeout: "300ms" });
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    assert.ok(await c.closedByServer(3000));
    c.close();
    await assertRtspAnswers(s);
  },
);
