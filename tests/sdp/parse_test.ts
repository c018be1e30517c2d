import assert from "node:assert/strict";
import fc from "fast-check";
import { fmtpParam, parseSdp, SdpSyntaxError } from "../../lib/sdp/parse.ts";
import { stringifySdp } from "../../lib/sdp/stringify.ts";
import type { Sdp } from "../../lib/sdp/types.ts";
import { checkStageContract, wholeInput } from "../_util/stage_contract.ts";

const TESTDATA = new URL("../testdata/sdp/", import.meta.url);
const FIXTURES = [...Deno.readDirSync(TESTDATA)].map((e) => e.name).filter((
  n,
) => n.endsWith(".sdp")).sort();
const read = (name: string) => Deno.readTextFileSync(new URL(name, TESTDATA));

for (const name of FIXTURES) {
  Deno.test(`parseSdp → stringifySdp → parseSdp keeps ${name}`, () => {
    const sdp = parseSdp(read(name));
    const text = stringifySdp(sdp);
    assert.deepEqual(parseSdp(text), sdp);
    assert.equal(stringifySdp(parseSdp(text)), text);
    // bytes read as UTF-8 give the same
    assert.deepEqual(parseSdp(new TextEncoder().encode(read(name))), sdp);
  });
}

Deno.test("parseSdp reads ffmpeg's H.264 + AAC description (RFC 8866 §5, RFC 6184, RFC 3640)", () => {
  const sdp = parseSdp(read("ffmpeg_h264_aac.sdp"));
  assert.equal(sdp.version, 0);
  assert.deepEqual(sdp.origin, {
    username: "-",
    sessionId: "0",
    sessionVersion: "0",
    netType: "IN",
    addrType: "IP4",
    address: "127.0.0.1",
  });
  assert.equal(sdp.sessionName, "No Name");
  assert.deepEqual(sdp.timing, [{ start: "0", stop: "0", repeats: [] }]);
  assert.deepEqual(sdp.attributes, [{
    name: "tool",
    value: "libavformat LIBAVFORMAT_VERSION",
  }]);
  const [video, audio] = sdp.media;
  assert.equal(video?.type, "video");
  assert.equal(video?.port, 5004);
  assert.equal(video?.protocol, "RTP/AVP");
  assert.deepEqual(video?.formats, ["96"]);
  assert.deepEqual(video?.connection, {
    netType: "IN",
    addrType: "IP4",
    address: "127.0.0.1",
  });
  assert.deepEqual(video?.rtpmap.get(96), {
    encoding: "H264",
    clockRate: 90000,
  });
  const fmtp = video?.fmtp.get(96);
  assert.deepEqual(fmtp?.params, {
    "packetization-mode": "1",
    "sprop-parameter-sets": "Z0LAHtoCgL/lwEQAAAMABAAAAwDIPFi6gA==,aM4PyA==",
    "profile-level-id": "42C01E",
  });
  assert.equal(
    fmtp?.raw,
    "packetization-mode=1; sprop-parameter-sets=Z0LAHtoCgL/lwEQAAAMABAAAAwDIPFi6gA==,aM4PyA==; profile-level-id=42C01E",
  );
  assert.deepEqual(audio?.bandwidths, [{ type: "AS", value: 128 }]);
  assert.deepEqual(audio?.rtpmap.get(97), {
    encoding: "MPEG4-GENERIC",
    clockRate: 48000,
    channels: 2,
  });
  assert.equal(fmtpParam(audio?.fmtp.get(97), "config"), "119056E500");
  assert.equal(fmtpParam(audio?.fmtp.get(97), "SizeLength"), "13");
});

