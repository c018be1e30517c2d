/**
 * The HTTP heads of RTSP over HTTP tunnelling: telling a tunnel from RTSP by
 * the first bytes, reading a head cut anywhere, and the bounds behind
 * live555's CVE-2018-4013.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeTunnelRequest,
  HttpHeadReader,
  httpStatusOf,
  parseTunnelRequest,
  sniffTunnel,
  TunnelError,
} from "../../lib/rtsp/tunnel.ts";
import { ascii, splitsOf } from "../_util/bytes.ts";

Deno.test("sniffTunnel tells GET and POST from RTSP within five bytes", () => {
  const cases: [string, string | undefined][] = [
    ["GET ", "http"],
    ["POST /x", "http"],
    ["G", undefined],
    ["PO", undefined],
    ["POS", undefined],
    ["OPTIONS rtsp://h/ RTSP/1.0", "rtsp"],
    ["PLAY", "rtsp"],
    ["GET_PARAMETER rtsp://h/ RTSP/1.0", "rtsp"],
    ["POSTX", "rtsp"],
    ["$\x00\x00\x04", "rtsp"],
    ["", undefined],
  ];
  for (const [text, want] of cases) {
    assert.equal(sniffTunnel(ascii(text)), want, JSON.stringify(text));
  }
});

/**
 * The heads ffmpeg 5.1 (`-rtsp_transport http`) and GStreamer 1.22
 * (`rtsph://`) sent to a listener on this machine, each POST with its first
 * request (OPTIONS, base64) in the same read.
 */
const CAPTURED = {
  ffmpegGet: "GET /live/cam HTTP/1.1\r\nUser-Agent: Lavf/59.27.100\r\n" +
    "Range: bytes=0-\r\nConnection: close\r\nHost: 127.0.0.1:36117\r\n" +
    "Icy-MetaData: 1\r\nx-sessioncookie: a35b3b7039ee31bb\r\n" +
    "Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\n" +
    "Cache-Control: no-cache\r\n\r\n",
  ffmpegPost: "POST /live/cam HTTP/1.1\r\nUser-Agent: Lavf/59.27.100\r\n" +
    "Accept: */*\r\nConnection: close\r\nHost: 127.0.0.1:36117\r\n" +
    "Icy-MetaData: 1\r\nx-sessioncookie: a35b3b7039ee31bb\r\n" +
    "Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\n" +
    "Cache-Control: no-cache\r\nContent-Length: 32767\r\n" +
    "Expires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n" +
    "T1BUSU9OUyBydHNwOi8vMTI3LjAuMC4xOjM2MTE3L2xpdmUvY2FtIFJUU1AvMS4wDQpDU2VxOiAxDQpVc2VyLUFnZW50OiBMYXZmNTkuMjcuMTAwDQoNCg==",
  gstGet:
    "GET /live/cam HTTP/1.0\r\nx-sessioncookie: gbujdbcfxientoldesaehjv\r\n" +
    "Accept: application/x-rtsp-tunnelled\r\nCache-Control: no-cache\r\n" +
    "Pragma: no-cache\r\nHost: 127.0.0.1:45705\r\n" +
    "Date: Fri, 04 Dec 2026 08:32:35 GMT\r\n\r\n",
  gstPost:
    "POST /live/cam HTTP/1.0\r\nx-sessioncookie: gbujdbcfxientoldesaehjv\r\n" +
    "Accept: application/x-rtsp-tunnelled\r\n" +
    "Content-Type: application/x-rtsp-tunnelled\r\nCache-Control: no-cache\r\n" +
    "Pragma: no-cache\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n" +
    "Content-Length: 32767\r\nHost: 127.0.0.1:45705\r\n" +
    "Date: Fri, 04 Dec 2026 08:32:36 GMT\r\n\r\nT1BUSU9OUyBydHNwOi8v",
};

Deno.test("HttpHeadReader reads a head cut at every byte and keeps what follows", () => {
  const wire = ascii(`${CAPTURED.ffmpegGet}T1BU`);
  for (const parts of splitsOf(wire, 0)) {
    const r = new HttpHeadReader();
    let got: ReturnType<HttpHeadReader["push"]>;
    const rest: number[] = [];
    for (const p of parts) {
      if (got === undefined) got = r.push(p);
      else rest.push(...p);
    }
    assert.ok(got !== undefined);
    assert.equal(got.head.startLine, "GET /live/cam HTTP/1.1");
    assert.deepEqual(
      new TextDecoder().decode(new Uint8Array([...got.rest, ...rest])),
      "T1BU",
    );
  }
});

