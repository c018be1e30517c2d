import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspFramer } from "../../lib/rtsp/framer.ts";
import {
  encodeRequest,
  encodeResponse,
  RTSP_STATUS,
  RTSP_STATUS_TEXT,
  type RtspFramed,
  RtspHeaders,
} from "../../lib/rtsp/message.ts";
import { ascii, collect } from "../_util/bytes.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("RtspHeaders looks names up without case and keeps order, case and repeats", () => {
  const h = new RtspHeaders([
    ["CSeq", "1"],
    ["User-Agent", "GStreamer/1.22.0"],
    ["user-agent", "RealMedia Player"],
  ]);
  assert.equal(h.get("cseq"), "1");
  assert.equal(h.get("USER-AGENT"), "GStreamer/1.22.0");
  assert.deepEqual(h.getAll("User-Agent"), [
    "GStreamer/1.22.0",
    "RealMedia Player",
  ]);
  assert.ok(h.has("Cseq") && !h.has("Session"));
  assert.equal(h.size, 3);
  h.set("USER-AGENT", "Sluice");
  assert.deepEqual([...h], [["CSeq", "1"], ["USER-AGENT", "Sluice"]]);
  h.append("Session", "abc");
  assert.ok(h.delete("cseq"));
  assert.ok(!h.delete("cseq"));
  assert.deepEqual([...h.entries()], [["USER-AGENT", "Sluice"], [
    "Session",
    "abc",
  ]]);
  assert.deepEqual([...new RtspHeaders({ CSeq: 2, Public: "OPTIONS" })], [[
    "CSeq",
    "2",
  ], ["Public", "OPTIONS"]]);
  assert.deepEqual([...new RtspHeaders(h)], [...h]);
});

Deno.test("RtspHeaders.getOne refuses a field repeated with different values (CVE-2019-7732)", () => {
  const h = new RtspHeaders([
    ["Authorization", "Basic YTpi"],
    ["authorization", 'Digest username="a"'],
    ["CSeq", "4"],
    ["cseq", "4"],
  ]);
  assert.throws(() => h.getOne("Authorization"), {
    name: "RtspError",
    code: "malformed",
    status: 400,
  });
  assert.equal(h.getOne("CSeq"), "4");
  assert.equal(h.getOne("Session"), undefined);
});

Deno.test("encodeRequest writes the request line, headers in order and Content-Length", () => {
  // RFC 2326 §10.4 SETUP
  const wire = encodeRequest({
    method: "SETUP",
    url: "rtsp://example.com/foo/bar/baz.rm",
    headers: [["CSeq", "302"], [
      "Transport",
      "RTP/AVP;unicast;client_port=4588-4589",
    ], ["Content-Length", "99"]],
  });
  assert.equal(
    text(wire),
    "SETUP rtsp://example.com/foo/bar/baz.rm RTSP/1.0\r\nCSeq: 302\r\nTransport: RTP/AVP;unicast;client_port=4588-4589\r\n\r\n",
  );
  const announce = encodeRequest({
    method: "ANNOUNCE",
    url: "rtsp://h/x",
    headers: { CSeq: 2 },
    body: "v=0\r\n",
  });
  assert.equal(
    text(announce),
    "ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n",
  );
});

Deno.test("encodeResponse writes the reason of RFC 2326 §7.1.1 and a body", () => {
  assert.equal(
    text(
      encodeResponse({
        status: RTSP_STATUS.UNSUPPORTED_TRANSPORT,
        headers: { CSeq: 3 },
      }),
    ),
    "RTSP/1.0 461 Unsupported transport\r\nCSeq: 3\r\n\r\n",
  );
  assert.equal(
    text(
      encodeResponse({ status: 200, reason: "", body: new Uint8Array([0x41]) }),
    ),
    "RTSP/1.0 200\r\nContent-Length: 1\r\n\r\nA",
  );
  assert.equal(text(encodeResponse({ status: 599 })), "RTSP/1.0 599\r\n\r\n");
  assert.equal(RTSP_STATUS_TEXT[454], "Session Not Found");
});

Deno.test("encodeRequest and encodeResponse refuse what would inject lines", () => {
  assert.throws(
    () =>
      encodeRequest({
        method: "OPTIONS",
        url: "*",
        headers: { CSeq: "1\r\nX: y" },
      }),
    TypeError,
  );
  assert.throws(
    () =>
      encodeRequest({ method: "OPTIONS", url: "* RTSP/1.0\r\n", headers: {} }),
    TypeError,
  );
  assert.throws(
    () => encodeRequest({ method: "OPT IONS", url: "*" }),
    TypeError,
  );
  assert.throws(
    () =>
      encodeRequest({
        method: "OPTIONS",
        url: "*",
        headers: [["Bad Name", "1"]],
      }),
    TypeError,
  );
  assert.throws(
    () => encodeResponse({ status: 200, reason: "OK\r\nX: y" }),
    TypeError,
  );
  assert.throws(() => encodeResponse({ status: 20 }), RangeError);
});

Deno.test("encodeRequest/encodeResponse → RtspFramer returns arbitrary messages", () => {
  const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
  const value = fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/);
  const headers = fc.array(fc.tuple(token, value), { maxLength: 6 })
    .map((list) => list.filter(([n]) => n.toLowerCase() !== "content-length"));
  const body = fc.uint8Array({ maxLength: 300 });
  fc.assert(
    fc.property(
      token,
      fc.webUrl(),
      headers,
      body,
      fc.integer({ min: 100, max: 999 }),
      (method, url, hs, b, status) => {
        const wire = [
          encodeRequest({ method, url, headers: hs, body: b }),
          encodeResponse({ status, headers: hs, body: b }),
        ];
        const out = collect<RtspFramed>();
        const framer = new RtspFramer();
        for (const w of wire) framer.push(w, out);
        framer.end();
        const withLength = b.length > 0
          ? [...hs, ["Content-Length", String(b.length)]]
          : hs;
        const [request, response] = out.items;
        assert.ok(request?.kind === "request" && response?.kind === "response");
        assert.equal(request.method, method);
        assert.equal(request.url, url);
        assert.deepEqual([...request.headers], withLength);
        assert.deepEqual(request.body, b);
        assert.equal(response.status, status);
        assert.deepEqual([...response.headers], withLength);
        assert.deepEqual(response.body, b);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a decoded request encodes back to the same bytes", () => {
  const wire = ascii(
    "PLAY rtsp://h/live/ RTSP/1.0\r\nCSeq: 5\r\nSession: 12345678\r\nRange: npt=0.000-\r\n\r\n",
  );
  const out = collect<RtspFramed>();
  new RtspFramer().push(wire, out);
  const request = out.items[0]!;
  assert.ok(request.kind === "request");
  assert.deepEqual(encodeRequest(request), wire);
});
