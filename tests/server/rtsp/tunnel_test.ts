/**
 * RTSP over HTTP tunnelling on the server, driven byte by byte: the two
 * halves, a POST closing and coming back, the GET closing, the session
 * timing out, and tunnel-only ports. Bad input: tunnel_bad_input_test.ts.
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import { fixtureTags } from "../../_util/flv_fixture.ts";
import { rawHttp } from "../../_util/http_raw.ts";
import { RawRtsp } from "../../_util/rtsp_raw.ts";
import {
  assertCounted,
  assertRtspAnswers,
  base64Requests,
  openTunnel,
  RawTunnelGet,
  RawTunnelPost,
  rtspRequest,
} from "../../_util/rtsp_tunnel_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { until } from "../../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

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