Deno.test("parseSdp reads the other codecs ffmpeg writes", () => {
  const h265 = parseSdp(read("ffmpeg_h265.sdp")).media[0]!;
  assert.deepEqual(h265.rtpmap.get(96), { encoding: "H265", clockRate: 90000 });
  assert.deepEqual(Object.keys(h265.fmtp.get(96)!.params), [
    "sprop-vps",
    "sprop-sps",
    "sprop-pps",
  ]);
  const latm = parseSdp(read("ffmpeg_aac_latm.sdp")).media[0]!;
  assert.deepEqual(latm.rtpmap.get(97), {
    encoding: "MP4A-LATM",
    clockRate: 48000,
    channels: 2,
  });
  assert.equal(fmtpParam(latm.fmtp.get(97), "cpresent"), "0");
  const opus = parseSdp(read("ffmpeg_opus.sdp")).media[0]!;
  assert.deepEqual(opus.rtpmap.get(97), {
    encoding: "opus",
    clockRate: 48000,
    channels: 2,
  });
  const pcma = parseSdp(read("ffmpeg_pcma.sdp")).media[0]!;
  assert.deepEqual(pcma.formats, ["8"]);
  assert.equal(pcma.rtpmap.size, 0); // static payload type 8 (RFC 3551 §6)
  const announce = parseSdp(read("ffmpeg_announce.sdp"));
  assert.deepEqual(announce.media.map((m) => m.control), [
    "streamid=0",
    "streamid=1",
  ]);
  assert.equal(announce.media[0]!.port, 0);
});

Deno.test("parseSdp reads camera descriptions", () => {
  const hik = parseSdp(read("hikvision_nvr.sdp"));
  assert.equal(hik.control, "*");
  assert.equal(hik.range, "npt=now-");
  assert.deepEqual(hik.other, [{ type: "e", value: "NONE" }]);
  assert.equal(
    hik.information,
    "HIK Media Server Session Description : standard",
  );
  const hikAudio = hik.media[1]!;
  assert.equal(hikAudio.information, "Audio Media");
  assert.equal(hikAudio.direction, "recvonly");
  assert.equal(hikAudio.control, "trackID=audio");
  assert.deepEqual(hikAudio.formats, ["104"]);
  assert.deepEqual([...hikAudio.fmtp.keys()], [97]); // fmtp names a type the m= line lacks
  assert.deepEqual(hikAudio.attributes.map((a) => a.name), [
    "Media_header",
    "appversion",
  ]);

  const dahua = parseSdp(read("dahua.sdp"));
  assert.equal(dahua.media[0]!.framerate, 10);
  assert.deepEqual(dahua.media.map((m) => m.control), [
    "trackID=0",
    "trackID=1",
  ]);
  assert.deepEqual(dahua.attributes, [{
    name: "packetization-supported",
    value: "DH",
  }, { name: "rtppayload-supported", value: "DH" }]);

  const axis = parseSdp(read("axis_vapix.sdp"));
  assert.equal(
    axis.control,
    "rtsp://myserver/axis-media/media.amp?videocodec=h264&resolution=640x480",
  );
  assert.equal(axis.media[0]!.framerate, 30);
  assert.deepEqual(axis.media[0]!.attributes, [{
    name: "transform",
    value: "1,0,0;0,1,0;0,0,1",
  }]);
  const axisAudio = axis.media[1]!;
  assert.equal(fmtpParam(axisAudio.fmtp.get(97), "sizelength"), "13");
  assert.equal(axisAudio.fmtp.get(97)!.params["SizeLength"], "13");
  assert.equal(axisAudio.fmtp.get(97)!.params["bitrate"], "64000");

  const live555 = parseSdp(read("live555_mjpeg.sdp"));
  assert.deepEqual(live555.media[0]!.fmtp.get(26), { params: {}, raw: "" });
  assert.equal(live555.media[0]!.rtpmap.size, 0);

  const vlc = parseSdp(read("vlc.sdp"));
  assert.equal(vlc.origin.sessionId, "16601003535168796699"); // above 2^53: kept as text
  assert.equal(vlc.direction, "recvonly");
  assert.deepEqual(vlc.media[0]!.bandwidths, [{ type: "RR", value: 0 }]);

  const gst = parseSdp(read("gstreamer_rtspclientsink_latm.sdp"));
  assert.deepEqual(gst.media[0]!.connection, {
    netType: "IN",
    addrType: "IP6",
    address: "::",
  });
  assert.deepEqual(gst.media[0]!.rtpmap.get(96), {
    encoding: "MP4A-LATM",
    clockRate: 44100,
  });

  const foscam = parseSdp(read("foscam_hiipcam.sdp"));
  assert.equal(foscam.sessionName, "\\11");
  assert.deepEqual(foscam.media[0]!.attributes, [{
    name: "framesize",
    value: "96 704-576",
  }]);
});

