// SRTP (AES_CM_128_HMAC_SHA1_80) on 1200-byte RTP packets: 1 000 packets per
// iteration, so packets per second = 1 000 ÷ time per iteration.
import { randomMasterKey, SrtpContext } from "../lib/srtp/mod.ts";

const PACKETS = 1000;
const master = randomMasterKey();
const plain = Array.from({ length: PACKETS }, (_, i) => {
  const p = new Uint8Array(1200).fill(0x5a);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = (i >> 8) & 0xff;
  p[3] = i & 0xff;
  p[11] = 1;
  return p;
});
const sender = new SrtpContext(master);
const protectedPackets = plain.map((p) => sender.protectRtp(p));
const rtcp = new Uint8Array(52);
rtcp.set([0x80, 200, 0, 12, 0, 0, 0, 1]);

Deno.bench(
  { group: "SRTP 1000 × 1200 B", name: "protect", baseline: true },
  () => {
    const tx = new SrtpContext(master);
    for (const p of plain) tx.protectRtp(p);
  },
);
Deno.bench({ group: "SRTP 1000 × 1200 B", name: "unprotect" }, () => {
  const rx = new SrtpContext(master); // a fresh replay window each time
  for (const p of protectedPackets) rx.unprotectRtp(p);
});
Deno.bench(
  { group: "SRTCP 1000 × 52 B sender reports", name: "protect" },
  () => {
    const tx = new SrtpContext(master);
    for (let i = 0; i < PACKETS; i++) tx.protectRtcp(rtcp);
  },
);
