/**
 * The RTSP client over HTTP tunnels (`rtsph://`): what it sends on the wire,
 * a session with Sluice through one, and servers that refuse or stall the GET.
 */
import assert from "node:assert/strict";
import { RtspClient, RtspClientError } from "../../lib/client/rtsp/client.ts";
import { Base64Decoder } from "../../lib/rtsp/base64.ts";
import { HttpHeadReader, parseTunnelRequest } from "../../lib/rtsp/tunnel.ts";
import { startTestSluice } from "../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "RtspClient over rtsph:// opens a GET and a POST with one cookie and sends base64 requests naming rtsp:// URLs",
  opts,
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const server = (async () => {
      const get = await listener.accept();
      const buf = new Uint8Array(8192);
      const reader = new HttpHeadReader();
      const head = reader.push(buf.subarray(0, (await get.read(buf))!));
      assert.ok(head !== undefined);
      const getReq = parseTunnelRequest(head.head);
      await get.write(
        new TextEncoder().encode(
          "HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n",
        ),
      );
      const post = await listener.accept();
      const postReader = new HttpHeadReader();
      let postHead: ReturnType<HttpHeadReader["push"]>;
      let text = "";
      const decoder = new Base64Decoder();
      const sink = {
        enqueue: (b: Uint8Array) => text += new TextDecoder().decode(b),
      };
      for (let i = 0; i < 20 && !text.includes("\r\n\r\n"); i++) {
        const n = await post.read(buf);
        if (n === null) break;
        const bytes = buf.slice(0, n);
        if (postHead !== undefined) decoder.push(bytes, sink);
        else if ((postHead = postReader.push(bytes)) !== undefined) {
          decoder.push(postHead.rest, sink);
        }
      }
      assert.ok(postHead !== undefined);
      const postReq = parseTunnelRequest(postHead.head);
      assert.deepEqual(
        [postReq.method, postReq.cookie, postReq.target],
        ["POST", getReq.cookie, getReq.target],
      );
      await get.write(
        new TextEncoder().encode(
          "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n",
        ),
      );
      return {
        getReq,
        text,
        close: () => [get, post].forEach((c) => c.close()),
      };
    })();
    const client = await RtspClient.open(`rtsph://127.0.0.1:${port}/live/x`, {
      timeoutMs: 5000,
    });
    const seen = await server;
    assert.equal(seen.getReq.target, "/live/x");
    assert.ok(seen.getReq.cookie.length >= 16);
    assert.match(
      seen.text,
      new RegExp(
        `^OPTIONS rtsp://127\\.0\\.0\\.1:${port}/live/x RTSP/1\\.0\r\n`,
      ),
    );
    assert.deepEqual(client.publicMethods, ["OPTIONS", "DESCRIBE"]);
    client.close();
    seen.close();
    listener.close();
  },
);

Deno.test(
  "RtspClient over rtsph:// talks to Sluice through a tunnel on its RTSP port",
  opts,
  async () => {
    await using s = startTestSluice();
    const client = await RtspClient.open(
      `rtsph://127.0.0.1:${s.sluice.rtspPort}/live/x`,
    );
    assert.ok(client.publicMethods.includes("DESCRIBE"));
    assert.equal(s.sluice.rtsp!.stats.tunnels, 1);
    client.close();
  },
);

Deno.test(
  "RtspClient over rtsph:// fails on a GET answered 404, naming the answer",
  opts,
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const served = (async () => {
      const c = await listener.accept();
      await c.read(new Uint8Array(4096));
      await c.write(new TextEncoder().encode("HTTP/1.0 404 Not Found\r\n\r\n"));
      return c;
    })();
    await assert.rejects(
      RtspClient.open(`rtsph://127.0.0.1:${port}/x`, { timeoutMs: 3000 }),
      (e) =>
        e instanceof RtspClientError && e.step === "connect" &&
        /404 Not Found/.test(e.message),
    );
    (await served).close();
    listener.close();
  },
);

Deno.test(
  "RtspClient over rtsph:// gives up on a GET never answered within timeoutMs",
  opts,
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const accepted = listener.accept();
    const started = Date.now();
    await assert.rejects(
      RtspClient.open(`rtsph://127.0.0.1:${port}/x`, { timeoutMs: 300 }),
      (e) => e instanceof RtspClientError && e.step === "connect",
    );
    assert.ok(Date.now() - started < 2000);
    // The client closed its side: the server's read ends.
    const c = await accepted;
    const buf = new Uint8Array(4096);
    let n: number | null = 0;
    for (let i = 0; i < 10 && n !== null; i++) n = await c.read(buf);
    assert.equal(n, null);
    c.close();
    listener.close();
  },
);