Deno.test("parseSdp reads a VCP IPC's truncated o= and c= as far as they go, and m=application", () => {
  const sdp = parseSdp(read("vcp_ipc_truncated.sdp"));
  assert.deepEqual(sdp.origin, {
    username: "-",
    sessionId: "1001",
    sessionVersion: "1",
    netType: "IN",
    addrType: "",
    address: "",
  });
  assert.deepEqual(sdp.media[0]!.connection, {
    netType: "IN",
    addrType: "",
    address: "",
  });
  assert.deepEqual(sdp.timing, [{ start: "0", stop: "0", repeats: [] }]); // supplied
  const metadata = sdp.media[1]!;
  assert.equal(metadata.type, "application");
  assert.deepEqual(metadata.rtpmap.get(107), {
    encoding: "vnd.onvif.metadata",
    clockRate: 90000,
  });
  assert.deepEqual(metadata.fmtp.get(107)!.params, {
    DecoderTag: "h3c-v3 RTCP=0",
  });
});

Deno.test("parseSdp reads a description of media lines only (go2rtc #679)", () => {
  const sdp = parseSdp(read("media_only.sdp"));
  assert.equal(sdp.sessionName, "");
  assert.equal(sdp.origin.netType, "IN");
  assert.equal(sdp.media[0]!.control, "trackID=0");
});

Deno.test("parseSdp keeps Avigilon's second c= line (c=SM SM spk0_trackID2)", () => {
  const back = parseSdp(read("avigilon_backchannel.sdp")).media[1]!;
  assert.deepEqual(back.connection, {
    netType: "IN",
    addrType: "IP4",
    address: "192.168.1.63",
  });
  assert.deepEqual(back.other, [{ type: "c", value: "SM SM spk0_trackID2" }]);
  assert.equal(back.direction, "sendonly");
  assert.deepEqual([...back.rtpmap.entries()], [[0, {
    encoding: "pcmu",
    clockRate: 8000,
  }], [97, { encoding: "opus", clockRate: 48000, channels: 2 }]]);
});

