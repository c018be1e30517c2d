import assert from "node:assert/strict";
import fc from "fast-check";
import { md5, md5Hex } from "../../lib/rtsp/_md5.ts";
import { RtspError } from "../../lib/rtsp/error.ts";
import {
  digestAuthorization,
  type DigestCredentials,
  digestResponse,
  parseAuthorization,
  parseWwwAuthenticate,
  stringifyAuthorization,
  stringifyWwwAuthenticate,
  verifyDigest,
} from "../../lib/rtsp/headers/auth.ts";
import { hex } from "../_util/bytes.ts";

// RFC 1321 §A.5 test suite
const MD5_VECTORS: [string, string][] = [
  ["", "d41d8cd98f00b204e9800998ecf8427e"],
  ["a", "0cc175b9c0f1b6a831c399e269772661"],
  ["abc", "900150983cd24fb0d6963f7d28e17f72"],
  ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
  ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
  [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "d174ab98d277d9f5a5611c2c9f419d9f",
  ],
  ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
];
for (const [input, digest] of MD5_VECTORS) {
  Deno.test(`md5Hex gives the RFC 1321 digest of ${JSON.stringify(input.slice(0, 20))}`, () => {
    assert.equal(md5Hex(input), digest);
  });
}

Deno.test("md5 pads across block boundaries (55, 56, 63, 64, 65 bytes) and reads UTF-8", () => {
  // digests from Python hashlib
  assert.equal(md5Hex("x".repeat(55)), "04364420e25c512fd958a70738aa8f72");
  assert.equal(md5Hex("x".repeat(56)), "668a72d5ba17f08e62dabcafad6db14b");
  assert.equal(md5Hex("x".repeat(64)), "c1bb4f81d892b2d57947682aeb252456");
  assert.equal(md5Hex("x".repeat(1000)), "398533d48111e9f664b1f64cb10c4b63");
  assert.deepEqual(
    md5(new TextEncoder().encode("abc")),
    hex("900150983cd24fb0d6963f7d28e17f72"),
  );
});

Deno.test("digestResponse gives the RFC 2617 §3.5 example response (qop=auth)", () => {
  const response = digestResponse({
    username: "Mufasa",
    password: "Circle Of Life",
    realm: "testrealm@host.com",
    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    method: "GET",
    uri: "/dir/index.html",
    qop: "auth",
    nc: "00000001",
    cnonce: "0a4f113b",
  });
  assert.equal(response, "6629fae49393a05397450978507c4ef1");
});

Deno.test("digestResponse gives the RFC 7616 §3.9.1 MD5 example response", () => {
  const response = digestResponse({
    username: "Mufasa",
    password: "Circle of Life",
    realm: "http-auth@example.org",
    nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    method: "GET",
    uri: "/dir/index.html",
    algorithm: "MD5",
    qop: "auth",
    nc: "00000001",
    cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  });
  assert.equal(response, "8ca523f5e9506fed4657c9700eebdbec");
});

Deno.test("digestResponse without qop (RFC 2069, as VLC/live555 answer) and with MD5-sess", () => {
  // expected values from Python hashlib
  assert.equal(
    digestResponse({
      username: "admin",
      password: "secret",
      realm: "Login to be8c87b7ecbc1c2c89f8b4da109a4f78",
      nonce: "1ae117ce84194f06b41c1557c008dc31",
      method: "OPTIONS",
      uri: "rtsp://192.168.0.141:554/cam/realmonitor?channel=1&subtype=0",
    }),
    "f877190174f6503a1e873bd545db7709",
  );
  assert.equal(
    digestResponse({
      username: "u",
      password: "p",
      realm: "r",
      nonce: "n",
      method: "PLAY",
      uri: "rtsp://h/x/",
      algorithm: "md5-sess",
      qop: "auth",
      nc: "00000002",
      cnonce: "c",
    }),
    "0a9fc1e80e7979d6bd83b694cec2c068",
  );
  const base = {
    username: "u",
    password: "p",
    realm: "r",
    nonce: "n",
    method: "PLAY",
    uri: "/",
  };
  assert.throws(() => digestResponse({ ...base, algorithm: "SHA-256" }), {
    name: "RtspError",
    code: "unsupported",
  });
  assert.throws(() => digestResponse({ ...base, qop: "auth-int" }), {
    name: "RtspError",
    code: "unsupported",
  });
});