for (const [name, text] of Object.entries(CAPTURED)) {
  Deno.test(`parseTunnelRequest reads ${name}, the body left over`, () => {
    const got = new HttpHeadReader().push(ascii(text))!;
    const req = parseTunnelRequest(got.head);
    assert.equal(req.method, name.endsWith("Get") ? "GET" : "POST");
    assert.equal(req.target, "/live/cam");
    assert.equal(
      req.cookie,
      name.startsWith("ffmpeg")
        ? "a35b3b7039ee31bb"
        : "gbujdbcfxientoldesaehjv",
    );
    const body = new TextDecoder().decode(got.rest);
    assert.equal(body === "", name.endsWith("Get"));
    if (body !== "") assert.match(atob(body.slice(0, 16)), /^OPTIONS rtsp/);
  });
}

Deno.test("parseTunnelRequest reads Sluice's own GET and POST", () => {
  for (const method of ["GET", "POST"] as const) {
    const bytes = encodeTunnelRequest(method, {
      target: "/a/b?x=1",
      host: "h:1",
      cookie: "c00k1e",
    });
    const got = new HttpHeadReader().push(bytes)!;
    assert.equal(got.rest.length, 0);
    assert.deepEqual(parseTunnelRequest(got.head), {
      method,
      target: "/a/b?x=1",
      cookie: "c00k1e",
    });
  }
});

const REFUSED: { name: string; head: string; status: number }[] = [
  {
    name: "a GET without x-sessioncookie",
    head: "GET / HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled",
    status: 400,
  },
  {
    name: "a POST without x-sessioncookie",
    head: "POST / HTTP/1.0\r\nContent-Type: application/x-rtsp-tunnelled",
    status: 400,
  },
  {
    name: "a GET that does not accept application/x-rtsp-tunnelled",
    head: "GET / HTTP/1.0\r\nx-sessioncookie: abc\r\nAccept: text/html",
    status: 400,
  },
  {
    name: "a cookie of 200 characters",
    head: `POST / HTTP/1.0\r\nx-sessioncookie: ${"a".repeat(200)}`,
    status: 400,
  },
  {
    name: "two different cookies",
    head: "POST / HTTP/1.0\r\nx-sessioncookie: a\r\nx-sessioncookie: b",
    status: 400,
  },
  {
    name: "HTTP/2.0",
    head: "GET / HTTP/2.0\r\nx-sessioncookie: a",
    status: 400,
  },
];
for (const c of REFUSED) {
  Deno.test(`parseTunnelRequest refuses ${c.name} with ${c.status}`, () => {
    const got = new HttpHeadReader().push(ascii(`${c.head}\r\n\r\n`))!;
    assert.throws(() => parseTunnelRequest(got.head), (e) => {
      assert.ok(e instanceof TunnelError);
      assert.equal(e.status, c.status);
      return true;
    });
  });
}

// CVE-2018-4013: live555 copied these values into fixed buffers.
for (const name of ["x-sessioncookie", "Accept"]) {
  Deno.test(`HttpHeadReader refuses an oversized ${name} with 431 as it comes`, () => {
    const r = new HttpHeadReader();
    assert.equal(r.push(ascii(`GET / HTTP/1.0\r\n${name}: `)), undefined);
    assert.throws(() => {
      for (let i = 0; i < 100; i++) r.push(ascii("x".repeat(1000)));
    }, (e) => e instanceof TunnelError && e.status === 431);
    // A value over 1024 bytes inside a head that fits is refused too.
    const small = new HttpHeadReader();
    assert.throws(
      () =>
        small.push(
          ascii(`GET / HTTP/1.0\r\n${name}: ${"y".repeat(2000)}\r\n\r\n`),
        ),
      (e) => e instanceof TunnelError && e.status === 431,
    );
  });
}

Deno.test("httpStatusOf reads a status line and nothing else", () => {
  assert.equal(
    httpStatusOf({ startLine: "HTTP/1.0 200 OK", headers: [] }),
    200,
  );
  assert.equal(httpStatusOf({ startLine: "HTTP/1.1 404", headers: [] }), 404);
  assert.equal(
    httpStatusOf({ startLine: "RTSP/1.0 200 OK", headers: [] }),
    undefined,
  );
});

Deno.test("HttpHeadReader and parseTunnelRequest: any bytes give a head, a request or a TunnelError", () => {
  const heads = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.array(
      fc.constantFrom(
        "GET / HTTP/1.0\r\n",
        "POST /x HTTP/1.1\r\n",
        "x-sessioncookie: ab\r\n",
        "Accept: application/x-rtsp-tunnelled\r\n",
        ": \r\n",
        "\r\n",
        "\x00",
        "é",
      ),
      { maxLength: 12 },
    ).map((parts) => ascii(parts.join(""))),
  );
  fc.assert(
    fc.property(heads, fc.nat(), (bytes, cut) => {
      const r = new HttpHeadReader({ maxHeadBytes: 256 });
      const at = cut % (bytes.length + 1);
      try {
        const got = r.push(bytes.subarray(0, at)) ??
          r.push(bytes.subarray(at));
        if (got !== undefined) parseTunnelRequest(got.head);
      } catch (e) {
        assert.ok(e instanceof TunnelError, String(e));
        assert.ok([400, 431].includes(e.status));
      }
    }),
    { numRuns: 500 },
  );
});