const TOLERATED: { name: string; text: string; check: (sdp: Sdp) => void }[] = [
  {
    name:
      "CR-only line ends, trailing spaces and tabs, empty lines, a NUL terminator",
    text:
      "v=0 \ro=- 1 1 IN IP4 1.2.3.4\t\r\rs=x  \rt=0 0\rm=video 0 RTP/AVP 96 \ra=rtpmap:96 H264/90000  \r\0\0",
    check: (sdp) => {
      assert.equal(sdp.sessionName, "x");
      assert.deepEqual(sdp.media[0]!.formats, ["96"]);
      assert.deepEqual(sdp.media[0]!.rtpmap.get(96), {
        encoding: "H264",
        clockRate: 90000,
      });
    },
  },
  {
    name: "m=application without rtpmap",
    text:
      "v=0\no=- 0 0 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=application 0 RTP/AVP 107\na=control:trackID=4\na=recvonly\n",
    check: (sdp) => {
      const m = sdp.media[0]!;
      assert.equal(m.type, "application");
      assert.equal(m.rtpmap.size, 0);
      assert.equal(m.control, "trackID=4");
    },
  },
  {
    name: "a Hikvision OEM's c=IN c=IN IP4 0.0.0.0",
    text: "v=0\no=- 0 0 IN IP4 0.0.0.0\ns=x\nc=IN c=IN IP4 0.0.0.0\nt=0 0\n",
    check: (sdp) =>
      assert.deepEqual(sdp.connection, {
        netType: "IN",
        addrType: "c=IN",
        address: "IP4 0.0.0.0",
      }),
  },
  {
    name: "Y-CAM and AXIS 221: a negative session id; IPV4 as address type",
    text: "v=0\no=- -8959200248001175080 1 IN IPV4 10.10.10.10\ns=x\nt=0 0\n",
    check: (sdp) => {
      assert.equal(sdp.origin.sessionId, "-8959200248001175080");
      assert.equal(sdp.origin.addrType, "IPV4");
    },
  },
  {
    // RFC 8866 §5.7
    name: "multicast TTL and address counts",
    text:
      "v=0\no=- 0 0 IN IP4 1.2.3.4\ns=x\nc=IN IP4 224.2.36.42/127/3\nt=0 0\nm=audio 49170/2 RTP/AVP 0\nc=IN IP6 FF15::101/3\n",
    check: (sdp) => {
      assert.deepEqual(sdp.connection, {
        netType: "IN",
        addrType: "IP4",
        address: "224.2.36.42",
        ttl: 127,
        count: 3,
      });
      assert.deepEqual(sdp.media[0]!.connection, {
        netType: "IN",
        addrType: "IP6",
        address: "FF15::101",
        count: 3,
      });
      assert.equal(sdp.media[0]!.portCount, 2);
    },
  },
  {
    name: "lines that do not parse are kept as written",
    text:
      "v=0\no=- 0 0 IN IP4 1.2.3.4\ns=x\nb=AS:lots\nt=0\nr=7d 1h 0 25h\nx=custom\nm=video 0 RTP/AVP 96 97\na=rtpmap:96 H264\na=rtpmap:97 H265/90000\na=rtpmap:97 H264/90000\na=fmtp:200 a=b\na=framerate:fast\nb=X:\nk=prompt\n",
    check: (sdp) => {
      assert.deepEqual(sdp.other, [
        { type: "b", value: "AS:lots" },
        { type: "t", value: "0" },
        { type: "r", value: "7d 1h 0 25h" },
        { type: "x", value: "custom" },
      ]);
      const m = sdp.media[0]!;
      assert.deepEqual([...m.rtpmap.entries()], [[97, {
        encoding: "H265",
        clockRate: 90000,
      }]]);
      assert.deepEqual(m.attributes, [
        { name: "rtpmap", value: "96 H264" },
        { name: "rtpmap", value: "97 H264/90000" },
        { name: "fmtp", value: "200 a=b" },
        { name: "framerate", value: "fast" },
      ]);
      assert.deepEqual(m.other, [{ type: "b", value: "X:" }, {
        type: "k",
        value: "prompt",
      }]);
    },
  },
  {
    // RFC 8866 §5.9, §5.10
    name: "two t= lines with r= lines",
    text:
      "v=0\no=- 0 0 IN IP4 1.2.3.4\ns=x\nt=3034423619 3042462419\nr=604800 3600 0 90000\nt=0 0\n",
    check: (sdp) =>
      assert.deepEqual(sdp.timing, [
        {
          start: "3034423619",
          stop: "3042462419",
          repeats: ["604800 3600 0 90000"],
        },
        { start: "0", stop: "0", repeats: [] },
      ]),
  },
  {
    name: "fmtp parameters without values, empty ones, and base64 padding",
    text:
      "v=0\ns=x\nm=audio 0 RTP/AVP 96\na=fmtp:96 config=AQID==; ;flag;key=;__proto__=x\n",
    check: (sdp) => {
      const fmtp = sdp.media[0]!.fmtp.get(96)!;
      assert.deepEqual(Object.entries(fmtp.params), [
        ["config", "AQID=="],
        ["flag", ""],
        ["key", ""],
        ["__proto__", "x"],
      ]);
      assert.equal(fmtpParam(fmtp, "FLAG"), "");
      assert.equal(fmtpParam(fmtp, "missing"), undefined);
      assert.equal(fmtpParam(undefined, "x"), undefined);
    },
  },
];
for (const c of TOLERATED) {
  Deno.test(`parseSdp tolerates ${c.name}`, () => {
    const sdp = parseSdp(c.text);
    c.check(sdp);
    assert.deepEqual(parseSdp(stringifySdp(sdp)), sdp);
  });
}

