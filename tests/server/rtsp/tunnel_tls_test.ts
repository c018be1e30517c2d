/**
 * HTTPS tunnelling on the RTSPS port, driven byte by byte: a tunnel whose
 * GET and POST are TLS sessions gets `rtsps://` URLs from DESCRIBE (a plain
 * tunnel on the RTSP port of the same server gets `rtsp://`), and a POST
 * never joins a tunnel opened the other way (plain to HTTPS or HTTPS to
 * plain): it is answered 404, counted, and both tunnels go on.
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import { fixtureTags } from "../../_util/flv_fixture.ts";
import {
  assertCounted,
  RawTunnelGet,
  RawTunnelPost,
  type RawTunnelTls,
  rtspRequest,
} from "../../_util/rtsp_tunnel_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { testCert, tlsConfig } from "../../_util/tls.ts";
import { requireTool } from "../../_util/tools.ts";

const ignore = requireTool("openssl");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** Both halves of a tunnel with `cookie` on `port`, TLS when `tls` is given. */
async function open(
  port: number,
  cookie: string,
  tls?: RawTunnelTls,
): Promise<{ get: RawTunnelGet; post: RawTunnelPost }> {
  const get = await RawTunnelGet.open(port, cookie, "", tls);
  assert.equal(await get.status(), 200, get.text);
  const post = await RawTunnelPost.open(port, cookie, "", tls);
  return { get, post };
}

/** Publishes the fixture once on `path` over RTMP; the publisher stays. */
async function publishOnce(s: TestSluice, path: string): Promise<RtmpClient> {
  const pub = await RtmpClient.connect(s.rtmpUrl(path));
  await pub.publish();
  for (const t of await fixtureTags()) {
    if (t.type !== 18) await pub.sendMedia(t.type, t.timestamp, t.data);
  }
  return pub;
}

Deno.test(
  "HTTPS tunnel on the RTSPS port: DESCRIBE answers an rtsps:// Content-Base, a plain tunnel on the RTSP port rtsp://",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    const pub = await publishOnce(s, "live/h");
    const tls = { caCerts: [testCert().pem] };
    const ports = { rtsps: s.sluice.rtspsPort!, rtsp: s.sluice.rtspPort! };
    const secure = await open(ports.rtsps, "https-1", tls);
    const plain = await open(ports.rtsp, "http-1");
    try {
      // Clients tunnelling in HTTPS write rtsp:// (ffmpeg) or rtsps:// (GStreamer).
      for (const [i, scheme] of ["rtsp", "rtsps"].entries()) {
        await secure.post.send(rtspRequest(
          "DESCRIBE",
          `${scheme}://127.0.0.1:${ports.rtsps}/live/h`,
          i + 1,
        ));
        const r = await secure.get.response();
        assert.equal(r.status, 200);
        assert.equal(
          r.headers.get("Content-Base"),
          `rtsps://127.0.0.1:${ports.rtsps}/live/h/`,
        );
      }
      await plain.post.send(
        rtspRequest("DESCRIBE", `rtsp://127.0.0.1:${ports.rtsp}/live/h`, 1),
      );
      const r = await plain.get.response();
      assert.equal(r.status, 200);
      assert.equal(
        r.headers.get("Content-Base"),
        `rtsp://127.0.0.1:${ports.rtsp}/live/h/`,
      );
      const stats = s.sluice.rtsp!.stats;
      assert.equal(stats.tunnels, 2, s.logs.join("\n"));
      assert.equal(stats.tlsHandshakeFailures, 0);
      assert.equal(stats.protocolErrors, 0);
    } finally {
      for (const t of [secure, plain]) {
        t.get.close();
        t.post.close();
      }
      pub.close();
    }
  },
);

Deno.test(
  "HTTPS tunnel: a POST never joins a tunnel opened the other way (404, counted); both tunnels go on",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    const tls = { caCerts: [testCert().pem] };
    const ports = { rtsps: s.sluice.rtspsPort!, rtsp: s.sluice.rtspPort! };
    const secure = await open(ports.rtsps, "https-2", tls);
    const plain = await open(ports.rtsp, "http-2");
    // Plain POST with the HTTPS tunnel's cookie: its requests would travel in the clear.
    const intoSecure = await RawTunnelPost.open(ports.rtsp, "https-2");
    assert.equal(await intoSecure.status(), 404, intoSecure.text);
    assert.ok(await intoSecure.closedByServer());
    await assertCounted(s, 1, /no open tunnel has its x-sessioncookie/);
    const intoPlain = await RawTunnelPost.open(
      ports.rtsps,
      "http-2",
      "",
      tls,
    );
    assert.equal(await intoPlain.status(), 404, intoPlain.text);
    await assertCounted(s, 2, /no open tunnel has its x-sessioncookie/);
    try {
      for (const t of [secure, plain]) {
        await t.post.send(rtspRequest("OPTIONS", "rtsp://127.0.0.1/live/x", 1));
        const r = await t.get.response();
        assert.equal(r.status, 200);
        assert.equal(t.get.ended, false);
      }
      assert.equal(s.sluice.rtsp!.stats.tunnels, 2);
    } finally {
      for (const t of [secure, plain, { get: intoSecure, post: intoPlain }]) {
        t.get.close();
        t.post.close();
      }
    }
  },
);
