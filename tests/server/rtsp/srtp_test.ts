/**
 * SRTP on the RTSP server against hand-built requests and packets: keys
 * only on RTSPS, one profile per session, RECORD of RTP/SAVP with the
 * announced MIKEY key, and SRTP that fails authentication or replays
 * dropped and counted while the session, its frames and the connection go
 * on. `srtp: required` refuses plain RTP on RTSPS only.
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import {
  RtspClient,
  RtspClientError,
} from "../../../lib/client/rtsp/client.ts";
import {
  encodeMikey,
  SrtpContext,
  stringifyKeyMgmt,
} from "../../../lib/srtp/mod.ts";
import { encodeInterleaved } from "../../../lib/rtsp/interleaved.ts";
import { fixtureTags } from "../../_util/flv_fixture.ts";
import { RawRtsp } from "../../_util/rtsp_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { testCert, tlsConfig } from "../../_util/tls.ts";
import { requireTool } from "../../_util/tools.ts";
import { readCapture } from "../../rtp/_capture.ts";
import { hex } from "../../_util/bytes.ts";

const opts = {
  ignore: requireTool("openssl"),
  sanitizeOps: false,
  sanitizeResources: false,
};
const MASTER = {
  key: hex("000102030405060708090a0b0c0d0e0f"),
  salt: hex("a0a1a2a3a4a5a6a7a8a9aaabacad"),
};

/** An RTMP publisher of the FLV fixture (H.264 + AAC) on `path`, looping. */
async function publish(s: TestSluice, path: string) {
  const tags = await fixtureTags();
  const pub = await RtmpClient.connect(s.rtmpUrl(path));
  await pub.publish();
  for (const t of tags) {
    if (t.type !== 18) await pub.sendMedia(t.type, t.timestamp, t.data);
  }
  await s.published(path);
  return { [Symbol.asyncDispose]: () => Promise.resolve(pub.close()) };
}

function sdp(keyMgmt: string | undefined): string {
  return [
    "v=0",
    "o=- 0 0 IN IP4 127.0.0.1",
    "s=srtp",
    "t=0 0",
    "m=video 0 RTP/SAVP 96",
    "a=rtpmap:96 H264/90000",
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+CXLA=",
    "a=control:trackID=0",
    ...(keyMgmt === undefined ? [] : [`a=key-mgmt:${keyMgmt}`]),
    "",
  ].join("\r\n");
}

/** ANNOUNCE, SETUP of RTP/SAVP/TCP for recording: the SETUP answer. */
async function announceAndSetup(rtsp: RawRtsp, url: string, body: string) {
  const a = await rtsp.request("ANNOUNCE", url, {
    "Content-Type": "application/sdp",
  }, body);
  assert.equal(a.status, 200);
  return await rtsp.request("SETUP", `${url}/trackID=0`, {
    Transport: "RTP/SAVP/TCP;unicast;interleaved=0-1;mode=record",
  });
}

Deno.test(
  "RTSP SRTP: RECORD reads RTP/SAVP with the announced key; forged and replayed packets are dropped, counted, and disturb nothing",
  opts,
  async () => {
    await using s = startTestSluice();
    const url = s.rtspUrl("live/rec");
    const rtsp = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const key = stringifyKeyMgmt(
        encodeMikey(MASTER, { sessions: [] }),
      );
      const setup = await announceAndSetup(rtsp, url, sdp(key));
      assert.equal(setup.status, 200);
      assert.match(setup.headers.get("Transport")!, /^RTP\/SAVP\/TCP;/);
      const session = setup.headers.get("Session")!.split(";")[0]!;
      const rec = await rtsp.request("RECORD", url, { Session: session });
      assert.equal(rec.status, 200);

      // ffmpeg's H.264 capture: 56 packets, 50 frames (tests/testdata/rtp)
      const tx = new SrtpContext(MASTER);
      const packets = readCapture("h264_bf0.rtp").map((p) => tx.protectRtp(p));
      const wire: Uint8Array[] = [];
      let forged = 0;
      let replayed = 0;
      for (const [i, p] of packets.entries()) {
        if (i % 7 === 3) {
          // A forgery of this packet (one payload bit flipped) first: its
          // index is fresh, it fails authentication, and the genuine
          // packet after it is still taken.
          const bad = p.slice();
          bad[20]! ^= 0x10;
          wire.push(encodeInterleaved(0, bad));
          forged++;
        }
        wire.push(encodeInterleaved(0, p));
        if (i % 9 === 4) { // an earlier packet again
          wire.push(encodeInterleaved(0, packets[i - 2]!));
          replayed++;
        }
      }
      for (const w of wire) await rtsp.sendRaw(w);
      const stream = () => s.sluice.hub.stream("live/rec");
      const end = Date.now() + 5000;
      while ((stream()?.stats.framesIn ?? 0) < 49 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(
        (stream()?.stats.framesIn ?? 0) >= 49,
        `frames in: ${stream()?.stats.framesIn}\n${s.logs.join("\n")}`,
      );
      // The connection still answers.
      const opt = await rtsp.request("OPTIONS", url, { Session: session });
      assert.equal(opt.status, 200);
      const down = await rtsp.request("TEARDOWN", url, { Session: session });
      assert.equal(down.status, 200);
      const line = s.logs.find((l) => l.includes("SRTP packets dropped"));
      assert.ok(line !== undefined, s.logs.join("\n"));
      assert.match(line, new RegExp(`authFailures=${forged}\\b`));
      assert.match(line, new RegExp(`replays=${replayed}\\b`));
      const stats = s.sluice.rtsp!.stats;
      assert.deepEqual(
        [stats.srtpAuthFailures, stats.srtpReplays],
        [forged, replayed],
      );
    } finally {
      rtsp.close();
    }
  },
);

