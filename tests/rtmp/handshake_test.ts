import assert from "node:assert/strict";
import fc from "fast-check";
import { hmacSha256, sha256 } from "../../lib/rtmp/_hmac_sha256.ts";
import {
  HANDSHAKE_SIZE,
  HandshakeClient,
  HandshakeServer,
} from "../../lib/rtmp/handshake.ts";
import type { Sink, StageCore } from "../../lib/stage.ts";
import { ascii, hex, splitsOf, toHex } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc" and the empty string.
Deno.test("sha256 hashes the FIPS 180-4 examples", () => {
  assert.equal(
    toHex(sha256(ascii("abc"))),
    toHex(
      hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ),
  );
  assert.equal(
    toHex(sha256(new Uint8Array(0))),
    toHex(
      hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ),
  );
});

// RFC 4231 §4.2–§4.8: HMAC-SHA-256 test cases 1–7.
const RFC4231 = [
  {
    key: hex("0b".repeat(20)),
    data: ascii("Hi There"),
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    key: ascii("Jefe"),
    data: ascii("what do ya want for nothing?"),
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    key: hex("aa".repeat(20)),
    data: hex("dd".repeat(50)),
    mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  },
  {
    key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
    data: hex("cd".repeat(50)),
    mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  },
  // test case 5 compares the first 128 bits only
  {
    key: hex("0c".repeat(20)),
    data: ascii("Test With Truncation"),
    mac: "a3b6167473100ee06e0c796c2955552b",
  },
  {
    key: hex("aa".repeat(131)),
    data: ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
  {
    key: hex("aa".repeat(131)),
    data: ascii(
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  },
];

Deno.test("hmacSha256 matches the RFC 4231 test cases", () => {
  for (const [i, c] of RFC4231.entries()) {
    const mac = hmacSha256(c.key, c.data).subarray(0, c.mac.length / 2);
    assert.equal(toHex(mac), toHex(hex(c.mac)), `RFC 4231 test case ${i + 1}`);
  }
});

Deno.test("hmacSha256 agrees with WebCrypto on random keys and split data", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 150 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(),
      async (key, data, cut) => {
        const at = cut % (data.length + 1);
        const ours = hmacSha256(key, data.subarray(0, at), data.subarray(at));
        const k = await crypto.subtle.importKey(
          "raw",
          key,
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        );
        const theirs = new Uint8Array(
          await crypto.subtle.sign("HMAC", k, data),
        );
        assert.deepEqual(ours, theirs);
      },
    ),
    { numRuns: 200 },
  );
});

// --- The handshake (RTMP specification 1.0 §5.2) ---

const FP_KEY = keyWithTail("Genuine Adobe Flash Player 001"); // 62 bytes
const FMS_KEY = keyWithTail("Genuine Adobe Flash Media Server 001"); // 68 bytes

