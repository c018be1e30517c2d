/**
 * The RTSP server driven byte by byte: methods, status codes, sessions,
 * auth, and the request shapes behind live555's CVEs (INTEROP.md).
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import {
  digestAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
} from "../../../lib/rtsp/headers/auth.ts";
import { decodeRtpPacket } from "../../../lib/rtp/packet.ts";
import { RawRtsp } from "../../_util/rtsp_raw.ts";
import { fixtureTags } from "../../_util/flv_fixture.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** An RTMP publisher of the fixture on `path`, sending loops until stopped. */
async function publish(
  s: TestSluice,
  path: string,
): Promise<{ stop(): Promise<void> }> {
  const tags = await fixtureTags();
  const pub = await RtmpClient.connect(s.rtmpUrl(path));
  await pub.publish();
  let running = true;
  const span = tags.at(-1)!.timestamp + 40;
  const loop = (async () => {
    for (let i = 0; running && i < 100; i++) {
      for (const t of tags) {
        if (t.type !== 18) {
          await pub.sendMedia(t.type, t.timestamp + i * span, t.data);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      pub.close();
    },
  };
}

function url(s: TestSluice, path: string): string {
  return s.rtspUrl(path);
}

Deno.test("RTSP OPTIONS lists every method in Public", opts, async () => {
  await using s = startTestSluice();
  const c = await RawRtsp.connect(s.sluice.rtspPort!);
  const r = await c.request("OPTIONS", url(s, "live/x"));
  assert.equal(r.status, 200);
  for (
    const m of [
      "DESCRIBE",
      "ANNOUNCE",
      "SETUP",
      "PLAY",
      "RECORD",
      "PAUSE",
      "TEARDOWN",
      "GET_PARAMETER",
      "SET_PARAMETER",
    ]
  ) {
    assert.match(r.headers.get("Public")!, new RegExp(m));
  }
  assert.equal(r.headers.get("CSeq"), "1");
  c.close();
});

Deno.test(
  "RTSP DESCRIBE of a path nobody publishes answers 404 after the wait",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "300ms" });
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    assert.equal(
      (await c.request("DESCRIBE", url(s, "live/none"))).status,
      404,
    );
    c.close();
  },
);

