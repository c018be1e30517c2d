import assert from "node:assert/strict";
import { fmtpOf, parseSdp } from "../../lib/sdp/parse.ts";
import { stringifySdp } from "../../lib/sdp/stringify.ts";
import type { Sdp, SdpMedia } from "../../lib/sdp/types.ts";

function media(
  fields: Partial<SdpMedia> & Pick<SdpMedia, "type" | "formats">,
): SdpMedia {
  return {
    port: 0,
    protocol: "RTP/AVP",
    bandwidths: [],
    rtpmap: new Map(),
    fmtp: new Map(),
    attributes: [],
    other: [],
    ...fields,
  };
}

/** What a server answers DESCRIBE with for an H.264 + AAC stream (RFC 8866 §5, RFC 2326 §C.1). */
const DESCRIBE: Sdp = {
  version: 0,
  origin: {
    username: "-",
    sessionId: "1700000000",
    sessionVersion: "1",
    netType: "IN",
    addrType: "IP4",
    address: "127.0.0.1",
  },
  sessionName: "live/cam",
  connection: { netType: "IN", addrType: "IP4", address: "0.0.0.0" },
  bandwidths: [],
  timing: [{ start: "0", stop: "0", repeats: [] }],
  control: "*",
  range: "npt=now-",
  attributes: [{ name: "tool", value: "Sluice" }],
  other: [],
  media: [
    media({
      type: "video",
      formats: ["96"],
      rtpmap: new Map([[96, { encoding: "H264", clockRate: 90000 }]]),
      fmtp: new Map([[
        96,
        fmtpOf(
          "packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtoCgL/lwEQAAAMABAAAAwDIPFi6gA==,aM4PyA==",
        ),
      ]]),
      control: "trackID=0",
    }),
    media({
      type: "audio",
      formats: ["97"],
      bandwidths: [{ type: "AS", value: 128 }],
      rtpmap: new Map([[97, {
        encoding: "MPEG4-GENERIC",
        clockRate: 48000,
        channels: 2,
      }]]),
      fmtp: new Map([[
        97,
        fmtpOf(
          "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190",
        ),
      ]]),
      control: "trackID=1",
      direction: "sendonly",
    }),
  ],
};

Deno.test("stringifySdp writes a DESCRIBE answer in RFC 8866 §5 order with CRLF", () => {
  assert.equal(
    stringifySdp(DESCRIBE),
    [
      "v=0",
      "o=- 1700000000 1 IN IP4 127.0.0.1",
      "s=live/cam",
      "c=IN IP4 0.0.0.0",
      "t=0 0",
      "a=control:*",
      "a=range:npt=now-",
      "a=tool:Sluice",
      "m=video 0 RTP/AVP 96",
      "a=rtpmap:96 H264/90000",
      "a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtoCgL/lwEQAAAMABAAAAwDIPFi6gA==,aM4PyA==",
      "a=control:trackID=0",
      "m=audio 0 RTP/AVP 97",
      "b=AS:128",
      "a=rtpmap:97 MPEG4-GENERIC/48000/2",
      "a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190",
      "a=control:trackID=1",
      "a=sendonly",
      "",
    ].join("\r\n"),
  );
  assert.deepEqual(parseSdp(stringifySdp(DESCRIBE)), DESCRIBE);
});

Deno.test("stringifySdp writes s= with a space for an empty name, t=0 0 when there is no timing, multicast suffixes", () => {
  const text = stringifySdp({
    ...DESCRIBE,
    sessionName: "",
    timing: [],
    connection: {
      netType: "IN",
      addrType: "IP4",
      address: "224.2.36.42",
      ttl: 127,
      count: 3,
    },
    control: undefined,
    range: undefined,
    attributes: [{ name: "recvonly" }, { name: "empty", value: "" }],
    media: [
      media({ type: "audio", port: 49170, portCount: 2, formats: ["0", "8"] }),
    ],
  });
  assert.equal(
    text,
    "v=0\r\no=- 1700000000 1 IN IP4 127.0.0.1\r\ns= \r\nc=IN IP4 224.2.36.42/127/3\r\nt=0 0\r\na=recvonly\r\na=empty:\r\nm=audio 49170/2 RTP/AVP 0 8\r\n",
  );
});

Deno.test("stringifySdp writes rtpmap and fmtp in formats order, then types the m= line lacks", () => {
  const text = stringifySdp({
    ...DESCRIBE,
    media: [media({
      type: "audio",
      formats: ["104", "0"],
      rtpmap: new Map([[0, { encoding: "PCMU", clockRate: 8000 }], [104, {
        encoding: "MPEG4-GENERIC",
        clockRate: 16000,
      }]]),
      fmtp: new Map([[97, fmtpOf("config=1408")], [104, fmtpOf("")]]),
    })],
  });
  assert.ok(
    text.endsWith(
      "m=audio 0 RTP/AVP 104 0\r\na=rtpmap:104 MPEG4-GENERIC/16000\r\na=fmtp:104\r\na=rtpmap:0 PCMU/8000\r\na=fmtp:97 config=1408\r\n",
    ),
  );
});

Deno.test("stringifySdp refuses a value with a line break (it would add lines)", () => {
  assert.throws(
    () => stringifySdp({ ...DESCRIBE, sessionName: "x\r\na=injected" }),
    TypeError,
  );
  assert.throws(
    () =>
      stringifySdp({
        ...DESCRIBE,
        media: [media({ type: "video", formats: ["96"], control: "a\nb" })],
      }),
    TypeError,
  );
});