function keyWithTail(text: string): Uint8Array {
  const tail = hex(
    "f0eec24a8068bee82e00d0d1029e7e57 6eec5d2d29806fab93b8e636cfeb31ae",
  );
  const head = ascii(text);
  const out = new Uint8Array(head.length + 32);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** Digest offset as Flash Player and ffmpeg compute it: base 8 (scheme 0) or 772 (scheme 1). */
function offsetAt(block: Uint8Array, base: number): number {
  return ((block[base]! + block[base + 1]! + block[base + 2]! +
    block[base + 3]!) % 728) + base + 4;
}

function digestOf(
  block: Uint8Array,
  offset: number,
  key: Uint8Array,
): Uint8Array {
  return hmacSha256(
    key,
    block.subarray(0, offset),
    block.subarray(offset + 32),
  );
}

/** A C1 as Flash Player / ffmpeg build it: version 9.0.124.2 and a digest keyed with the FP key text. */
function digestC1(scheme: 0 | 1): { c0c1: Uint8Array; digest: Uint8Array } {
  const c0c1 = new Uint8Array(1 + HANDSHAKE_SIZE);
  c0c1[0] = 3;
  const c1 = c0c1.subarray(1);
  crypto.getRandomValues(c1.subarray(8));
  c1.set([0, 0, 0x10, 0], 0); // uptime
  c1.set([9, 0, 124, 2], 4); // version: asks for the digest handshake
  const offset = offsetAt(c1, scheme === 0 ? 8 : 772);
  c1.set(digestOf(c1, offset, FP_KEY.subarray(0, 30)), offset);
  return { c0c1, digest: c1.slice(offset, offset + 32) };
}

function plainC0C1(): Uint8Array {
  const c0c1 = new Uint8Array(1 + HANDSHAKE_SIZE);
  c0c1[0] = 3;
  crypto.getRandomValues(c0c1.subarray(9)); // time 0, zero field: plain
  return c0c1;
}

Deno.test("HandshakeServer answers a plain C1 with S0, S1 and an S2 echoing C1", () => {
  const server = new HandshakeServer({ timeMs: 0x01020304 });
  const c0c1 = plainC0C1();
  const reply = server.push(c0c1);
  assert.ok(reply);
  assert.equal(reply.length, 1 + 2 * HANDSHAKE_SIZE);
  assert.equal(reply[0], 3); // S0
  assert.deepEqual(reply.subarray(1, 9), hex("01020304 | 00000000")); // S1 time | zero
  assert.deepEqual(reply.subarray(1 + HANDSHAKE_SIZE), c0c1.subarray(1)); // S2 = C1
  assert.equal(server.scheme, undefined);
  assert.equal(server.done, false);
  const c2 = reply.slice(1, 1 + HANDSHAKE_SIZE); // the client echoes S1
  assert.equal(server.push(c2), undefined);
  assert.equal(server.done, true);
  assert.equal(server.rest.length, 0);
});

Deno.test("HandshakeServer handles C0, C1, C2 and a connect chunk split at every byte", () => {
  const c0c1 = plainC0C1();
  const c2 = new Uint8Array(HANDSHAKE_SIZE).fill(7);
  const connect = hex("03 000000 000005 14 00000000 | 0102030405");
  const wire = new Uint8Array(c0c1.length + c2.length + connect.length);
  wire.set(c0c1);
  wire.set(c2, c0c1.length);
  wire.set(connect, c0c1.length + c2.length);
  for (const parts of splitsOf(wire)) {
    const server = new HandshakeServer();
    const replies: Uint8Array[] = [];
    let rest: Uint8Array[] = [];
    for (const part of parts) {
      if (server.done) {
        rest.push(part);
        continue;
      }
      const reply = server.push(part);
      if (reply) replies.push(reply);
      if (server.done) rest = [server.rest];
    }
    assert.equal(replies.length, 1);
    assert.deepEqual(
      replies[0]!.subarray(1 + HANDSHAKE_SIZE),
      c0c1.subarray(1),
    );
    assert.equal(server.done, true);
    assert.deepEqual(
      toHex(new Uint8Array(rest.flatMap((r) => [...r]))),
      toHex(connect),
    );
  }
});

for (const scheme of [0, 1] as const) {
  Deno.test(`HandshakeServer answers a scheme-${scheme} digest C1 with S1 and S2 a Flash client accepts`, () => {
    const { c0c1, digest } = digestC1(scheme);
    const server = new HandshakeServer({ timeMs: 1000 });
    const reply = server.push(c0c1)!;
    assert.equal(server.scheme, scheme);
    const s1 = reply.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = reply.subarray(1 + HANDSHAKE_SIZE);
    assert.ok(
      s1[4]! >= 3,
      "ffmpeg checks digests only when S1's version byte is >= 3",
    );
    // The client finds S1's digest with the FMS key text, the way ffmpeg does: base 772, then 8.
    const fmsText = FMS_KEY.subarray(0, 36);
    const found = [772, 8].map((base) => offsetAt(s1, base)).filter((offset) =>
      toHex(digestOf(s1, offset, fmsText)) ===
        toHex(s1.subarray(offset, offset + 32))
    );
    assert.equal(found.length, 1);
    assert.equal(
      found[0],
      offsetAt(s1, scheme === 0 ? 8 : 772),
      "S1 uses the client's scheme",
    );
    // S2's last 32 bytes: HMAC over the first 1504, keyed by HMAC(full FMS key, C1 digest).
    const key = hmacSha256(FMS_KEY, digest);
    assert.deepEqual(hmacSha256(key, s2.subarray(0, 1504)), s2.subarray(1504));
    // The client's C2 (keyed on S1's digest with the full FP key) completes it.
    const c2 = new Uint8Array(HANDSHAKE_SIZE);
    const s1Digest = s1.subarray(found[0]!, found[0]! + 32);
    c2.set(
      hmacSha256(hmacSha256(FP_KEY, s1Digest), c2.subarray(0, 1504)),
      1504,
    );
    server.push(c2);
    assert.equal(server.done, true);
  });
}

Deno.test("HandshakeServer answers plainly when C1's digest does not validate", () => {
  const { c0c1 } = digestC1(0);
  c0c1[100]! ^= 0xff; // spoil one byte outside both digest positions' offset fields
  const server = new HandshakeServer();
  const reply = server.push(c0c1)!;
  assert.equal(server.scheme, undefined);
  assert.deepEqual(reply.subarray(5, 9), hex("00000000"));
  assert.deepEqual(reply.subarray(1 + HANDSHAKE_SIZE), c0c1.subarray(1));
});

Deno.test("HandshakeServer answers plainly when digests are turned off", () => {
  const { c0c1 } = digestC1(1);
  const server = new HandshakeServer({ digest: false });
  const reply = server.push(c0c1)!;
  assert.equal(server.scheme, undefined);
  assert.deepEqual(reply.subarray(1 + HANDSHAKE_SIZE), c0c1.subarray(1));
});

Deno.test("HandshakeServer refuses RTMPE and other versions on the first byte", () => {
  for (const version of [6, 8, 9, 0x47, 0]) {
    assert.throws(() => new HandshakeServer().push(new Uint8Array([version])), {
      name: "ProtocolError",
      code: "unsupported",
    });
  }
});

Deno.test("HandshakeServer rejects pushes after it is done", () => {
  const server = new HandshakeServer();
  server.push(plainC0C1());
  server.push(new Uint8Array(HANDSHAKE_SIZE));
  assert.throws(() => server.push(new Uint8Array(1)), TypeError);
});

Deno.test("HandshakeClient and HandshakeServer complete a handshake with each other", () => {
  const client = new HandshakeClient({ timeMs: 5 });
  const server = new HandshakeServer({ timeMs: 9 });
  const c0c1 = client.start();
  assert.equal(c0c1.length, 1 + HANDSHAKE_SIZE);
  assert.deepEqual(c0c1.subarray(0, 9), hex("03 | 00000005 | 00000000"));
  const s0s1s2 = server.push(c0c1)!;
  const connect = hex("03 000000 000001 14 00000000 | 02");
  // the server's first chunk may come in the same read as S2
  const fromServer = new Uint8Array(s0s1s2.length + 4);
  fromServer.set(s0s1s2);
  fromServer.set(hex("02 000000"), s0s1s2.length);
  const c2 = client.push(fromServer)!;
  assert.deepEqual(c2, s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE)); // C2 echoes S1
  assert.equal(client.done, true);
  assert.deepEqual(client.rest, hex("02 000000"));
  const toServer = new Uint8Array(c2.length + connect.length);
  toServer.set(c2);
  toServer.set(connect, c2.length);
  assert.equal(server.push(toServer), undefined);
  assert.equal(server.done, true);
  assert.deepEqual(server.rest, connect);
});