Deno.test(
  "RTSP DESCRIBE builds the SDP from an RTMP publisher's tracks",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/d");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const r = await c.request("DESCRIBE", url(s, "live/d"), {
      Accept: "application/sdp",
    });
    const sdp = new TextDecoder().decode(r.body);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("Content-Base"), `${url(s, "live/d")}/`);
    assert.match(sdp, /m=video 0 RTP\/AVP 96/);
    assert.match(sdp, /a=rtpmap:96 H264\/90000/);
    assert.match(
      sdp,
      /packetization-mode=1;profile-level-id=[0-9a-f]{6};sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+/,
    );
    assert.match(sdp, /a=rtpmap:97 MPEG4-GENERIC\/44100\/2/);
    assert.match(
      sdp,
      /mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210/,
    );
    assert.match(sdp, /a=control:trackID=0/);
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP SETUP/PLAY over TCP sends RTP with the RTP-Info it announced, from a keyframe",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/p");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    await c.request("DESCRIBE", url(s, "live/p"));
    const setup = await c.request("SETUP", `${url(s, "live/p")}/trackID=0`, {
      Transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
    });
    assert.equal(setup.status, 200);
    assert.equal(
      setup.headers.get("Transport"),
      "RTP/AVP/TCP;unicast;interleaved=0-1",
    );
    assert.match(setup.headers.get("Session")!, /^[0-9a-f]{16};timeout=60$/);
    const session = setup.headers.get("Session")!.split(";")[0]!;
    const play = await c.request("PLAY", url(s, "live/p"), {
      Session: session,
      Range: "npt=0.000-",
    });
    assert.equal(play.status, 200);
    const info = /seq=(\d+);rtptime=(\d+)/.exec(play.headers.get("RTP-Info")!);
    assert.ok(info, play.headers.get("RTP-Info"));
    await new Promise((r) => setTimeout(r, 300));
    const frames = c.frames();
    assert.ok(frames.length > 10);
    const first = decodeRtpPacket(frames.find((f) => f.channel === 0)!.payload);
    assert.equal(first.sequenceNumber, Number(info[1]));
    assert.equal(first.timestamp, Number(info[2]));
    const nalType = first.payload[0]! & 0x1f;
    assert.ok(
      nalType === 24 || nalType === 5 || nalType === 7 ||
        (nalType === 28 && (first.payload[1]! & 0x1f) === 5),
      `first NAL type ${nalType}`,
    );
    assert.equal(
      frames.filter((f) => f.channel !== 0 && f.channel !== 1).length,
      0,
      "only the track set up is sent",
    );
    assert.equal(
      (await c.request("TEARDOWN", url(s, "live/p"), { Session: session }))
        .status,
      200,
    );
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP refuses SETUP twice for one track and SETUP after PLAY with 455 (CVE-2021-38382, CVE-2021-39283)",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/twice");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const t = { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1" };
    const first = await c.request(
      "SETUP",
      `${url(s, "live/twice")}/trackID=0`,
      t,
    );
    const session = first.headers.get("Session")!.split(";")[0]!;
    const again = await c.request(
      "SETUP",
      `${url(s, "live/twice")}/trackID=0`,
      { ...t, Session: session },
    );
    assert.equal(again.status, 455);
    assert.equal(
      (await c.request("PLAY", url(s, "live/twice"), { Session: session }))
        .status,
      200,
    );
    assert.equal(
      (await c.request("PLAY", url(s, "live/twice"), { Session: session }))
        .status,
      200,
      "PLAY again is harmless",
    );
    const late = await c.request("SETUP", `${url(s, "live/twice")}/trackID=1`, {
      Transport: "RTP/AVP/TCP;unicast;interleaved=2-3",
      Session: session,
    });
    assert.equal(late.status, 455);
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP refuses a Session id replayed from another connection with 454 (CVE-2026-41470)",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/replay");
    const a = await RawRtsp.connect(s.sluice.rtspPort!);
    const setup = await a.request(
      "SETUP",
      `${url(s, "live/replay")}/trackID=0`,
      {
        Transport: "RTP/AVP;unicast;client_port=40000-40001",
      },
    );
    const session = setup.headers.get("Session")!.split(";")[0]!;
    const b = await RawRtsp.connect(s.sluice.rtspPort!);
    assert.equal(
      (await b.request("PLAY", url(s, "live/replay"), { Session: session }))
        .status,
      454,
    );
    assert.equal(
      (await b.request("TEARDOWN", url(s, "live/replay"), { Session: session }))
        .status,
      454,
    );
    assert.equal(
      (await a.request("PLAY", url(s, "live/replay"), { Session: session }))
        .status,
      200,
      "its owner still can",
    );
    a.close();
    b.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP answers UDP SETUP with the client's transport plus server ports, never a header's destination",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/udp");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const r = await c.request("SETUP", `${url(s, "live/udp")}/trackID=0`, {
      Transport: "RTP/AVP;unicast;destination=10.9.8.7;client_port=40100-40101",
    });
    assert.equal(r.status, 200);
    const t = r.headers.get("Transport")!;
    assert.match(
      t,
      /^RTP\/AVP;unicast;client_port=40100-40101;server_port=\d+-\d+$/,
    );
    assert.doesNotMatch(t, /10\.9\.8\.7/);
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP answers malformed and unsupported requests with the right status, and lives on",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/bad");
    const cases: [string, Record<string, string>, number, string][] = [
      [
        "SETUP",
        { Transport: "RTP/SAVPF;unicast;client_port=1-2" },
        461,
        "unsupported profile",
      ],
      [
        "SETUP",
        { Transport: "RTP/AVP/TCP;multicast;interleaved=0-1" },
        461,
        "multicast over TCP",
      ],
      [
        "SETUP",
        { Transport: "RTP/AVP;unicast;client_port=abc" },
        400,
        "malformed Transport (Kodi)",
      ],
      ["SETUP", {}, 461, "no Transport"],
      ["PLAY", {}, 454, "PLAY without a session"],
      ["PLAY", { Session: "deadbeef" }, 454, "unknown session"],
      ["FOO", {}, 501, "unknown method"],
      [
        "SET_PARAMETER",
        { "Content-Type": "text/parameters" },
        200,
        "empty SET_PARAMETER",
      ],
    ];
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    for (const [method, headers, status, what] of cases) {
      const r = await c.request(
        method,
        `${url(s, "live/bad")}/trackID=0`,
        headers,
      );
      assert.equal(r.status, status, what);
    }
    const withBody = await c.request("SET_PARAMETER", url(s, "live/bad"), {
      "Content-Type": "text/parameters",
    }, "x: 1\r\n");
    assert.equal(withBody.status, 451);
    assert.equal(
      (await c.request("OPTIONS", url(s, "live/bad"))).status,
      200,
      "the connection survived all of it",
    );
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP PLAY with Range: clock= is refused with 457 (CVE-2020-24027)",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/range");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const setup = await c.request(
      "SETUP",
      `${url(s, "live/range")}/trackID=0`,
      { Transport: "RTP/AVP/TCP;interleaved=0-1" },
    );
    const session = setup.headers.get("Session")!.split(";")[0]!;
    const r = await c.request("PLAY", url(s, "live/range"), {
      Session: session,
      Range: "clock=19961108T143720.25Z-",
    });
    assert.equal(r.status, 457);
    c.close();
    await pub.stop();
  },
);