const ERRORS: { name: string; text: string; line: number; options?: object }[] =
  [
    {
      name: "a line that is not <letter>=",
      text: "v=0\ns=x\nhello world\n",
      line: 3,
    },
    { name: "a space before =", text: "v=0\r\na =x\r\n", line: 2 },
    { name: "m= without port", text: "v=0\nm=video RTP/AVP 96\n", line: 2 },
    {
      name: "m= with a port over 65535",
      text: "v=0\nm=video 70000 RTP/AVP 96\n",
      line: 2,
    },
    { name: "m= without protocol", text: "v=0\nm=video 0\n", line: 2 },
    {
      name: "input over maxLength",
      text: "v=0\n" + "a=x\n".repeat(100),
      line: 0,
      options: { maxLength: 100 },
    },
    {
      name: "more lines than maxLines",
      text: "v=0\n" + "a=x\n".repeat(100),
      line: 0,
      options: { maxLines: 50 },
    },
    {
      name: "more media than maxMedia",
      text: "v=0\n" + "m=audio 0 RTP/AVP 0\n".repeat(5),
      line: 5,
      options: { maxMedia: 3 },
    },
  ];
for (const c of ERRORS) {
  Deno.test(`parseSdp refuses ${c.name}`, () => {
    assert.throws(() => parseSdp(c.text, c.options), (e) => {
      assert.ok(e instanceof SdpSyntaxError);
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.name, "SdpSyntaxError");
      assert.equal(e.line, c.line);
      assert.match(e.message, /^Cannot parse SDP/);
      return true;
    });
  });
}

Deno.test("parseSdp gives a description or an SdpSyntaxError for random and mutated input, and round-trips what it reads", () => {
  const linePieces = fc.constantFrom(
    "v=0",
    "o=- 1 1 IN IP4 1.2.3.4",
    "o=",
    "s=",
    "s= x",
    "c=IN IP4 224.0.0.1/5/2",
    "c=IN",
    "c=IN IP6 ::1/3",
    "b=AS:1",
    "b=AS:x",
    "t=0 0",
    "t=1",
    "r=1",
    "m=video 0 RTP/AVP 96",
    "m=audio 5004/2 RTP/AVP 0 8",
    "m=x",
    "a=rtpmap:96 H264/90000",
    "a=rtpmap:0 PCMU/8000/1",
    "a=fmtp:96 a=1;b",
    "a=fmtp:96",
    "a=control:*",
    "a=control:trackID=1",
    "a=range:npt=0-",
    "a=recvonly",
    "a=sendonly:x",
    "a=framerate:25",
    "a=framerate:x",
    "a=",
    "a=x:",
    "k=y",
    "z=1",
    "u=x",
    "i=info",
    "",
    " ",
    "junk",
    "\0",
  );
  const structured = fc.tuple(
    fc.array(linePieces, { maxLength: 30 }),
    fc.constantFrom("\r\n", "\n", "\r"),
  )
    .map(([lines, eol]) => lines.join(eol));
  fc.assert(
    fc.property(fc.oneof(structured, fc.string({ maxLength: 200 })), (text) => {
      let sdp: Sdp;
      try {
        sdp = parseSdp(text);
      } catch (e) {
        if (e instanceof SdpSyntaxError) return;
        throw e;
      }
      assert.deepEqual(parseSdp(stringifySdp(sdp)), sdp);
    }),
    { numRuns: 3000 },
  );
  const fixtures = FIXTURES.map((n) => new TextEncoder().encode(read(n)));
  fc.assert(
    fc.property(
      fc.nat(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      }),
      (which, edits) => {
        const bytes = fixtures[which % fixtures.length]!.slice();
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          const sdp = parseSdp(bytes);
          assert.deepEqual(parseSdp(stringifySdp(sdp)), sdp);
        } catch (e) {
          if (!(e instanceof SdpSyntaxError)) throw e;
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("parseSdp keeps the stage contract on every capture, stringifySdp giving back what it reads", () => {
  checkStageContract(wholeInput((b) => [parseSdp(b)]), {
    fixtures: FIXTURES.map((name) => ({
      name,
      bytes: new TextEncoder().encode(read(name)),
    })),
    // RFC 8866 §5: captures vary line ends, spacing and order; stringifySdp
    // writes one form, which reads back as the same description
    encode: (sdps) => new TextEncoder().encode(stringifySdp(sdps[0]!)),
    roundTrip: "items",
    isExpectedError: (e) => e instanceof SdpSyntaxError,
  });
});