Deno.test("HandshakeClient gives C2 once S0 and S1 are in, split at every byte", () => {
  const s0s1s2 = new HandshakeServer().push(plainC0C1())!;
  for (const parts of splitsOf(s0s1s2)) {
    const client = new HandshakeClient();
    client.start();
    const c2s = parts.map((p) => client.push(p)).filter((x) => x !== undefined);
    assert.equal(c2s.length, 1);
    assert.deepEqual(c2s[0], s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE));
    assert.equal(client.done, true);
  }
});

Deno.test("HandshakeClient refuses an S0 that is not version 3", () => {
  const client = new HandshakeClient();
  client.start();
  assert.throws(() => client.push(hex("06")), {
    name: "ProtocolError",
    code: "unsupported",
  });
});

/** What a handshake side sends back, or the chunk stream bytes after the handshake. */
type HandshakeOutput = { reply: Uint8Array } | { rest: Uint8Array };

/** A handshake side as a stage: its reply, then `rest` and every later byte. */
function handshakeStage(
  side: () => Pick<HandshakeServer, "push" | "done" | "rest">,
): () => StageCore<Uint8Array, HandshakeOutput> {
  return () => {
    const hs = side();
    return {
      push(chunk: Uint8Array, out: Sink<HandshakeOutput>) {
        if (hs.done) return out.enqueue({ rest: chunk });
        const reply = hs.push(chunk);
        if (reply) out.enqueue({ reply });
        if (hs.done) out.enqueue({ rest: hs.rest });
      },
    };
  };
}

