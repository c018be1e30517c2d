import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspError } from "../../lib/rtsp/error.ts";
import {
  parseCSeq,
  parseMethodList,
  stringifyMethodList,
} from "../../lib/rtsp/headers/cseq.ts";
import {
  parseRtpInfo,
  stringifyRtpInfo,
} from "../../lib/rtsp/headers/rtp_info.ts";
import {
  parseSession,
  stringifySession,
} from "../../lib/rtsp/headers/session.ts";

// RFC 2326 §12.37
Deno.test("parseSession reads ids with and without timeout", () => {
  assert.deepEqual(parseSession("47112344"), { id: "47112344" });
  assert.deepEqual(parseSession("12345678;timeout=60"), {
    id: "12345678",
    timeout: 60,
  });
  // Axis writes a space after the semicolon
  assert.deepEqual(parseSession("12345678; timeout=60"), {
    id: "12345678",
    timeout: 60,
  });
  assert.deepEqual(parseSession(" E4C1F2AA-01.x$+_ ;Timeout=5"), {
    id: "E4C1F2AA-01.x$+_",
    timeout: 5,
  });
  // an unreadable timeout is left out, not fatal: a client echoing it must still be served
  assert.deepEqual(parseSession("abc;timeout=soon"), { id: "abc" });
  assert.equal(
    stringifySession({ id: "12345678", timeout: 60 }),
    "12345678;timeout=60",
  );
  assert.equal(stringifySession({ id: "12345678" }), "12345678");
});

Deno.test("parseSession refuses an empty, spaced, quoted or overlong id with 400", () => {
  for (
    const value of ["", ";timeout=60", "a b", '"abc"', "x".repeat(257), "a,b"]
  ) {
    assert.throws(
      () => parseSession(value),
      { name: "RtspError", status: 400 },
      value,
    );
  }
  assert.throws(() => stringifySession({ id: "a b" }), TypeError);
});

Deno.test("parseRtpInfo reads the §12.33 example and camera forms", () => {
  // RFC 2326 §12.33
  assert.deepEqual(
    parseRtpInfo(
      "url=rtsp://foo.com/bar.avi/streamid=0;seq=45102, url=rtsp://foo.com/bar.avi/streamid=1;seq=30211",
    ),
    [
      { url: "rtsp://foo.com/bar.avi/streamid=0", seq: 45102 },
      { url: "rtsp://foo.com/bar.avi/streamid=1", seq: 30211 },
    ],
  );
  // Dahua: a query string with '&' and '=' in the URL; rtptime up to 2^32 - 1
  assert.deepEqual(
    parseRtpInfo(
      "url=rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=0;seq=1;rtptime=4294967295,url=rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=1;seq=65535;rtptime=0",
    ),
    [
      {
        url:
          "rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=0",
        seq: 1,
        rtptime: 4294967295,
      },
      {
        url:
          "rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=1",
        seq: 65535,
        rtptime: 0,
      },
    ],
  );
  // a ';' inside the URL, RFC 7826's quoted URL and ssrc
  assert.deepEqual(
    parseRtpInfo(
      'url=rtsp://h/a;b/track1;seq=5, url="rtsp://h/x,y";ssrc=0A13C760;seq=45102;rtptime=2',
    ),
    [
      { url: "rtsp://h/a;b/track1", seq: 5 },
      { url: "rtsp://h/x,y", seq: 45102, rtptime: 2 },
    ],
  );
  // entries without url (some servers)
  assert.deepEqual(parseRtpInfo("seq=7;rtptime=1,seq=8"), [{
    url: "",
    seq: 7,
    rtptime: 1,
  }, { url: "", seq: 8 }]);
  const entries = [{
    url: "rtsp://h/live/trackID=0",
    seq: 100,
    rtptime: 123456,
  }, { url: "rtsp://h/live/trackID=1" }];
  assert.equal(
    stringifyRtpInfo(entries),
    "url=rtsp://h/live/trackID=0;seq=100;rtptime=123456,url=rtsp://h/live/trackID=1",
  );
  assert.deepEqual(parseRtpInfo(stringifyRtpInfo(entries)), entries);
});

Deno.test("parseRtpInfo refuses numbers out of range", () => {
  for (
    const value of [
      "url=a;seq=65536",
      "url=a;rtptime=4294967296",
      "url=a;seq=x",
      "junk;seq=1",
      `url=a${",url=b".repeat(64)}`,
    ]
  ) {
    assert.throws(() => parseRtpInfo(value), {
      name: "RtspError",
      code: "malformed",
    }, value);
  }
});

Deno.test("parseRtpInfo gives entries or an RtspError for random input", () => {
  const pieces = fc.constantFrom(
    "url",
    "=",
    ";",
    ",",
    "seq",
    "rtptime",
    "ssrc",
    "rtsp://h/x",
    "1",
    "99999",
    '"',
    " ",
  );
  const input = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(pieces, { maxLength: 20 }).map((p) => p.join("")),
  );
  fc.assert(
    fc.property(input, (value) => {
      try {
        parseRtpInfo(value);
      } catch (e) {
        if (!(e instanceof RtspError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});

// RFC 2326 §12.17
Deno.test("parseCSeq reads 1–10 digits up to 2^32 - 1 and refuses the rest with 400", () => {
  assert.equal(parseCSeq("1"), 1);
  assert.equal(parseCSeq(" 302 "), 302);
  assert.equal(parseCSeq("4294967295"), 4294967295);
  for (
    const value of ["", "abc", "-1", "1.5", "4294967296", "12345678901", "1 2"]
  ) {
    assert.throws(
      () => parseCSeq(value),
      { name: "RtspError", status: 400 },
      value,
    );
  }
});

// RFC 2326 §12.28, §12.4
Deno.test("parseMethodList reads Public as servers write it", () => {
  assert.deepEqual(
    parseMethodList(
      "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, SET_PARAMETER, GET_PARAMETER",
    ),
    [
      "OPTIONS",
      "DESCRIBE",
      "ANNOUNCE",
      "SETUP",
      "PLAY",
      "RECORD",
      "PAUSE",
      "TEARDOWN",
      "SET_PARAMETER",
      "GET_PARAMETER",
    ],
  );
  assert.deepEqual(parseMethodList("OPTIONS,DESCRIBE,SETUP"), [
    "OPTIONS",
    "DESCRIBE",
    "SETUP",
  ]);
  assert.deepEqual(parseMethodList(" OPTIONS DESCRIBE ,, (bad) PLAY"), [
    "OPTIONS",
    "DESCRIBE",
    "PLAY",
  ]);
  assert.equal(
    stringifyMethodList(["OPTIONS", "DESCRIBE"]),
    "OPTIONS, DESCRIBE",
  );
});
