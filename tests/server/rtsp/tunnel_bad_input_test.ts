/**
 * Bad input on RTSP over HTTP tunnels, each of INTEROP.md's cases (live555's
 * CVE-2018-4013 and CVE-2019-6256 among them): each gets its answer or a
 * close, is counted in protocolErrors and logged, and disturbs nothing else.
 */
import assert from "node:assert/strict";
import {
  assertCounted,
  assertRtspAnswers,
  base64Requests,
  openTunnel,
  RawTunnelGet,
  RawTunnelPost,
  rtspRequest,
} from "../../_util/rtsp_tunnel_raw.ts";
import { startTestSluice } from "../../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

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