/**
 * The output with its random parts left out: the reply's first 9 bytes
 * (S0, S1 time and version) and, for a plain reply, S2 (C1 echoed); the
 * chunk stream bytes joined, however the reads cut them.
 */
function summary(items: HandshakeOutput[]) {
  const replies = items.flatMap((i) => "reply" in i ? [i.reply] : []);
  const rest = items.flatMap((i) => "rest" in i ? [...i.rest] : []);
  return {
    replies: replies.map((r) => ({
      head: toHex(r.subarray(0, 9)),
      s2: r[5] === 0 ? toHex(r.subarray(1 + HANDSHAKE_SIZE)) : "digest",
    })),
    rest: toHex(Uint8Array.from(rest)),
  };
}

Deno.test("HandshakeServer keeps the stage contract: one reply, then the chunk stream bytes", () => {
  const connect = hex("03 000000 000005 14 00000000 | 0102030405");
  const plain = plainC0C1();
  const withConnect = new Uint8Array(1 + 2 * HANDSHAKE_SIZE + connect.length);
  withConnect.set(plain);
  withConnect.set(connect, 1 + 2 * HANDSHAKE_SIZE);
  const { c0c1, digest } = digestC1(1);
  const digestFirst = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
  digestFirst.set(c0c1);
  checkStageContract(handshakeStage(() => new HandshakeServer()), {
    fixtures: [
      {
        // §5.2.4: S2 echoes C1; ffmpeg's connect follows C2 in the same read
        name: "a plain C0 C1 C2 and a connect chunk",
        bytes: withConnect,
        expect: {
          replies: [{
            head: "03 00 00 00 00 00 00 00 00",
            s2: toHex(plain.subarray(1)),
          }],
          rest: toHex(connect),
        },
      },
      {
        name: "a scheme-1 digest C0 C1 (Flash Player 10 and later), then C2",
        bytes: digestFirst,
        expect: {
          replies: [{ head: "03 00 00 00 00 05 00 03 01", s2: "digest" }],
          rest: "",
        },
      },
    ],
    normalize: summary,
    // S2's last 32 bytes: HMAC over the first 1504, keyed by HMAC(FMS key, C1 digest)
    check(items, fixture) {
      const first = items[0]!;
      if (!("reply" in first) || fixture.bytes !== digestFirst) return;
      const s2 = first.reply.subarray(1 + HANDSHAKE_SIZE);
      const key = hmacSha256(FMS_KEY, digest);
      assert.deepEqual(
        hmacSha256(key, s2.subarray(0, 1504)),
        s2.subarray(1504),
      );
    },
    runs: 100,
  });
});

Deno.test("HandshakeClient keeps the stage contract: C2 echoes S1, then the chunk stream bytes", () => {
  const s0s1s2 = new Uint8Array(1 + 2 * HANDSHAKE_SIZE + 4);
  s0s1s2[0] = 3;
  for (let i = 1; i < s0s1s2.length - 4; i++) s0s1s2[i] = (i * 7) & 0xff;
  s0s1s2.set(hex("02 000000"), 1 + 2 * HANDSHAKE_SIZE);
  checkStageContract(
    handshakeStage(() => {
      const client = new HandshakeClient();
      client.start();
      return client;
    }),
    {
      fixtures: [{
        // §5.2.4: C2 is S1 echoed; the server's first chunk may follow S2
        name: "a plain S0 S1 S2 and a chunk header",
        bytes: s0s1s2,
        expect: [
          { reply: s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE) },
          { rest: hex("02 000000") },
        ],
      }],
      normalize: (items) => {
        const rest = items.flatMap((i) => "rest" in i ? [...i.rest] : []);
        return [
          ...items.filter((i) => "reply" in i),
          { rest: Uint8Array.from(rest) },
        ];
      },
      runs: 100,
    },
  );
});