Deno.test("parseWwwAuthenticate reads camera challenges", () => {
  // RFC 2617 §3.5
  assert.deepEqual(
    parseWwwAuthenticate(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ),
    [{
      scheme: "Digest",
      realm: "testrealm@host.com",
      nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
      opaque: "5ccc069c403ebaf9f0171e9517f40e41",
      qop: ["auth", "auth-int"],
    }],
  );
  // Hikvision DVR: quoted algorithm; then Basic in another field
  assert.deepEqual(
    parseWwwAuthenticate(
      'Digest realm="Embedded Net DVR", nonce="1157e9bff", algorithm="MD5"',
    ),
    [
      {
        scheme: "Digest",
        realm: "Embedded Net DVR",
        nonce: "1157e9bff",
        algorithm: "MD5",
      },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate('Basic realm="/"'), [{
    scheme: "Basic",
    realm: "/",
  }]);
  // Uniview: no space after a comma, stale quoted in capitals
  assert.deepEqual(
    parseWwwAuthenticate(
      'Digest realm="c4790503a344",nonce="9cc0d9033c90551cac758f838ad30131", stale="FALSE"',
    ),
    [
      {
        scheme: "Digest",
        realm: "c4790503a344",
        nonce: "9cc0d9033c90551cac758f838ad30131",
        stale: false,
      },
    ],
  );
  // several schemes in one field (RFC 7235 §4.1), unknown ones skipped
  assert.deepEqual(
    parseWwwAuthenticate(
      'Newauth realm="apps", type=1, Basic realm="simple", Digest realm="d", nonce="n", stale=TRUE',
    ),
    [
      { scheme: "Basic", realm: "simple" },
      { scheme: "Digest", realm: "d", nonce: "n", stale: true },
    ],
  );
  assert.deepEqual(
    parseWwwAuthenticate('Digest realm="a \\"quoted\\" \\\\ realm", nonce=abc'),
    [
      { scheme: "Digest", realm: 'a "quoted" \\ realm', nonce: "abc" },
    ],
  );
});

Deno.test("stringifyWwwAuthenticate → parseWwwAuthenticate returns the challenge", () => {
  const challenges = [
    { scheme: "Basic" as const, realm: "Sluice" },
    {
      scheme: "Digest" as const,
      realm: 'Sl"uice',
      nonce: "a1b2",
      algorithm: "MD5",
      qop: ["auth"],
      opaque: "o",
      stale: false,
    },
  ];
  for (const c of challenges) {
    assert.deepEqual(parseWwwAuthenticate(stringifyWwwAuthenticate(c)), [c]);
  }
  assert.equal(
    stringifyWwwAuthenticate({
      scheme: "Digest",
      realm: "Sluice",
      nonce: "abc",
    }),
    'Digest realm="Sluice", nonce="abc"',
  );
});

Deno.test("parseAuthorization reads VLC, ffmpeg and Basic credentials", () => {
  // VLC 3.0.16 (live555) to a Dahua camera: no qop
  const vlc =
    'Digest username="admin", realm="Login to be8c87b7ecbc1c2c89f8b4da109a4f78", nonce="1ae117ce84194f06b41c1557c008dc31", uri="rtsp://192.168.0.141:554/cam/realmonitor?channel=1&subtype=0", response="fcde779aa1c6a5b955823f59ca6e9df2"';
  assert.deepEqual(parseAuthorization(vlc), {
    scheme: "Digest",
    username: "admin",
    realm: "Login to be8c87b7ecbc1c2c89f8b4da109a4f78",
    nonce: "1ae117ce84194f06b41c1557c008dc31",
    uri: "rtsp://192.168.0.141:554/cam/realmonitor?channel=1&subtype=0",
    response: "fcde779aa1c6a5b955823f59ca6e9df2",
  });
  // RFC 2617 §3.5, qop and nc unquoted
  const rfc = parseAuthorization(
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.ok(rfc.scheme === "Digest");
  assert.equal(rfc.qop, "auth");
  assert.ok(verifyDigest(rfc, { password: "Circle Of Life", method: "GET" }));
  assert.ok(!verifyDigest(rfc, { password: "Circle Of Life", method: "POST" }));
  // RFC 7617 §2: Aladdin / open sesame
  assert.deepEqual(parseAuthorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), {
    scheme: "Basic",
    username: "Aladdin",
    password: "open sesame",
  });
  assert.deepEqual(
    parseAuthorization(
      stringifyAuthorization({
        scheme: "Basic",
        username: "jörg",
        password: "a:b",
      }),
    ),
    {
      scheme: "Basic",
      username: "jörg",
      password: "a:b",
    },
  );
});

const BAD_AUTHORIZATION: [string, string, number][] = [
  // CVE-2019-7732 / CVE-2019-9215: live555 misread repeated and unterminated fields
  [
    "a repeated username",
    'Digest username="a", username="b", realm="r", nonce="n", uri="/", response="x"',
    400,
  ],
  [
    "a repeated response, other case",
    'Digest username="a", realm="r", nonce="n", uri="/", response="x", Response="y"',
    400,
  ],
  [
    "an unterminated quote",
    'Digest username="admin, realm="r", nonce="n", uri="/", response="x',
    400,
  ],
  [
    "a quote inside a value",
    'Digest username="a"b", realm="r", nonce="n", uri="/", response="x"',
    400,
  ],
  [
    "a missing comma",
    'Digest username="a" realm="r", nonce="n", uri="/", response="x"',
    400,
  ],
  ["no response", 'Digest username="a", realm="r", nonce="n", uri="/"', 400],
  [
    "qop without nc and cnonce",
    'Digest username="a", realm="r", nonce="n", uri="/", response="x", qop=auth',
    400,
  ],
  [
    "a bad nc",
    'Digest username="a", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=1, cnonce="c"',
    400,
  ],
  ["two credentials", 'Basic YTpi, Digest username="a"', 400],
  ["Basic without token", "Basic", 400],
  ["Basic that is not base64", "Basic ***", 400],
  ["Basic without colon", `Basic ${btoa("admin")}`, 400],
  ["Basic that is not UTF-8", `Basic ${btoa("\xff\xfe:x")}`, 400],
  ["an empty value", "", 400],
  ["a parameter without scheme", 'username="a"', 400],
  ["an empty unquoted value", 'Digest username=, realm="r"', 400],
  [
    "a value over 4096 characters",
    `Digest username="${"a".repeat(5000)}"`,
    400,
  ],
  ["another scheme", "Bearer abc", 401],
];
for (const [name, value, status] of BAD_AUTHORIZATION) {
  Deno.test(`parseAuthorization refuses ${name} with ${status}`, () => {
    assert.throws(() => parseAuthorization(value), (e) => {
      assert.ok(e instanceof RtspError);
      assert.equal(e.status, status);
      return true;
    });
  });
}

Deno.test("parseWwwAuthenticate refuses malformed and repeated fields", () => {
  for (
    const value of [
      'Digest realm="a", realm="b", nonce="n"',
      'Digest realm="a',
      "Digest nonce=n",
      'realm="x"',
      'Digest realm="r" nonce="n"',
    ]
  ) {
    assert.throws(() => parseWwwAuthenticate(value), {
      name: "RtspError",
      status: 400,
    }, value);
  }
});

Deno.test("digestAuthorization answers with qop=auth when offered, the RFC 2069 way otherwise", () => {
  const challenge = parseWwwAuthenticate(
    'Digest realm="cam", nonce="abc", qop="auth,auth-int", opaque="op", algorithm=MD5',
  )[0]!;
  assert.ok(challenge.scheme === "Digest");
  const c = digestAuthorization(challenge, {
    username: "u",
    password: "p",
    method: "SETUP",
    uri: "rtsp://cam/live/trackID=0",
    cnonce: "cn",
    count: 2,
  });
  assert.deepEqual(c, {
    scheme: "Digest",
    username: "u",
    realm: "cam",
    nonce: "abc",
    uri: "rtsp://cam/live/trackID=0",
    response: digestResponse({
      username: "u",
      password: "p",
      realm: "cam",
      nonce: "abc",
      method: "SETUP",
      uri: "rtsp://cam/live/trackID=0",
      qop: "auth",
      nc: "00000002",
      cnonce: "cn",
    }),
    algorithm: "MD5",
    opaque: "op",
    qop: "auth",
    nc: "00000002",
    cnonce: "cn",
  });
  assert.deepEqual(parseAuthorization(stringifyAuthorization(c)), c);
  assert.throws(
    () =>
      digestAuthorization(challenge, {
        username: "u",
        password: "p",
        method: "SETUP",
        uri: "/",
      }),
    TypeError,
  );
  const plain = digestAuthorization({
    scheme: "Digest",
    realm: "r",
    nonce: "n",
  }, { username: "u", password: "p", method: "DESCRIBE", uri: "/" });
  assert.equal(plain.qop, undefined);
  assert.ok(verifyDigest(plain, { password: "p", method: "DESCRIBE" }));
});

Deno.test("verifyDigest refuses a wrong response, a wrong length and SHA-256", () => {
  const c: DigestCredentials = {
    scheme: "Digest",
    username: "u",
    realm: "r",
    nonce: "n",
    uri: "/",
    response: "",
  };
  c.response = digestResponse({ ...c, password: "p", method: "PLAY" });
  assert.ok(
    verifyDigest({ ...c, response: c.response.toUpperCase() }, {
      password: "p",
      method: "PLAY",
    }),
  );
  assert.ok(
    !verifyDigest({ ...c, response: c.response.slice(0, 31) }, {
      password: "p",
      method: "PLAY",
    }),
  );
  assert.ok(
    !verifyDigest({ ...c, algorithm: "SHA-256" }, {
      password: "p",
      method: "PLAY",
    }),
  );
});

Deno.test("the auth parsers give a value or an RtspError for random input", () => {
  const pieces = fc.constantFrom(
    "Digest",
    "Basic",
    " ",
    ",",
    "=",
    '"',
    "\\",
    "realm",
    "nonce",
    "username",
    "uri",
    "response",
    "qop",
    "auth",
    "nc",
    "00000001",
    "cnonce",
    "YTpi",
    "==",
    "x",
    "algorithm",
    "MD5",
  );
  const input = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(pieces, { maxLength: 30 }).map((p) => p.join("")),
  );
  fc.assert(
    fc.property(input, (value) => {
      for (const parse of [parseAuthorization, parseWwwAuthenticate]) {
        try {
          parse(value);
        } catch (e) {
          if (!(e instanceof RtspError)) throw e;
        }
      }
    }),
    { numRuns: 2000 },
  );
});