for (
  const [name, bytes] of [
    [
      "a request starting with a space (CVE-2007-6036)",
      " OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    ],
    [
      "a request starting with a tab (CVE-2013-6933)",
      "\tDESCRIBE rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    ],
    ["a very short request (CVE-2013-6934)", "A\r\n\r\n"],
    [
      "Content-Length 999999999 (then stalling)",
      "ANNOUNCE rtsp://x/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\nv=0",
    ],
    [
      "two different Authorization fields (CVE-2019-7732)",
      "OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\n\r\n",
    ],
  ] as const
) {
  Deno.test(
    `RTSP answers ${name} with 4xx and closes only that connection`,
    opts,
    async () => {
      await using s = startTestSluice();
      const other = await RawRtsp.connect(s.sluice.rtspPort!);
      const c = await RawRtsp.connect(s.sluice.rtspPort!);
      await c.sendRaw(bytes);
      let status: number | undefined;
      try {
        status = (await c.response(3000)).status;
      } catch {
        status = undefined;
      }
      if (name.startsWith("two different")) {
        assert.equal(status, 400);
      } else {
        assert.ok(
          status === undefined || (status >= 400 && status < 500),
          `status ${status}`,
        );
        assert.equal(
          await c.closedByServer(3000),
          true,
          "the connection is closed",
        );
      }
      assert.equal(
        (await other.request("OPTIONS", url(s, "x"))).status,
        200,
        "other connections are fine",
      );
      c.close();
      other.close();
    },
  );
}

Deno.test(
  "RTSP TEARDOWN after TCP-interleaved SETUP and PLAY frees the session (CVE-2019-7314)",
  opts,
  async () => {
    await using s = startTestSluice();
    const pub = await publish(s, "live/td");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const setup = await c.request("SETUP", `${url(s, "live/td")}/trackID=0`, {
      Transport: "RTP/AVP/TCP;interleaved=0-1",
    });
    const session = setup.headers.get("Session")!.split(";")[0]!;
    await c.request("PLAY", url(s, "live/td"), { Session: session });
    assert.equal(s.sluice.hub.stream("live/td")!.readers, 1);
    assert.equal(
      (await c.request("TEARDOWN", url(s, "live/td"), { Session: session }))
        .status,
      200,
    );
    assert.equal(s.sluice.hub.stream("live/td")!.readers, 0);
    assert.equal(s.sluice.rtsp!.sessions, 0);
    assert.equal(
      (await c.request("TEARDOWN", url(s, "live/td"), { Session: session }))
        .status,
      454,
      "a second TEARDOWN finds nothing",
    );
    await c.sendRaw(
      new Uint8Array([0x24, 0x01, 0x00, 0x04, 0x80, 0xc9, 0x00, 0x01]),
    ); // late RTCP on the freed channel
    assert.equal((await c.request("OPTIONS", url(s, "live/td"))).status, 200);
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP reaps a UDP session whose client vanished, after the timeout",
  opts,
  async () => {
    await using s = startTestSluice({ rtspSessionTimeout: "1s" });
    const pub = await publish(s, "live/reap");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const setup = await c.request("SETUP", `${url(s, "live/reap")}/trackID=0`, {
      Transport: "RTP/AVP;unicast;client_port=40200-40201",
    });
    assert.match(setup.headers.get("Session")!, /;timeout=1$/);
    const session = setup.headers.get("Session")!.split(";")[0]!;
    await c.request("PLAY", url(s, "live/reap"), { Session: session });
    c.close(); // gone without TEARDOWN; nothing comes back on UDP either
    assert.equal(
      s.sluice.rtsp!.sessions,
      1,
      "a UDP session outlives its TCP connection",
    );
    const end = Date.now() + 10_000;
    while (s.sluice.rtsp!.sessions > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.sluice.rtsp!.sessions, 0);
    assert.equal(s.sluice.rtsp!.stats.sessionsTimedOut, 1);
    assert.equal(
      s.sluice.hub.stream("live/reap")?.readers ?? 0,
      0,
      "its reader is freed",
    );
    await pub.stop();
  },
);

Deno.test(
  "RTSP asks for credentials with Digest and Basic, accepts the right ones, refuses wrong ones",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/secret": { readUser: "viewer", readPass: "s3cret" } },
    });
    const pub = await publish(s, "live/secret");
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    const target = url(s, "live/secret");
    const first = await c.request("DESCRIBE", target);
    assert.equal(first.status, 401);
    const challenges = first.headers.getAll("WWW-Authenticate").flatMap((v) =>
      parseWwwAuthenticate(v)
    );
    const digest = challenges.find((ch) => ch.scheme === "Digest");
    assert.ok(digest && digest.scheme === "Digest");
    assert.ok(challenges.some((ch) => ch.scheme === "Basic"));
    const wrong = digestAuthorization(digest, {
      username: "viewer",
      password: "nope",
      method: "DESCRIBE",
      uri: target,
    });
    assert.equal(
      (await c.request("DESCRIBE", target, {
        Authorization: stringifyAuthorization(wrong),
      })).status,
      401,
    );
    const right = digestAuthorization(digest, {
      username: "viewer",
      password: "s3cret",
      method: "DESCRIBE",
      uri: target,
    });
    assert.equal(
      (await c.request("DESCRIBE", target, {
        Authorization: stringifyAuthorization(right),
      })).status,
      200,
    );
    const basic = `Basic ${btoa("viewer:s3cret")}`;
    assert.equal(
      (await c.request("DESCRIBE", target, { Authorization: basic })).status,
      200,
    );
    assert.equal(
      (await c.request("DESCRIBE", target, { Authorization: "Digest garbage" }))
        .status,
      400,
    );
    c.close();
    await pub.stop();
  },
);

