import assert from "node:assert/strict";
import fc from "fast-check";
import { AesCounter } from "../../lib/srtp/_cipher.ts";
import {
  deriveSessionKeys,
  SrtpContext,
  SrtpError,
  type SrtpMasterKey,
} from "../../lib/srtp/mod.ts";
import { hex } from "../_util/bytes.ts";

// RFC 3711 Appendix B.3: key derivation with a key derivation rate of 0
Deno.test("deriveSessionKeys gives the session keys of RFC 3711 B.3", () => {
  const master = {
    key: hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
    salt: hex("0EC675AD498AFEEBB6960B3AABE6"),
  };
  const k = deriveSessionKeys(master, false);
  assert.deepEqual(k.encryption, hex("C61E7A93744F39EE10734AFE3FF7A087"));
  assert.deepEqual(k.salt, hex("30CBBC08863D8C85D49DB34A9AE1"));
  assert.deepEqual(k.auth, hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
});

// RFC 3711 Appendix B.2: the AES-CM keystream of session key and salt at SSRC 0, index 0
Deno.test("AesCounter gives the keystream of RFC 3711 B.2", () => {
  const aes = new AesCounter(hex("2B7E151628AED2A6ABF7158809CF4F3C"));
  const iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD 0000");
  const ks = aes.keystream(iv, 0xff02 * 16);
  const block = (i: number) => ks.subarray(i * 16, i * 16 + 16);
  assert.deepEqual(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
  assert.deepEqual(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
  assert.deepEqual(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
  assert.deepEqual(block(0xfeff), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
  assert.deepEqual(block(0xff00), hex("362B7C3C6773516318A077D7FC5073AE"));
  assert.deepEqual(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
});

const MASTER: SrtpMasterKey = {
  key: hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
  salt: hex("0EC675AD498AFEEBB6960B3AABE6"),
};

/** An RTP packet: V=2, CC CSRCs, an optional extension of `ext` words. */
function rtp(
  o: {
    seq: number;
    ssrc: number;
    payload: Uint8Array;
    cc?: number;
    ext?: number;
  },
): Uint8Array {
  const cc = o.cc ?? 0;
  const ext = o.ext === undefined ? 0 : 4 + 4 * o.ext;
  const out = new Uint8Array(12 + 4 * cc + ext + o.payload.length);
  out[0] = 0x80 | (o.ext === undefined ? 0 : 0x10) | cc;
  out[1] = 96;
  out[2] = o.seq >>> 8;
  out[3] = o.seq & 0xff;
  new DataView(out.buffer).setUint32(8, o.ssrc >>> 0);
  if (o.ext !== undefined) {
    out[12 + 4 * cc] = 0xbe;
    out[13 + 4 * cc] = 0xde;
    out[15 + 4 * cc] = o.ext;
  }
  out.set(o.payload, 12 + 4 * cc + ext);
  return out;
}

const packetArb = fc.record({
  seq: fc.integer({ min: 0, max: 0xffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 1400 }),
  cc: fc.integer({ min: 0, max: 15 }),
  ext: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
});

Deno.test("SrtpContext round-trips any RTP packet, header left in the clear", () => {
  fc.assert(
    fc.property(packetArb, fc.integer({ min: 0, max: 0xffff }), (p, roc) => {
      const plain = rtp(p);
      const srtp = new SrtpContext(MASTER).protectRtp(plain, roc);
      const header = plain.length - p.payload.length;
      assert.deepEqual(srtp.subarray(0, header), plain.subarray(0, header));
      const rx = new SrtpContext(MASTER, { rocs: new Map([[p.ssrc, roc]]) });
      assert.deepEqual(rx.unprotectRtp(srtp), plain);
    }),
    { numRuns: 200 },
  );
});

Deno.test("SrtpContext refuses an SRTP packet with any bit flipped", () => {
  fc.assert(
    fc.property(packetArb, fc.nat(), (p, at) => {
      const srtp = new SrtpContext(MASTER).protectRtp(rtp(p));
      const bit = at % (srtp.length * 8);
      srtp[bit >> 3]! ^= 1 << (bit & 7);
      assert.throws(
        () => new SrtpContext(MASTER).unprotectRtp(srtp),
        (e) => e instanceof SrtpError,
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("SrtpContext refuses a replayed packet and one older than the window", () => {
  const tx = new SrtpContext(MASTER);
  const rx = new SrtpContext(MASTER);
  const packets = Array.from(
    { length: 300 },
    (_, i) =>
      tx.protectRtp(rtp({ seq: i, ssrc: 5, payload: new Uint8Array(20) })),
  );
  for (const p of packets.slice(150)) rx.unprotectRtp(p);
  assert.throws(() => rx.unprotectRtp(packets[200]!), { reason: "replay" });
  assert.throws(() => rx.unprotectRtp(packets[0]!), { reason: "replay" });
  // Inside the window and never seen: accepted late (UDP reorders).
  const rx2 = new SrtpContext(MASTER);
  rx2.unprotectRtp(packets[10]!);
  rx2.unprotectRtp(packets[12]!);
  rx2.unprotectRtp(packets[11]!);
  assert.throws(() => rx2.unprotectRtp(packets[11]!), { reason: "replay" });
});

Deno.test("SrtpContext follows the ROC across sequence wraps, with reordering", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 64 }),
      (start, perms) => {
        const tx = new SrtpContext(MASTER);
        const n = 200_000; // more than three wraps
        const sent: Uint8Array[] = [];
        // Every 31st packet is received (a lossy link), sent with its ROC.
        for (
          let i = 0;
          i < n;
          i += i + 31 >= n && i !== n - 1 ? n - 1 - i : 31
        ) {
          const seq = (start + i) & 0xffff;
          const plain = rtp({ seq, ssrc: 9, payload: new Uint8Array(4) });
          sent.push(tx.protectRtp(plain, Math.floor((start + i) / 0x10000)));
        }
        // Blocks of three after the first packet arrive in one of their six orders.
        const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [
          2,
          1,
          0,
        ]];
        const order = [0];
        for (let b = 1; b < sent.length; b += 3) {
          const perm = orders[perms[(b / 3) % perms.length | 0]!]!;
          for (const k of perm) if (b + k < sent.length) order.push(b + k);
        }
        const rx = new SrtpContext(MASTER);
        for (const i of order) rx.unprotectRtp(sent[i]!);
        assert.equal(rx.roc(9), Math.floor((start + n - 1) / 0x10000));
      },
    ),
    { numRuns: 5 },
  );
});

Deno.test("SrtpContext counts the sender's ROC up at each sequence wrap", () => {
  const tx = new SrtpContext(MASTER);
  const rx = new SrtpContext(MASTER);
  for (let i = 0; i < 0x10000 + 30; i++) {
    const p = tx.protectRtp(
      rtp({ seq: (0xfff0 + i) & 0xffff, ssrc: 4, payload: new Uint8Array(0) }),
    );
    if (i % 1000 === 0 || i > 0x10000) rx.unprotectRtp(p);
  }
  assert.equal(tx.roc(4), 2);
  assert.equal(rx.roc(4), 2);
});

Deno.test("SrtpContext round-trips SRTCP and refuses replays and flipped bits", () => {
  const tx = new SrtpContext(MASTER);
  const rx = new SrtpContext(MASTER);
  // RFC 3550 §6.4.2: an empty receiver report from SSRC 0x01020304
  const rr = hex(
    "81 c9 0007 01020304 | 00000000 00000000 00000000 00000000 00000000 00000000",
  );
  const a = tx.protectRtcp(rr);
  const b = tx.protectRtcp(rr);
  assert.equal(a.length, rr.length + 14);
  assert.notDeepEqual(a, b); // a new index, a new keystream
  assert.equal(a[rr.length]! & 0x80, 0x80); // E: encrypted
  assert.deepEqual(rx.unprotectRtcp(b), rr);
  assert.deepEqual(rx.unprotectRtcp(a), rr);
  assert.throws(() => rx.unprotectRtcp(a), { reason: "replay" });
  for (let bit = 0; bit < a.length * 8; bit += 7) {
    const c = tx.protectRtcp(rr);
    c[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(() => rx.unprotectRtcp(c), (e) => e instanceof SrtpError);
  }
});

Deno.test("SrtpContext gives only SrtpErrors for random and mutated packets", () => {
  const tx = new SrtpContext(MASTER);
  const good = tx.protectRtp(
    rtp({ seq: 1, ssrc: 1, payload: new Uint8Array(50) }),
  );
  const goodRtcp = tx.protectRtcp(hex("80 c9 0001 00000001"));
  const mutated = (base: Uint8Array) =>
    fc.tuple(
      fc.nat(base.length),
      fc.uint8Array({ maxLength: 8 }),
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
        fc.uint8Array({ maxLength: 200 }),
        mutated(good),
        mutated(goodRtcp),
      ),
      (bytes) => {
        const rx = new SrtpContext(MASTER);
        for (
          const f of [
            () => rx.unprotectRtp(bytes),
            () => rx.unprotectRtcp(bytes),
          ]
        ) {
          try {
            f();
          } catch (e) {
            if (!(e instanceof SrtpError)) throw e;
          }
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("SrtpContext keeps state for a bounded number of SSRCs, only after authentication", () => {
  const rx = new SrtpContext(MASTER, { maxSsrcs: 2 });
  const forged = rtp({ seq: 1, ssrc: 77, payload: new Uint8Array(30) });
  for (let ssrc = 100; ssrc < 200; ssrc++) {
    forged[11] = ssrc;
    assert.throws(
      () => rx.unprotectRtp(new Uint8Array([...forged, ...new Uint8Array(10)])),
      { reason: "auth" },
    );
  }
  const tx = new SrtpContext(MASTER);
  for (const ssrc of [1, 2]) {
    rx.unprotectRtp(
      tx.protectRtp(rtp({ seq: 1, ssrc, payload: new Uint8Array(4) })),
    );
  }
  assert.throws(
    () =>
      rx.unprotectRtp(
        tx.protectRtp(rtp({ seq: 1, ssrc: 3, payload: new Uint8Array(4) })),
      ),
    { reason: "limit" },
  );
});
