/**
 * REGISTER and DEREGISTER on Sluice's RTSP server, with hand-built requests
 * over a raw socket: after a REGISTER with `reuse_connection` the test
 * plays the registering camera on that same socket (answers Sluice's
 * OPTIONS, DESCRIBE, SETUP and PLAY, then sends the RTP of a real H.264
 * capture interleaved). Bad input gets its RTSP status (or a close of that
 * one connection), is counted and logged, and a registered stream keeps
 * flowing meanwhile.
 */
import assert from "node:assert/strict";
import {
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../../lib/rtsp/headers/auth.ts";
import type { RtspResponse } from "../../../lib/rtsp/message.ts";
import { playAndCount } from "../../_util/ffmpeg.ts";
import { RawRtsp } from "../../_util/rtsp_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { requireTool } from "../../_util/tools.ts";
import { until } from "../../_util/wait.ts";
import { readCapture } from "../../rtp/_capture.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const USER = "cam";
const PASS = "pw";
const CAMERA_URL = "rtsp://10.0.0.5:8554/cam1";
const REUSE =
  "reuse_connection; preferred_delivery_protocol=interleaved; proxy_URL_suffix=";

/** SPS/PPS of `h264_bf0.rtp`, 320×240 (tests/testdata/rtp/README.md). */
const SDP = [
  "v=0",
  "o=- 1 1 IN IP4 10.0.0.5",
  "s=camera",
  "t=0 0",
  "m=video 0 RTP/AVP 96",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA=",
  "a=control:trackID=0",
  "",
].join("\r\n");

function framesIn(s: TestSluice, path: string): number {
  return s.sluice.hub.stream(path)?.stats.framesIn ?? 0;
}

function basic(): string {
  return `Basic ${btoa(`${USER}:${PASS}`)}`;
}

/** The Digest answer to a 401 for `method` on `uri`. */
function digest(r: RtspResponse, method: string, uri: string): string {
  const challenge = r.headers.getAll("WWW-Authenticate").flatMap((v) =>
    parseWwwAuthenticate(v)
  ).find((c) => c.scheme === "Digest");
  assert.ok(challenge?.scheme === "Digest", "a Digest challenge");
  return stringifyAuthorization(digestAuthorization(challenge, {
    username: USER,
    password: PASS,
    method,
    uri,
    cnonce: "0a1b2c3d",
  }));
}

/**
 * Plays the camera on `raw` after its REGISTER was accepted: answers the
 * requests Sluice's client sends until PLAY, then sends the capture's RTP
 * (looped, renumbered, 25 frames a second) until `stop` is aborted.
 */
async function serveCamera(raw: RawRtsp, stop: AbortSignal): Promise<void> {
  for (;;) {
    const req = await raw.nextRequest();
    if (req.method === "OPTIONS") {
      await raw.reply(req, 200, [["Public", "OPTIONS, DESCRIBE, SETUP, PLAY"]]);
    } else if (req.method === "DESCRIBE") {
      await raw.reply(req, 200, [
        ["Content-Base", `${CAMERA_URL}/`],
        ["Content-Type", "application/sdp"],
      ], SDP);
    } else if (req.method === "SETUP") {
      assert.match(req.headers.get("Transport") ?? "", /RTP\/AVP\/TCP/);
      await raw.reply(req, 200, [
        ["Session", "12345678;timeout=60"],
        ["Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"],
      ]);
    } else if (req.method === "PLAY") {
      await raw.reply(req, 200, [["Session", "12345678"]]);
      break;
    } else {
      await raw.reply(req, 200);
    }
  }
  const packets = readCapture("h264_bf0.rtp");
  const ts0 = new DataView(packets[0]!.buffer, packets[0]!.byteOffset)
    .getUint32(4);
  let seq = 0;
  for (let loop = 0; loop < 20 && !stop.aborted; loop++) {
    let lastTs = -1;
    for (const p of packets) {
      if (stop.aborted) return;
      const out = p.slice();
      const v = new DataView(out.buffer);
      const ts = (v.getUint32(4) - ts0) >>> 0;
      if (ts !== lastTs && lastTs >= 0) {
        await new Promise((r) => setTimeout(r, 40)); // 25 frames a second
      }
      lastTs = ts;
      v.setUint16(2, seq++ & 0xffff);
      v.setUint32(4, (ts + loop * 2 * 90000) >>> 0);
      const frame = new Uint8Array(4 + out.length);
      frame.set([0x24, 0, out.length >> 8, out.length & 0xff]);
      frame.set(out, 4);
      try {
        await raw.sendRaw(frame);
      } catch {
        return; // Sluice closed the connection
      }
    }
  }
}

/** A raw connection REGISTERed at `s` with reuse_connection under `path`, streaming. */
async function registerRaw(s: TestSluice, path: string) {
  const raw = await RawRtsp.connect(s.sluice.rtspPort!);
  const first = await raw.request("REGISTER", CAMERA_URL, {
    Transport: REUSE + path,
  });
  assert.equal(first.status, 401);
  const ok = await raw.request("REGISTER", CAMERA_URL, {
    Transport: REUSE + path,
    Authorization: digest(first, "REGISTER", CAMERA_URL),
  });
  assert.equal(ok.status, 200);
  const stop = new AbortController();
  const serving = serveCamera(raw, stop.signal);
  return {
    raw,
    serving,
    async [Symbol.asyncDispose]() {
      stop.abort();
      raw.close();
      await serving.catch(() => {});
    },
  };
}

function central(): TestSluice {
  return startTestSluice({
    publisherGracePeriod: "0s",
    paths: {
      "reg/cam": { publishUser: USER, publishPass: PASS },
      "reg/other": { publishUser: USER, publishPass: PASS },
    },
  });
}

Deno.test(
  "REGISTER with reuse_connection: Sluice pulls over the same socket, ffmpeg plays the path, DEREGISTER ends it",
  { ...opts, ignore: requireTool("ffmpeg") },
  async () => {
    await using s = central();
    await using cam = await registerRaw(s, "reg/cam");
    await until(
      () => framesIn(s, "reg/cam") >= 10,
      10_000,
      () => s.logs.join("\n"),
    );
    const played = await playAndCount(s.rtspUrl("reg/cam"), {
      seconds: 1.5,
      timeoutMs: 15_000,
      inputArgs: ["-rtsp_transport", "tcp"],
    });
    assert.equal(played.code, 0, played.stderr);
    assert.deepEqual(
      [played.video?.codec, played.video?.width, played.video?.height],
      ["h264", 320, 240],
      played.stderr,
    );
    assert.ok(played.video!.frames >= 25, `decoded ${played.video!.frames}`);

    const other = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const r = await other.request("DEREGISTER", CAMERA_URL, {
        Transport: "proxy_url_suffix=reg/cam",
        Authorization: basic(),
      });
      assert.equal(r.status, 200);
    } finally {
      other.close();
    }
    // Sluice's client tears the session down and closes the registered socket.
    assert.ok(await cam.raw.closedByServer(5000), "registered socket closed");
    await until(
      () => !s.sluice.hub.hasPublisher("reg/cam"),
      5000,
      () => s.logs.join("\n"),
    );
    assert.equal(s.sluice.registrations.size, 0);
  },
);