Deno.test(
  "RTSP with credentials configured answers 401 whether or not the path exists",
  opts,
  async () => {
    await using s = startTestSluice({
      playWaitTimeout: "200ms",
      paths: { "live/private": { readUser: "a", readPass: "b" } },
    });
    const c = await RawRtsp.connect(s.sluice.rtspPort!);
    assert.equal(
      (await c.request("DESCRIBE", url(s, "live/private"))).status,
      401,
      "no publisher, still 401",
    );
    c.close();
  },
);

for (const method of ["OPTIONS", "DESCRIBE", "SETUP", "GET_PARAMETER"]) {
  Deno.test(
    `RTSP answers ${method} without CSeq with 400 (RFC 2326 §12.17)`,
    opts,
    async () => {
      await using s = startTestSluice();
      const c = await RawRtsp.connect(s.sluice.rtspPort!);
      await c.sendRaw(`${method} ${url(s, "live/x")} RTSP/1.0\r\n\r\n`);
      assert.equal((await c.response(3000)).status, 400);
      c.close();
    },
  );
}

for (
  const [name, ports] of [
    ["0-1", "0-1"],
    ["a reversed range", "5002-5001"],
    ["an odd RTP port", "5001-5002"],
    ["the same port twice", "5002-5002"],
  ] as const
) {
  Deno.test(
    `RTSP SETUP with client_port ${name} is refused with 400`,
    opts,
    async () => {
      await using s = startTestSluice();
      const pub = await publish(s, "live/ports");
      const c = await RawRtsp.connect(s.sluice.rtspPort!);
      const r = await c.request("SETUP", `${url(s, "live/ports")}/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${ports}`,
      });
      assert.equal(r.status, 400);
      assert.equal(r.headers.get("Session"), undefined, "no session made");
      // A right range on the same connection still works.
      const ok = await c.request("SETUP", `${url(s, "live/ports")}/trackID=0`, {
        Transport: "RTP/AVP;unicast;client_port=5002-5003",
      });
      assert.equal(ok.status, 200);
      c.close();
      await pub.stop();
    },
  );
}
