import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { RtspFramer, RtspFramerStream } from "../../lib/rtsp/framer.ts";
import { encodeInterleaved } from "../../lib/rtsp/interleaved.ts";
import {
  encodeRequest,
  encodeResponse,
  type RtspFramed,
} from "../../lib/rtsp/message.ts";
import { ascii, collect, hex, splitsOf } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

/** Framed items with headers as [name, value] lists and bodies as text, for deepEqual. */
function plain(items: RtspFramed[]): unknown[] {
  return items.map((m) => {
    if (m.kind === "interleaved") {
      return {
        kind: m.kind,
        channel: m.channel,
        payload: Array.from(m.payload),
      };
    }
    const { headers, body, ...rest } = m;
    return {
      ...rest,
      headers: [...headers],
      body: new TextDecoder().decode(body),
    };
  });
}

function frame(
  parts: Uint8Array[],
  options?: ConstructorParameters<typeof RtspFramer>[0],
): unknown[] {
  const framer = new RtspFramer(options);
  const out = collect<RtspFramed>();
  for (const part of parts) framer.push(part, out);
  framer.end();
  return plain(out.items);
}

function join(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const req = (
  method: string,
  url: string,
  headers: [string, string][],
  body = "",
) => ({
  kind: "request",
  method,
  url,
  version: "RTSP/1.0",
  headers,
  body,
});

const CASES: { name: string; wire: Uint8Array; items: unknown[] }[] = [
  {
    // RFC 2326 §10.1: OPTIONS *
    name: "the §10.1 OPTIONS example",
    wire: ascii(
      "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nRequire: implicit-play\r\nProxy-Require: gzipped-messages\r\n\r\n",
    ),
    items: [
      req("OPTIONS", "*", [["CSeq", "1"], ["Require", "implicit-play"], [
        "Proxy-Require",
        "gzipped-messages",
      ]]),
    ],
  },
  {
    // RFC 2326 §7, §12.14: a response whose body length is Content-Length
    name: "a DESCRIBE reply with an SDP body",
    wire: ascii(
      "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 23\r\n\r\nv=0\r\ns=x\r\nm=video 0 x\r\n",
    ),
    items: [{
      kind: "response",
      version: "RTSP/1.0",
      status: 200,
      reason: "OK",
      headers: [["CSeq", "2"], ["Content-Type", "application/sdp"], [
        "Content-Length",
        "23",
      ]],
      body: "v=0\r\ns=x\r\nm=video 0 x\r\n",
    }],
  },
  {
    // §10.12: '$', channel, 16-bit length, then the next message right after
    name: "a request, RTP and RTCP frames and a request in one read",
    wire: join(
      ascii(
        "GET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 7\r\nSession: 1\r\n\r\n",
      ),
      hex("24 00 0004 | 80 60 00 01"),
      hex("24 01 0002 | c8 00"),
      ascii("TEARDOWN rtsp://h/live RTSP/1.0\r\nCSeq: 8\r\n\r\n"),
    ),
    items: [
      req("GET_PARAMETER", "rtsp://h/live", [["CSeq", "7"], ["Session", "1"]]),
      { kind: "interleaved", channel: 0, payload: [0x80, 0x60, 0x00, 0x01] },
      { kind: "interleaved", channel: 1, payload: [0xc8, 0x00] },
      req("TEARDOWN", "rtsp://h/live", [["CSeq", "8"]]),
    ],
  },
  {
    name: "a zero-length frame",
    wire: hex("24 05 0000 | 24 06 0001 ff"),
    items: [
      { kind: "interleaved", channel: 5, payload: [] },
      { kind: "interleaved", channel: 6, payload: [0xff] },
    ],
  },
  {
    // §4: receivers should take CR and LF by themselves as line terminators
    name: "bare LF line ends and a body",
    wire: ascii(
      "SET_PARAMETER rtsp://h/x RTSP/1.0\nCSeq: 3\nContent-Length: 5\n\nhello",
    ),
    items: [
      req("SET_PARAMETER", "rtsp://h/x", [["CSeq", "3"], [
        "Content-Length",
        "5",
      ]], "hello"),
    ],
  },
  {
    name: "bare CR line ends",
    wire: ascii(
      "OPTIONS * RTSP/1.0\rCSeq: 4\r\rOPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n",
    ),
    items: [
      req("OPTIONS", "*", [["CSeq", "4"]]),
      req("OPTIONS", "*", [["CSeq", "5"]]),
    ],
  },
  {
    // §6 (RFC 7826 §8): empty lines before a message are ignored
    name: "empty lines before and between messages",
    wire: ascii(
      "\r\n\r\n\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n\r\n",
    ),
    items: [
      req("OPTIONS", "*", [["CSeq", "1"]]),
      req("OPTIONS", "*", [["CSeq", "2"]]),
    ],
  },
  {
    // RFC 2616 §2.2 (which RFC 2326 §4.2 builds on): a line starting with SP/HT continues the field
    name: "a folded header and space before a colon",
    wire: ascii(
      "SETUP rtsp://h/x/trackID=0 RTSP/1.0\r\nCSeq : 9\r\nTransport: RTP/AVP;unicast;\r\n\tclient_port=5000-5001\r\n\r\n",
    ),
    items: [
      req("SETUP", "rtsp://h/x/trackID=0", [["CSeq", "9"], [
        "Transport",
        "RTP/AVP;unicast; client_port=5000-5001",
      ]]),
    ],
  },
  {
    name:
      "a status line without a reason phrase (some cameras) and a 401 with two challenges",
    wire: ascii(
      'RTSP/1.0 200\r\nCSeq: 1\r\n\r\nRTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="Embedded Net DVR", nonce="1157e9bff", algorithm="MD5"\r\nWWW-Authenticate: Basic realm="/"\r\n\r\n',
    ),
    items: [
      {
        kind: "response",
        version: "RTSP/1.0",
        status: 200,
        reason: "",
        headers: [["CSeq", "1"]],
        body: "",
      },
      {
        kind: "response",
        version: "RTSP/1.0",
        status: 401,
        reason: "Unauthorized",
        headers: [
          ["CSeq", "2"],
          [
            "WWW-Authenticate",
            'Digest realm="Embedded Net DVR", nonce="1157e9bff", algorithm="MD5"',
          ],
          ["WWW-Authenticate", 'Basic realm="/"'],
        ],
        body: "",
      },
    ],
  },
  {
    name: "the same Content-Length twice and Content-Length: 0",
    wire: ascii(
      "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nokPLAY rtsp://h/x RTSP/1.0\r\nContent-Length: 0\r\n\r\n",
    ),
    items: [
      req("ANNOUNCE", "rtsp://h/x", [["Content-Length", "2"], [
        "content-length",
        "2",
      ]], "ok"),
      req("PLAY", "rtsp://h/x", [["Content-Length", "0"]]),
    ],
  },
];

for (const c of CASES) {
  Deno.test(`RtspFramer reads ${c.name} at every split point`, () => {
    for (const parts of splitsOf(c.wire, 100)) {
      assert.deepEqual(frame(parts), c.items);
    }
  });
}

Deno.test("RtspFramer reads an RTSP/2.0 request (RFC 7826 §8.1)", () => {
  const items = frame([ascii("PLAY rtsp://h/x RTSP/2.0\r\nCSeq: 1\r\n\r\n")]);
  assert.deepEqual(items, [{
    ...req("PLAY", "rtsp://h/x", [["CSeq", "1"]]),
    version: "RTSP/2.0",
  }]);
});

const TESTDATA = new URL("../testdata/rtsp/", import.meta.url);
const RECORD = Deno.readFileSync(new URL("ffmpeg_record_tcp.bin", TESTDATA));

function summary(items: RtspFramed[]) {
  const methods: string[] = [];
  const channels: Record<number, number> = {};
  for (const m of items) {
    if (m.kind === "request") methods.push(m.method);
    else if (m.kind === "interleaved") {
      channels[m.channel] = (channels[m.channel] ?? 0) + 1;
    }
  }
  return { methods, channels };
}

Deno.test("RtspFramer reads ffmpeg publishing over TCP: requests between 102 interleaved frames", () => {
  const expected = {
    methods: ["OPTIONS", "ANNOUNCE", "SETUP", "SETUP", "RECORD", "TEARDOWN"],
    channels: { 0: 92, 1: 1, 2: 8, 3: 1 },
  };
  const reads = [
    [RECORD],
    Array.from(
      { length: Math.ceil(RECORD.length / 1460) },
      (_, i) => RECORD.subarray(i * 1460, (i + 1) * 1460),
    ),
  ];
  for (let at = 1; at < RECORD.length; at += 997) {
    reads.push([RECORD.subarray(0, at), RECORD.subarray(at)]);
  }
  for (const parts of reads) {
    const framer = new RtspFramer();
    const out = collect<RtspFramed>();
    for (const part of parts) framer.push(part, out);
    framer.end();
    assert.deepEqual(summary(out.items), expected);
  }
  const out = collect<RtspFramed>();
  const framer = new RtspFramer();
  for (let i = 0; i < RECORD.length; i++) {
    framer.push(RECORD.subarray(i, i + 1), out);
  }
  assert.deepEqual(summary(out.items), expected);
  const announce = out.items[1]!;
  assert.ok(announce.kind === "request");
  assert.equal(announce.body.length, 495);
  assert.equal(announce.headers.get("content-type"), "application/sdp");
  const setup = out.items[2]!;
  assert.ok(setup.kind === "request");
  assert.equal(setup.url, "rtsp://127.0.0.1:8561/live/cam/streamid=0");
  assert.equal(
    setup.headers.get("Transport"),
    "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
  );
});

Deno.test("RtspFramer reads ffprobe and GStreamer playing (PLAY to the base URL with a trailing slash)", () => {
  for (
    const [file, transport, agents] of [
      ["ffprobe_play_tcp.bin", "RTP/AVP/TCP;unicast;interleaved=0-1", 1],
      [
        "ffprobe_play_udp.bin",
        /^RTP\/AVP\/UDP;unicast;client_port=\d+-\d+$/,
        1,
      ],
      ["gstreamer_play_tcp.bin", "RTP/AVP/TCP;unicast;interleaved=0-1", 2],
    ] as const
  ) {
    const wire = Deno.readFileSync(new URL(file, TESTDATA));
    for (const parts of splitsOf(wire, 0)) {
      const out = collect<RtspFramed>();
      const framer = new RtspFramer();
      for (const part of parts) framer.push(part, out);
      framer.end();
      const requests = out.items.filter((m) => m.kind === "request");
      assert.deepEqual(requests.map((m) => m.method), [
        "OPTIONS",
        "DESCRIBE",
        "SETUP",
        "SETUP",
        "PLAY",
      ]);
      assert.equal(requests[4]!.url.endsWith("/live/cam/"), true);
      const t = requests[2]!.headers.get("transport")!;
      if (typeof transport === "string") assert.equal(t, transport);
      else assert.match(t, transport);
      // GStreamer sends User-Agent twice in OPTIONS; both are kept, in order.
      assert.equal(requests[0]!.headers.getAll("user-agent").length, agents);
    }
  }
});

Deno.test("RtspFramer gives views of the read when a body or frame is whole in it, else one copy", () => {
  const wire = join(
    ascii("ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 4\r\n\r\nabcd"),
    hex("24 00 0003 010203"),
  );
  const out = collect<RtspFramed>();
  new RtspFramer().push(wire, out);
  const [announce, rtp] = out.items;
  assert.ok(announce?.kind === "request" && rtp?.kind === "interleaved");
  assert.equal(announce.body.buffer, wire.buffer);
  assert.equal(rtp.payload.buffer, wire.buffer);

  const split = collect<RtspFramed>();
  const framer = new RtspFramer();
  framer.push(wire.subarray(0, wire.length - 2), split);
  framer.push(wire.subarray(wire.length - 2), split);
  const frameItem = split.items[1]!;
  assert.ok(frameItem.kind === "interleaved");
  assert.notEqual(frameItem.payload.buffer, wire.buffer);
  assert.deepEqual(Array.from(frameItem.payload), [1, 2, 3]);
});

/** The error a push of `text` (or bytes) raises, with its status. */
function failure(
  wire: string | Uint8Array,
  options?: ConstructorParameters<typeof RtspFramer>[0],
) {
  const framer = new RtspFramer(options);
  const out = collect<RtspFramed>();
  try {
    framer.push(typeof wire === "string" ? ascii(wire) : wire, out);
    framer.end();
  } catch (e) {
    return {
      error: e as Error & { code: string; status?: number },
      emitted: out.items.length,
    };
  }
  throw new assert.AssertionError({
    message: `no error for ${JSON.stringify(wire)}`,
  });
}

const ERRORS: {
  name: string;
  wire: string | Uint8Array;
  code: string;
  status: number | undefined;
  options?: object;
}[] = [
  // live555 CVE-2007-6036, CVE-2013-6933/6934: requests starting with whitespace, very short ones
  {
    name: "a request starting with a space",
    wire: " OPTIONS * RTSP/1.0\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a request starting with a tab",
    wire: "\tOPTIONS * RTSP/1.0\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "whitespace after empty lines",
    wire: "\r\n\r\n \r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a one-letter request",
    wire: "A\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a method alone",
    wire: "OPTIONS\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a request line without version",
    wire: "DESCRIBE rtsp://h/x\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a request line with four fields",
    wire: "PLAY rtsp://h/x RTSP/1.0 extra\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a method with a non-token byte",
    wire: "PL(AY rtsp://h/x RTSP/1.0\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "version RTSP/3.0",
    wire: "PLAY rtsp://h/x RTSP/3.0\r\n\r\n",
    code: "unsupported",
    status: 505,
  },
  // RTSP-over-HTTP tunnelling is not framed here.
  {
    name: "an HTTP GET",
    wire: "GET /live HTTP/1.1\r\nHost: h\r\n\r\n",
    code: "unsupported",
    status: 505,
  },
  {
    name: "a NUL in a header",
    wire: "OPTIONS * RTSP/1.0\r\nCSeq: 1\0\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a header without colon",
    wire: "OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "an empty header name",
    wire: "OPTIONS * RTSP/1.0\r\n: 1\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a continuation before any header",
    wire: "OPTIONS * RTSP/1.0\r\n CSeq: 1\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  // CVE-style Content-Length abuse (INTEROP.md: Content-Length: 999999999 then stall)
  {
    name: "Content-Length 999999999",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 999999999\r\n",
    code: "limit",
    status: 413,
  },
  {
    name: "a 30-digit Content-Length",
    wire: `ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: ${
      "9".repeat(30)
    }\r\n`,
    code: "limit",
    status: 413,
  },
  {
    name: "a negative Content-Length",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a non-numeric Content-Length",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 0x10\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "an empty Content-Length",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length:\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a Content-Length list",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 5, 5\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "Content-Length repeated with another value",
    wire:
      "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a continuation of Content-Length",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 5\r\n 6\r\n\r\n",
    code: "malformed",
    status: 400,
  },
  {
    name: "a body over maxBodySize",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 11\r\n",
    code: "limit",
    status: 413,
    options: { maxBodySize: 10 },
  },
  {
    name: "a request line over maxLineLength",
    wire: `DESCRIBE rtsp://h/${"a".repeat(100)}`,
    code: "limit",
    status: 414,
    options: { maxLineLength: 64 },
  },
  {
    // RFC 2326 §6.1 Method is a token: 5000 letters are no long Request-URI
    name: "a 5000-byte method",
    wire: `${"A".repeat(5000)} rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    code: "limit",
    status: 400,
  },
  {
    name: "a method longer than maxLineLength",
    wire: `${"A".repeat(9000)} rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    code: "limit",
    status: 400,
  },
  {
    name: "a 65-byte method",
    wire: `${"A".repeat(65)} rtsp://h/x RTSP/1.0\r\n\r\n`,
    code: "limit",
    status: 400,
  },
  {
    name: "a method over maxMethodLength, before its line ends",
    wire: "DESCRIBEX",
    code: "limit",
    status: 400,
    options: { maxMethodLength: 8 },
  },
  {
    name: "a header line over maxLineLength",
    wire: `OPTIONS * RTSP/1.0\r\nX: ${"a".repeat(100)}`,
    code: "limit",
    status: 400,
    options: { maxLineLength: 64 },
  },
  {
    name: "more headers than maxHeaderCount",
    wire: `OPTIONS * RTSP/1.0\r\n${"X: 1\r\n".repeat(5)}`,
    code: "limit",
    status: 400,
    options: { maxHeaderCount: 4 },
  },
  {
    // CVE-2018-4013 sent oversized headers to overflow live555's buffer
    name: "headers over maxHeaderBytes",
    wire: `OPTIONS * RTSP/1.0\r\n${
      "Accept: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(40)
    }`,
    code: "limit",
    status: 400,
    options: { maxHeaderBytes: 1024 },
  },
  {
    name: "a frame over maxFrameSize",
    wire: hex("24 00 0101"),
    code: "limit",
    status: undefined,
    options: { maxFrameSize: 256 },
  },
  {
    name: "a malformed status line",
    wire: "RTSP/1.0 20 OK\r\n\r\n",
    code: "malformed",
    status: undefined,
  },
  {
    // RFC 2326 §7.1.1: the first digit is the class of response, 1 to 5
    name: "a status code starting with 0",
    wire: "RTSP/1.0 099 Odd\r\n\r\n",
    code: "malformed",
    status: undefined,
  },
  {
    name: "a response of version RTSP/9.9",
    wire: "RTSP/9.9 200 OK\r\n\r\n",
    code: "unsupported",
    status: undefined,
  },
  {
    name: "input ending inside a head",
    wire: "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n",
    code: "truncated",
    status: undefined,
  },
  {
    name: "input ending inside a body",
    wire: "ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 4\r\n\r\nab",
    code: "truncated",
    status: undefined,
  },
  {
    name: "input ending inside a frame header",
    wire: hex("24 00"),
    code: "truncated",
    status: undefined,
  },
  {
    name: "input ending inside a frame",
    wire: hex("24 00 0004 01"),
    code: "truncated",
    status: undefined,
  },
];

for (const c of ERRORS) {
  Deno.test(`RtspFramer refuses ${c.name}`, () => {
    const { error } = failure(c.wire, c.options);
    assert.equal(error.name, "RtspError");
    assert.equal(error.code, c.code);
    assert.equal(error.status, c.status);
    assert.match(error.message, /^Cannot read RTSP message: /);
  });
}

Deno.test("RtspFramer passes a 64-byte method and a long Request-URI on, and a long URL is still a 414", () => {
  // An unknown but well-formed method is the server's to answer (501, RFC 2326 §11.5).
  const method = "X".repeat(64);
  const url = `rtsp://h/${"a".repeat(5000)}`;
  assert.deepEqual(frame([ascii(`${method} ${url} RTSP/1.0\r\n\r\n`)]), [{
    ...req(method, url, []),
  }]);
  const { error } = failure(`OPTIONS rtsp://h/${"a".repeat(9000)}`);
  assert.equal(error.status, 414);
});

Deno.test("RtspFramer answers a long method with 400 at every split point", () => {
  const wire = ascii(`${"A".repeat(200)} rtsp://h/x RTSP/1.0\r\n\r\n`);
  for (const parts of splitsOf(wire, 0)) {
    const framer = new RtspFramer();
    assert.throws(() => {
      for (const part of parts) framer.push(part, collect());
      framer.end();
    }, { name: "RtspError", code: "limit", status: 400 });
  }
});

Deno.test("RtspFramer refuses Content-Length 999999999 before the head ends, without waiting for bytes", () => {
  const framer = new RtspFramer();
  const out = collect<RtspFramed>();
  framer.push(ascii("ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\n"), out);
  assert.throws(() => framer.push(ascii("Content-Length: 999999999\r"), out), {
    name: "RtspError",
    status: 413,
  });
});

Deno.test("RtspFramer keeps messages before a bad one, then throws the same error again", () => {
  const framer = new RtspFramer();
  const out = collect<RtspFramed>();
  const wire = ascii(
    "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n OPTIONS * RTSP/1.0\r\n\r\n",
  );
  const first = (() => {
    try {
      framer.push(wire, out);
    } catch (e) {
      return e;
    }
  })();
  assert.equal(out.items.length, 1);
  assert.throws(
    () => framer.push(ascii("OPTIONS * RTSP/1.0\r\n\r\n"), out),
    (e) => e === first,
  );
  assert.throws(() => framer.end(), (e) => e === first);
});

Deno.test("RtspFramer ignores empty lines at the end of input", () => {
  assert.deepEqual(frame([ascii("\r\n\r\n\n\r")]), []);
});

Deno.test("RtspFramerStream frames a piped byte stream", async () => {
  const wire = join(
    ascii("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
    hex("24 02 0001 aa"),
  );
  const reads = [wire.subarray(0, 7), wire.subarray(7, 30), wire.subarray(30)];
  const items: RtspFramed[] = [];
  for await (
    const m of ReadableStream.from(reads).pipeThrough(new RtspFramerStream())
  ) items.push(m);
  assert.deepEqual(plain(items), [req("OPTIONS", "*", [["CSeq", "1"]]), {
    kind: "interleaved",
    channel: 2,
    payload: [0xaa],
  }]);
});

/** A framed item back to bytes: encodeRequest, encodeResponse or encodeInterleaved. */
function encodeFramed(m: RtspFramed): Uint8Array {
  if (m.kind === "request") return encodeRequest(m);
  if (m.kind === "response") return encodeResponse(m);
  return encodeInterleaved(m.channel, m.payload);
}

/** As {@link plain}, without Content-Length: the encoders write it from the body. */
function withoutContentLength(items: RtspFramed[]): unknown[] {
  return plain(items).map((m) =>
    "headers" in (m as object)
      ? {
        ...(m as { headers: [string, string][] }),
        headers: (m as { headers: [string, string][] }).headers.filter(([n]) =>
          n.toLowerCase() !== "content-length"
        ),
      }
      : m
  );
}

// Bytes come back where a fixture writes "Name: value", CRLF and a
// Content-Length only for a body, last, as the encoders do; the other
// fixtures are tolerated spellings (RFC 2326 §4, §6, §4.2 folding) and come
// back as the same messages.
const CANONICAL = new Set([
  "the §10.1 OPTIONS example",
  "a DESCRIBE reply with an SDP body",
  "a request, RTP and RTCP frames and a request in one read",
  "a zero-length frame",
  "a status line without a reason phrase (some cameras) and a 401 with two challenges",
]);

const WITHIN_TIGHT_LIMITS = new Set([
  "the §10.1 OPTIONS example",
  "a request, RTP and RTCP frames and a request in one read",
  "a zero-length frame",
  "bare CR line ends",
  "empty lines before and between messages",
]);

Deno.test("RtspFramer keeps the stage contract, the message encoders returning what it reads", () => {
  const fixtures = [
    ...CASES.map((c) => ({
      name: c.name,
      bytes: c.wire,
      expect: c.items,
      roundTrip: CANONICAL.has(c.name) ? "bytes" as const : "items" as const,
    })),
    {
      name: "GStreamer playing over TCP",
      bytes: Deno.readFileSync(new URL("gstreamer_play_tcp.bin", TESTDATA)),
    },
    { name: "ffmpeg publishing over TCP", bytes: RECORD },
  ];
  checkStageContract(() => new RtspFramer(), {
    fixtures,
    normalize: plain,
    encode: (items) => concat(items.map(encodeFramed)),
    roundTrip: "items",
    normalizeRoundTrip: withoutContentLength,
    runs: 400,
  });
  // Tight limits: bad input must still end in an RtspError, nothing else.
  checkStageContract(
    () =>
      new RtspFramer({
        maxLineLength: 40,
        maxHeaderCount: 3,
        maxBodySize: 64,
        maxFrameSize: 100,
      }),
    {
      fixtures: fixtures.filter((f) => WITHIN_TIGHT_LIMITS.has(f.name)),
      normalize: plain,
      runs: 200,
    },
  );
});