Deno.test(
  "RTSP SRTP: SETUP of RTP/SAVP for a track announced without a usable key is 461",
  opts,
  async () => {
    await using s = startTestSluice();
    const url = s.rtspUrl("live/nokey");
    for (
      const [name, keyMgmt, why] of [
        ["no key-mgmt", undefined, /without a=key-mgmt/],
        [
          "an MKI",
          // KV = SPI (an MKI) in the key data sub-payload
          stringifyKeyMgmt(
            (() => {
              const m = encodeMikey(MASTER);
              m[m.length - 34] = 0x21;
              return m;
            })(),
          ),
          /MKI/,
        ],
      ] as const
    ) {
      const rtsp = await RawRtsp.connect(s.sluice.rtspPort!);
      try {
        const r = await announceAndSetup(rtsp, url, sdp(keyMgmt));
        assert.equal(r.status, 461, name);
        assert.ok(
          s.logs.some((l) => why.test(l)),
          `${name}\n${s.logs.join("\n")}`,
        );
      } finally {
        rtsp.close();
      }
    }
  },
);

Deno.test(
  "RTSP SRTP: DESCRIBE gives keys on RTSPS only; a session keeps one profile",
  opts,
  async () => {
    await using s = startTestSluice(tlsConfig());
    await using _pub = await publish(s, "live/d");
    const rtsp = await RawRtsp.connect(s.sluice.rtspPort!);
    try {
      const plain = await rtsp.request("DESCRIBE", s.rtspUrl("live/d"));
      assert.equal(plain.status, 200);
      assert.doesNotMatch(
        new TextDecoder().decode(plain.body),
        /key-mgmt|SAVP/,
      );
      const a = await rtsp.request(
        "SETUP",
        `${s.rtspUrl("live/d")}/trackID=0`,
        {
          Transport: "RTP/SAVP/TCP;unicast;interleaved=0-1",
        },
      );
      assert.equal(a.status, 200);
      const session = a.headers.get("Session")!.split(";")[0]!;
      const b = await rtsp.request(
        "SETUP",
        `${s.rtspUrl("live/d")}/trackID=1`,
        {
          Transport: "RTP/AVP/TCP;unicast;interleaved=2-3",
          Session: session,
        },
      );
      assert.equal(b.status, 461);
    } finally {
      rtsp.close();
    }
    const client = await RtspClient.open(s.rtspsUrl("live/d"), {
      caCerts: [testCert().pem],
    });
    try {
      const d = await client.describe();
      for (const m of d.sdp.media) {
        assert.equal(m.protocol, "RTP/SAVP");
        assert.match(
          m.attributes.find((x) => x.name === "key-mgmt")?.value ?? "",
          /^mikey [A-Za-z0-9+/=]+$/,
        );
      }
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "RTSP SRTP: srtp required refuses RTP/AVP on RTSPS with 461, and leaves plain RTSP alone",
  opts,
  async () => {
    await using s = startTestSluice({ ...tlsConfig(), srtp: "required" });
    await using _pub = await publish(s, "live/r");
    const tls = await RtspClient.open(s.rtspsUrl("live/r"), {
      caCerts: [testCert().pem],
      srtp: "never",
      transport: "tcp",
    });
    try {
      const d = await tls.describe();
      await assert.rejects(
        tls.play(d, { setTracks() {}, setTrack() {}, writeFrame() {} }),
        (e) => e instanceof RtspClientError && e.status === 461,
      );
    } finally {
      tls.close();
    }
    const plain = await RtspClient.open(s.rtspUrl("live/r"), {
      transport: "tcp",
    });
    try {
      let frames = 0;
      await plain.play(await plain.describe(), {
        setTracks() {},
        setTrack() {},
        writeFrame: () => void frames++,
      });
      const end = Date.now() + 5000;
      while (frames === 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(frames > 0, "plain RTSP plays RTP/AVP");
    } finally {
      plain.close();
    }
  },
);