Deno.test(
  "REGISTER bad input: each gets its status or a close of its connection, is counted and logged, and a registered stream keeps flowing",
  opts,
  async () => {
    await using s = central();
    await using _cam = await registerRaw(s, "reg/cam");
    await until(
      () => framesIn(s, "reg/cam") >= 5,
      10_000,
      () => s.logs.join("\n"),
    );
    const refusedBefore = s.sluice.registrations.stats.refused;
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const auth = { Authorization: basic() };
    try {
      // Not rtsp://
      for (const url of ["http://10.0.0.5/cam1", "rtmp://10.0.0.5/live/cam1"]) {
        const r = await c.request("REGISTER", url, {
          Transport: REUSE + "reg/other",
          ...auth,
        });
        assert.equal(r.status, 400, url);
      }
      // Without credentials: 401 and a Digest challenge.
      const noAuth = await c.request("REGISTER", CAMERA_URL, {
        Transport: REUSE + "reg/other",
      });
      assert.equal(noAuth.status, 401);
      assert.ok(
        noAuth.headers.getAll("WWW-Authenticate").some((v) =>
          v.startsWith("Digest ")
        ),
      );
      // A suffix that is no path.
      for (const bad of ["..", "reg/../cam", "%2e%2e", ""]) {
        const r = await c.request("REGISTER", CAMERA_URL, {
          Transport: REUSE + bad,
          ...auth,
        });
        assert.equal(r.status, 400, JSON.stringify(bad));
      }
      // A path already registered: 451, as live555 answers.
      const twice = await c.request("REGISTER", CAMERA_URL, {
        Transport: REUSE + "reg/cam",
        ...auth,
      });
      assert.equal(twice.status, 451);
    } finally {
      c.close();
    }

    // Connecting out: a host that accepts and never answers is a 504 after a bounded wait.
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) held.push(conn);
    })().catch(() => {});
    const c2 = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const started = Date.now();
      const r = await c2.request(
        "REGISTER",
        `rtsp://127.0.0.1:${silent.addr.port}/cam1`,
        { Transport: "proxy_url_suffix=reg/other", ...auth },
      );
      assert.equal(r.status, 504);
      assert.ok(Date.now() - started < 8000, `${Date.now() - started} ms`);
      // A closed port: 502 at once.
      const closedPort = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = closedPort.addr.port;
      closedPort.close();
      const refused = await c2.request(
        "REGISTER",
        `rtsp://127.0.0.1:${port}/cam1`,
        { Transport: "proxy_url_suffix=reg/other", ...auth },
      );
      assert.equal(refused.status, 502);
      // Connecting out for a path without publish credentials: 403.
      const open = await c2.request("REGISTER", CAMERA_URL, {
        Transport: "proxy_url_suffix=open/path",
      });
      assert.equal(open.status, 403);
    } finally {
      c2.close();
      silent.close();
      for (const h of held) h.close();
      await accepting;
    }
    assert.equal(s.sluice.registrations.has("reg/other"), false);

    // A flood on one connection: answered up to the limit, then 400 and closed.
    const c3 = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      let wire = "";
      for (let i = 1; i <= 40; i++) {
        wire += `REGISTER ${CAMERA_URL} RTSP/1.0\r\nCSeq: ${i}\r\n` +
          `Transport: ${REUSE}reg/other\r\n\r\n`;
      }
      await c3.sendRaw(wire);
      const statuses: number[] = [];
      for (;;) {
        try {
          statuses.push((await c3.response(3000)).status);
        } catch {
          break;
        }
      }
      assert.ok(await c3.closedByServer(3000), "flooding connection closed");
      assert.deepEqual(statuses.slice(0, 8), Array(8).fill(401));
      assert.equal(statuses[8], 400);
      assert.ok(statuses.length < 40, `${statuses.length} answers`);
    } finally {
      c3.close();
    }

    // Counted and logged; the registered stream kept flowing, the server still answers.
    const stats = s.sluice.registrations.stats;
    assert.ok(stats.refused - refusedBefore >= 14, JSON.stringify(stats));
    assert.ok(s.logs.some((l) => l.includes("REGISTER refused")));
    assert.ok(s.logs.some((l) => l.includes("REGISTER flood")));
    const before = framesIn(s, "reg/cam");
    await until(
      () => framesIn(s, "reg/cam") >= before + 10,
      5000,
      () => s.logs.join("\n"),
    );
    assert.deepEqual(
      s.sluice.registrations.states().map((r) => [r.path, r.status]),
      [["reg/cam", "running"]],
    );
    const c4 = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const r = await c4.request("OPTIONS", "*");
      assert.equal(r.status, 200);
      assert.match(r.headers.get("Public")!, /REGISTER, DEREGISTER/);
    } finally {
      c4.close();
    }
  },
);
