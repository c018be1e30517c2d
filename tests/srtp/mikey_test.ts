import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMikey,
  encodeMikey,
  MikeyError,
  parseKeyMgmt,
  SrtpContext,
  stringifyKeyMgmt,
} from "../../lib/srtp/mod.ts";
import { parseSdp } from "../../lib/sdp/parse.ts";
import { hex } from "../_util/bytes.ts";

const KEY = hex("000102030405060708090a0b0c0d0e0f");
const SALT = hex("a0a1a2a3a4a5a6a7a8a9aaabacad");

Deno.test("encodeMikey writes HDR, T, RAND, SP and an unencrypted KEMAC without MKI", () => {
  const m = encodeMikey({ key: KEY, salt: SALT }, {
    sessions: [{ ssrc: 0x11223344, roc: 2 }],
    csbId: 0xcafe0001,
    rand: new Uint8Array(16).fill(0x55),
    nowMs: 0,
  });
  // RFC 3830 §6.1 HDR: version 1, PSK init, next T, V=0 PRF 0, CSB ID, 1 CS, SRTP-ID map
  assert.deepEqual(m.subarray(0, 10), hex("01 00 05 00 | cafe0001 | 01 00"));
  assert.deepEqual(m.subarray(10, 19), hex("00 | 11223344 | 00000002"));
  // T (NTP-UTC of the Unix epoch), then RAND of 16 bytes
  assert.deepEqual(m.subarray(19, 29), hex("0b 00 | 83aa7e80 00000000"));
  assert.deepEqual(m.subarray(29, 31), hex("0a 10"));
  // KEMAC at the end: NULL encryption, key data TEK (2) with KV NULL (0), 30 bytes, NULL MAC
  const kemac = m.subarray(m.length - 39);
  assert.deepEqual(kemac.subarray(0, 8), hex("00 00 0022 | 00 20 001e"));
  assert.deepEqual(kemac.subarray(8, 38), new Uint8Array([...KEY, ...SALT]));
  assert.equal(kemac[38], 0);
  const back = decodeMikey(m);
  assert.deepEqual(back, {
    csbId: 0xcafe0001,
    sessions: [{ policy: 0, ssrc: 0x11223344, roc: 2 }],
    master: { key: KEY, salt: SALT },
  });
});

/**
 * GStreamer 1.22 (gst_mikey_message_new_from_caps, as rtspclientsink sends
 * it): SP with AES-CM, key length 16, HMAC-SHA1, "auth key length" 10 (the
 * tag length), SRTP and SRTCP encryption, SRTP authentication; KEMAC with
 * one TEK of key ‖ salt.
 */
const GSTREAMER = hex(
  "01 00 05 00 | 12345678 | 00 00" + // HDR, no crypto sessions
    "0b 00 | e8a1b2c3 00000000" + // T NTP-UTC
    "0a 10 | 00112233445566778899aabbccddeeff" + // RAND
    "01 00 00 | 0015 | 00 01 01 | 01 01 10 | 02 01 01 | 03 01 0a | 07 01 01 | 08 01 01 | 0a 01 01" + // SP
    "00 00 | 0022 | 00 20 001e" +
    "000102030405060708090a0b0c0d0e0f a0a1a2a3a4a5a6a7a8a9aaabacad | 00", // KEMAC
);

Deno.test("decodeMikey reads GStreamer's message", () => {
  const m = decodeMikey(GSTREAMER);
  assert.equal(m.csbId, 0x12345678);
  assert.deepEqual(m.sessions, []);
  assert.deepEqual(m.master, { key: KEY, salt: SALT });
});

Deno.test("decodeMikey reads a TEK+SALT key data sub-payload", () => {
  const m = hex(
    "01 00 01 00 | 00000001 | 00 00" +
      "00 00 | 0024 | 00 30 0010 000102030405060708090a0b0c0d0e0f 000e a0a1a2a3a4a5a6a7a8a9aaabacad | 00",
  );
  assert.deepEqual(decodeMikey(m).master, { key: KEY, salt: SALT });
});

const REFUSED = [
  {
    name: "an MKI (KV SPI)",
    edit: (b: Uint8Array) => (b[b.length - 33] = 0x21),
  },
  { name: "AES-256", edit: (b: Uint8Array) => (b[44] = 32) },
  {
    name: "an encrypted KEMAC",
    edit: (b: Uint8Array) => (b[b.length - 38] = 1),
  },
  { name: "version 2", edit: (b: Uint8Array) => (b[0] = 2) },
];
for (const c of REFUSED) {
  Deno.test(`decodeMikey refuses ${c.name}`, () => {
    const b = GSTREAMER.slice();
    c.edit(b);
    assert.throws(
      () => decodeMikey(b),
      (e) => e instanceof MikeyError && /Cannot read MIKEY/.test(e.message),
    );
  });
}

Deno.test("parseKeyMgmt reads a=key-mgmt:mikey and leaves other protocols", () => {
  const value = stringifyKeyMgmt(GSTREAMER);
  assert.match(value, /^mikey [A-Za-z0-9+/]+=*$/);
  assert.deepEqual(parseKeyMgmt(value)?.master.key, KEY);
  assert.equal(parseKeyMgmt("kerberos abcd"), undefined);
  assert.throws(() => parseKeyMgmt("mikey !!!"), MikeyError);
  assert.throws(() => parseKeyMgmt("mikey"), MikeyError);
});

Deno.test("decodeMikey gives only MikeyErrors for random and mutated messages", () => {
  const ours = encodeMikey({ key: KEY, salt: SALT }, {
    sessions: [{ ssrc: 1, roc: 0 }],
  });
  const mutated = (base: Uint8Array) =>
    fc.tuple(
      fc.nat(base.length),
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
      fc.nat(base.length),
    )
      .map(([at, bytes, cut]) => {
        const b = base.slice(0, Math.max(cut, at));
        b.set(bytes.subarray(0, b.length - at), at);
        return b;
      });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        mutated(GSTREAMER),
        mutated(ours),
      ),
      (bytes) => {
        try {
          const m = decodeMikey(bytes);
          assert.equal(m.master.key.length, 16);
          assert.equal(m.master.salt.length, 14);
        } catch (e) {
          if (!(e instanceof MikeyError)) throw e;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseKeyMgmt reads the key GStreamer's rtspclientsink announces (capture)", () => {
  const sdp = parseSdp(
    Deno.readTextFileSync(
      new URL(
        "../testdata/srtp/gstreamer_rtspclientsink_savp.sdp",
        import.meta.url,
      ),
    ),
  );
  const media = sdp.media[0]!;
  assert.equal(media.protocol, "RTP/SAVP");
  const keyMgmt = media.attributes.find((a) => a.name === "key-mgmt")!.value!;
  const m = parseKeyMgmt(keyMgmt)!;
  // The crypto session names the SSRC of a=ssrc, from ROC 0.
  assert.deepEqual(m.sessions, [{ policy: 0, ssrc: 2009806444, roc: 0 }]);
  assert.equal(m.master.key.length, 16);
  assert.equal(m.master.salt.length, 14);
  // Its own SRTP context reads what one made with that key sends.
  const tx = new SrtpContext(m.master);
  const rx = new SrtpContext(m.master, {
    rocs: new Map(m.sessions.map((c) => [c.ssrc, c.roc])),
  });
  const rtp = hex("80 60 0001 00000000 77cb366c | 0102030405");
  assert.deepEqual(rx.unprotectRtp(tx.protectRtp(rtp)), rtp);
});
